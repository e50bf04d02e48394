//! Choosing a backend from a store spec (`--store`, `KILN_STORE`): `file:<dir>` or a plain
//! directory, `memory`, or `redis://host:port/db[?deployment=<name>]`.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use kiln_wire::store::StoreError;

use super::redis::{RedisConfig, RedisOpenError, RedisStore};
use super::{Blocking, FileStore, KvStore, MemoryStore};

/// Which backend to use and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreSpec {
    /// The file store rooted at this directory.
    File(PathBuf),
    /// A store in this process's memory (gone when it exits).
    Memory,
    /// A Redis server shared by every process of a deployment.
    Redis {
        /// The server URL (`redis://[user:password@]host[:port][/db]`), without Kiln's own
        /// query parameters.
        url: String,
        /// The deployment name: every key lives under `kiln:{deployment}:`.
        deployment: String,
    },
}

/// Why a store spec does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid store {spec:?}: {why} (use file:<dir>, a directory, memory, or redis://host:port/db)")]
pub struct SpecError {
    spec: String,
    why: String,
}

impl FromStr for StoreSpec {
    type Err = SpecError;

    fn from_str(spec: &str) -> Result<Self, SpecError> {
        let fail = |why: &str| SpecError { spec: without_password(spec), why: why.to_owned() };
        if spec == "memory" {
            return Ok(Self::Memory);
        }
        if let Some(dir) = spec.strip_prefix("file:") {
            return if dir.is_empty() {
                Err(fail("file: needs a directory"))
            } else {
                Ok(Self::File(dir.into()))
            };
        }
        let Some((scheme, _)) = spec.split_once("://") else {
            return if spec.is_empty() { Err(fail("empty")) } else { Ok(Self::File(spec.into())) };
        };
        match scheme {
            "redis" => {}
            "rediss" => {
                return Err(fail(
                    "rediss:// (TLS) is not built into this kiln; reach Redis over redis:// on a trusted \
                     network or through a TLS tunnel",
                ));
            }
            _ => return Err(fail(&format!("unknown scheme {scheme}://"))),
        }
        let mut url = url::Url::parse(spec).map_err(|e| fail(&e.to_string()))?;
        let mut deployment = "default".to_owned();
        let mut rest = Vec::new();
        for (k, v) in url.query_pairs() {
            if k == "deployment" {
                deployment = v.into_owned();
            } else {
                rest.push((k.into_owned(), v.into_owned()));
            }
        }
        if rest.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(rest);
        }
        // Let the client check the rest (host, port, database number) now, not at connect.
        redis::Client::open(url.as_str()).map_err(|e| fail(&e.to_string()))?;
        Ok(Self::Redis { url: url.into(), deployment })
    }
}

/// `spec` with a URL's password masked, for messages.
fn without_password(spec: &str) -> String {
    match url::Url::parse(spec) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.into()
        }
        _ => spec.to_owned(),
    }
}

/// What opening a store needs besides its spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenOptions {
    /// The builder's inactivity timeout; with Redis, live sessions expire this much plus
    /// [`OpenOptions::session_grace`] after their last write.
    pub idle_timeout: Duration,
    /// How long an idle session stays in Redis past the idle timeout, so the expiry sweep
    /// can archive it first.
    pub session_grace: Duration,
}

impl OpenOptions {
    /// The default grace: a week.
    pub const DEFAULT_GRACE: Duration = Duration::from_secs(7 * 24 * 3600);

    /// These options for `idle_timeout`, with the default grace.
    pub fn new(idle_timeout: Duration) -> Self {
        Self { idle_timeout, session_grace: Self::DEFAULT_GRACE }
    }
}

/// A store spec with the options to open it: what a process chose at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreChoice {
    /// Which backend, where.
    pub spec: StoreSpec,
    /// How to open it.
    pub options: OpenOptions,
}

impl StoreChoice {
    /// Opens the chosen store (see [`StoreSpec::open`]).
    pub async fn open(&self) -> Result<Arc<dyn KvStore>, OpenError> {
        self.spec.open(self.options).await
    }
}

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The file store's directory is unusable.
    #[error("opening the store at {dir}: {source}")]
    File {
        /// The directory.
        dir: String,
        /// What went wrong.
        source: StoreError,
    },
    /// Redis is misconfigured or unreachable.
    #[error(transparent)]
    Redis(#[from] RedisOpenError),
}

impl StoreSpec {
    /// Opens the store; for Redis, connects and checks that it answers.
    pub async fn open(&self, options: OpenOptions) -> Result<Arc<dyn KvStore>, OpenError> {
        Ok(match self {
            Self::File(dir) => Arc::new(Blocking::new(
                FileStore::open(dir)
                    .map_err(|source| OpenError::File { dir: dir.display().to_string(), source })?,
            )),
            Self::Memory => Arc::new(MemoryStore::new()),
            Self::Redis { url, deployment } => {
                let config = RedisConfig {
                    deployment: deployment.clone(),
                    session_ttl: Some(options.idle_timeout.saturating_add(options.session_grace)),
                    ..RedisConfig::new(url.clone())
                };
                Arc::new(RedisStore::connect(&config).await?)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redis(url: &str, deployment: &str) -> StoreSpec {
        StoreSpec::Redis { url: url.into(), deployment: deployment.into() }
    }

    #[test]
    fn specs_parse() {
        let parse = |s: &str| s.parse::<StoreSpec>();
        assert_eq!(parse("memory"), Ok(StoreSpec::Memory));
        assert_eq!(parse("file:/var/kiln"), Ok(StoreSpec::File("/var/kiln".into())));
        assert_eq!(parse(".artificer"), Ok(StoreSpec::File(".artificer".into())));
        assert_eq!(parse("redis://127.0.0.1:6379/0"), Ok(redis("redis://127.0.0.1:6379/0", "default")));
        assert_eq!(
            parse("redis://:pw@h:7000/3?deployment=prod-eu"),
            Ok(redis("redis://:pw@h:7000/3", "prod-eu"))
        );
        assert_eq!(
            parse("redis://h/1?protocol=resp3&deployment=x"),
            Ok(redis("redis://h/1?protocol=resp3", "x"))
        );
        let err = parse("redis://:pw@h/x").expect_err("bad db");
        assert!(!err.to_string().contains("pw"), "{err}");
        for bad in ["", "file:", "http://h", "redis://h/notanumber", "rediss://h:6379/0"] {
            let err = parse(bad).expect_err(bad);
            assert!(err.to_string().contains("invalid store"), "{bad}: {err}");
        }
    }

    #[tokio::test]
    async fn an_unreachable_redis_is_a_clear_error() {
        let port = kiln_tests::fake_http::refused_port();
        let spec: StoreSpec = format!("redis://127.0.0.1:{port}/0").parse().expect("spec");
        let started = std::time::Instant::now();
        let err = spec.open(OpenOptions::new(Duration::from_secs(60))).await.err().expect("unreachable");
        let message = err.to_string();
        assert!(message.contains(&format!("cannot reach Redis at redis://127.0.0.1:{port}/0")), "{message}");
        assert!(message.contains("Start redis-server"), "{message}");
        assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    }
}
