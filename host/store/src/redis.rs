//! The Redis backend: several Kiln processes (or machines) share one store.
//!
//! Layout, for deployment `D` (every Redis key starts with `kiln:{D}:`, a hash tag, so a
//! deployment's keys share one Redis Cluster slot and the scripts may touch all of them):
//!
//! - `kiln:{D}:k:<key>`: a hash per store key, `v` = the bytes, `n` = their version;
//! - `kiln:{D}:seq`: the deployment's version counter (`INCR` on every write, so a version
//!   is never reused, even after a delete and re-create);
//! - `kiln:{D}:index`: a sorted set of every key (all at score 0), so a prefix listing is a
//!   `ZRANGEBYLEX` range instead of `KEYS` or a `SCAN` of the whole database.
//!
//! Writes and deletes are Lua scripts (`EVALSHA`, loaded on `NOSCRIPT`): the precondition
//! check, the new version, the value, the index and the TTL change in one atomic step, so a
//! conflict writes nothing and an outage never leaves half a write.
//!
//! Sessions (`…sessions/<id>.json`, not under `archive/`) get a TTL of the idle timeout
//! plus a grace period, refreshed by every write (a turn writes its session). Expiry that
//! the user sees is the builder's: the expiry sweep and the next turn archive an idle
//! session to `archive/sessions/`, which has no TTL. The Redis TTL only reclaims sessions
//! that no sweep archived within the grace period (docs/stores.md). OAuth records
//! (`kiln-host/oauth/…`) get [`OAUTH_RECORD_TTL`] the same way.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use kiln_wire::store::validate_key;
use kiln_wire::store::{Entry, Precondition, StoreError, Version};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisError, Script};

use super::{KvStore, OAUTH_RECORDS};

/// How long an OAuth record (`kiln-host/oauth/…`) lives in Redis at most: the longest
/// `--oauth-ttl-minutes` allowed. The server's sweep removes expired records sooner; this
/// only reclaims what no sweep reached.
pub const OAUTH_RECORD_TTL: Duration = Duration::from_secs(24 * 3600);

/// Where outage and recovery messages go.
pub type HealthLog = Arc<dyn Fn(&str) + Send + Sync>;

/// Whether Redis answered last time: an outage and the recovery are logged once each,
/// not once per failed request.
struct Health {
    up: AtomicBool,
    log: HealthLog,
}

impl Health {
    fn answered(&self, shown: &str) {
        if !self.up.swap(true, Ordering::SeqCst) {
            (self.log)(&format!("kiln: Redis at {shown} answers again; requests are served"));
        }
    }

    fn failed(&self, shown: &str, e: &RedisError) {
        let unreachable =
            e.is_io_error() || e.is_connection_dropped() || e.is_timeout() || e.is_connection_refusal();
        if unreachable && self.up.swap(false, Ordering::SeqCst) {
            (self.log)(&format!(
                "kiln: Redis at {shown} does not answer ({e}); requests fail with a store error until it is back"
            ));
        }
    }
}

/// How to reach a Redis store and what to keep there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// `redis://[user:password@]host[:port][/db]`.
    pub url: String,
    /// The deployment: every key lives under `kiln:{deployment}:`.
    pub deployment: String,
    /// The TTL of live session keys (idle timeout + grace); `None` keeps them forever.
    pub session_ttl: Option<Duration>,
    /// How long one connection attempt may take.
    pub connect_timeout: Duration,
    /// How long one command may wait for its answer.
    pub response_timeout: Duration,
}

impl RedisConfig {
    /// The defaults for `url`: deployment `default`, no session TTL, 2 s to connect, 5 s
    /// per command.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            deployment: "default".into(),
            session_ttl: None,
            connect_timeout: Duration::from_secs(2),
            response_timeout: Duration::from_secs(5),
        }
    }

    /// The URL without its password, for messages.
    pub fn shown_url(&self) -> String {
        match url::Url::parse(&self.url) {
            Ok(mut u) => {
                if u.password().is_some() {
                    let _ = u.set_password(Some("***"));
                }
                u.to_string()
            }
            Err(_) => "the Redis URL (unparsable)".into(),
        }
    }
}

/// Why a Redis store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum RedisOpenError {
    /// The URL or the deployment name is not usable.
    #[error("invalid Redis store {url}: {why}")]
    Invalid {
        /// The URL, without password.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// Redis did not answer.
    #[error(
        "cannot reach Redis at {url}: {why}. Start redis-server there (or fix --store / KILN_STORE) and try again"
    )]
    Unreachable {
        /// The URL, without password.
        url: String,
        /// What the client reported.
        why: String,
    },
}

/// A [`KvStore`] in Redis, shared by every process of a deployment.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    /// `kiln:{deployment}:`.
    prefix: String,
    /// The URL without password, for messages.
    shown: String,
    /// TTL of live session keys in milliseconds; 0 = none.
    session_ttl_ms: u64,
    health: Arc<Health>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").field("url", &self.shown).field("prefix", &self.prefix).finish()
    }
}

/// Put: `KEYS` = data, index, seq; `ARGV` = mode, expected version, value, key, TTL ms.
/// Returns the new version, or -1 when the precondition fails.
const PUT: &str = include_str!("../lua/put.lua");

/// Delete: `KEYS` = data, index; `ARGV` = mode, expected version, key.
/// Returns 1 (deleted), 0 (was absent) or -1 (precondition failed).
const DELETE: &str = include_str!("../lua/delete.lua");

/// One page of a listing: `KEYS` = index; `ARGV` = min, max, page size, data key prefix.
/// Returns {members scanned, last member scanned, live members}; members whose data has
/// expired are dropped from the index on the way (atomically, so a concurrent put that
/// re-creates one is never unindexed).
const LIST_PAGE: &str = include_str!("../lua/list_page.lua");

/// Keys per listing page: one script call stays short however many keys there are.
const LIST_PAGE_SIZE: usize = 512;

/// The scripts, hashed once.
struct Scripts {
    put: Script,
    delete: Script,
    list_page: Script,
}

fn scripts() -> &'static Scripts {
    static SCRIPTS: std::sync::OnceLock<Scripts> = std::sync::OnceLock::new();
    SCRIPTS.get_or_init(|| Scripts {
        put: Script::new(PUT),
        delete: Script::new(DELETE),
        list_page: Script::new(LIST_PAGE),
    })
}

/// Whether `key` is a live builder session (`sessions/<id>` under any scope, not archived).
fn is_live_session(key: &str) -> bool {
    let mut segments = key.rsplit('/').skip(1);
    segments.next() == Some("sessions") && segments.next() != Some("archive")
}

/// The precondition as script arguments (mode, expected version).
fn precondition_args(expected: Precondition) -> (&'static str, String) {
    match expected {
        Precondition::Any => ("any", String::new()),
        Precondition::Absent => ("absent", String::new()),
        Precondition::Matches(v) => ("matches", v.to_string()),
    }
}

impl RedisStore {
    /// Connects (with the configured timeouts and automatic reconnects) and checks with a
    /// `PING` that Redis answers.
    pub async fn connect(config: &RedisConfig) -> Result<Self, RedisOpenError> {
        let shown = config.shown_url();
        let invalid = |why: String| RedisOpenError::Invalid { url: shown.clone(), why };
        if config.deployment.is_empty()
            || config.deployment.len() > 64
            || !config.deployment.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(invalid(format!(
                "deployment {:?} must be 1 to 64 characters of A-Z a-z 0-9 . _ -",
                config.deployment
            )));
        }
        let client = redis::Client::open(config.url.as_str()).map_err(|e| invalid(e.to_string()))?;
        let unreachable =
            |e: RedisError| RedisOpenError::Unreachable { url: shown.clone(), why: e.to_string() };
        // Few, short retries: during an outage a request should fail fast with a clear
        // error rather than hang; the next request tries to reconnect again.
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(Some(config.response_timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(250));
        let conn = ConnectionManager::new_with_config(client, manager_config).await.map_err(unreachable)?;
        let store = Self {
            conn,
            prefix: format!("kiln:{{{}}}:", config.deployment),
            shown: shown.clone(),
            session_ttl_ms: config
                .session_ttl
                .map_or(0, |ttl| u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)),
            health: Arc::new(Health { up: AtomicBool::new(true), log: Arc::new(|m| eprintln!("{m}")) }),
        };
        store.ping().await.map_err(unreachable)?;
        Ok(store)
    }

    /// Sends the outage and recovery messages to `log` instead of stderr.
    pub fn log_health_to(&mut self, log: HealthLog) {
        self.health = Arc::new(Health { up: AtomicBool::new(true), log });
    }

    /// The TTL a write gives `key`, in milliseconds (0: none).
    fn ttl_ms(&self, key: &str) -> u64 {
        if is_live_session(key) {
            self.session_ttl_ms
        } else if key.starts_with(OAUTH_RECORDS) {
            u64::try_from(OAUTH_RECORD_TTL.as_millis()).unwrap_or(u64::MAX)
        } else {
            0
        }
    }

    /// Asks Redis for a `PONG`.
    pub async fn ping(&self) -> Result<(), RedisError> {
        redis::cmd("PING").query_async::<String>(&mut self.conn.clone()).await.map(drop)
    }

    /// The Redis key holding `key`'s value and version.
    pub fn data_key(&self, key: &str) -> String {
        format!("{}k:{key}", self.prefix)
    }

    fn index_key(&self) -> String {
        format!("{}index", self.prefix)
    }

    fn seq_key(&self) -> String {
        format!("{}seq", self.prefix)
    }

    /// [`Self::failed`], noting the failure for the outage log (a success notes itself with
    /// `health.answered`).
    fn failed_observed(&self, operation: &str, key: &str, e: RedisError) -> StoreError {
        self.health.failed(&self.shown, &e);
        self.failed(operation, key, e)
    }

    fn failed(&self, operation: &str, key: &str, e: RedisError) -> StoreError {
        StoreError::Backend(format!(
            "Redis at {} failed to {operation} {key:?}: {e}. Check that Redis is running and reachable; \
             Kiln reconnects by itself, so retry once it is back",
            self.shown
        ))
    }
}

#[async_trait]
impl KvStore for RedisStore {
    async fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        validate_key(key)?;
        let (value, version): (Option<Vec<u8>>, Option<String>) = redis::cmd("HMGET")
            .arg(self.data_key(key))
            .arg("v")
            .arg("n")
            .query_async(&mut self.conn.clone())
            .await
            .map_err(|e| self.failed_observed("read", key, e))?;
        self.health.answered(&self.shown);
        match (value, version) {
            (None, None) => Ok(None),
            (Some(value), Some(version)) => match version.parse::<Version>() {
                Ok(version) => Ok(Some(Entry { value, version })),
                Err(_) => Err(self.foreign(key)),
            },
            _ => Err(self.foreign(key)),
        }
    }

    async fn put(&self, key: &str, value: Vec<u8>, expected: Precondition) -> Result<Version, StoreError> {
        validate_key(key)?;
        let (mode, version) = precondition_args(expected);
        let ttl = self.ttl_ms(key);
        let n: i64 = scripts()
            .put
            .key(self.data_key(key))
            .key(self.index_key())
            .key(self.seq_key())
            .arg(mode)
            .arg(version)
            .arg(value)
            .arg(key)
            .arg(ttl)
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(|e| self.failed_observed("write", key, e))?;
        self.health.answered(&self.shown);
        // -1: the precondition did not hold, and nothing was written.
        Version::try_from(n).map_err(|_| StoreError::Conflict)
    }

    async fn delete(&self, key: &str, expected: Precondition) -> Result<bool, StoreError> {
        validate_key(key)?;
        let (mode, version) = precondition_args(expected);
        let outcome: i64 = scripts()
            .delete
            .key(self.data_key(key))
            .key(self.index_key())
            .arg(mode)
            .arg(version)
            .arg(key)
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(|e| self.failed_observed("delete", key, e))?;
        self.health.answered(&self.shown);
        match outcome {
            -1 => Err(StoreError::Conflict),
            n => Ok(n == 1),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        // Keys are ASCII, so byte 0xff sorts after every key that starts with `prefix`.
        let mut min = if prefix.is_empty() { b"-".to_vec() } else { [b"[", prefix.as_bytes()].concat() };
        let max = if prefix.is_empty() { b"+".to_vec() } else { [b"(", prefix.as_bytes(), b"\xff"].concat() };
        let data_prefix = format!("{}k:", self.prefix);
        let mut keys = Vec::new();
        loop {
            let (scanned, last, live): (usize, String, Vec<String>) = scripts()
                .list_page
                .key(self.index_key())
                .arg(&min)
                .arg(&max)
                .arg(LIST_PAGE_SIZE)
                .arg(&data_prefix)
                .invoke_async(&mut self.conn.clone())
                .await
                .map_err(|e| self.failed_observed("list", prefix, e))?;
            self.health.answered(&self.shown);
            keys.extend(live);
            if scanned < LIST_PAGE_SIZE {
                return Ok(keys);
            }
            min = [b"(", last.as_bytes()].concat();
        }
    }

    fn locate(&self, key: &str) -> String {
        format!("{} key {}", self.shown, self.data_key(key))
    }
}

impl RedisStore {
    fn foreign(&self, key: &str) -> StoreError {
        StoreError::Backend(format!(
            "Redis at {} holds {} but not as a Kiln entry (a hash with fields v and n); \
             another program wrote it: use another deployment name, or remove that key",
            self.shown,
            self.data_key(key)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_get_a_ttl_and_archives_do_not() {
        assert!(is_live_session("sessions/abc.json"));
        assert!(is_live_session("tenants/acme/sessions/abc.json"));
        assert!(!is_live_session("archive/sessions/abc.json"));
        assert!(!is_live_session("tenants/acme/archive/sessions/abc.json"));
        assert!(!is_live_session("sessions"));
        assert!(!is_live_session("conversations/index.json"));
        assert!(!is_live_session("agents/x.json"));
    }

    #[test]
    fn the_shown_url_hides_the_password() {
        let c = RedisConfig::new("redis://user:s3cret@10.0.0.1:6380/2");
        assert_eq!(c.shown_url(), "redis://user:***@10.0.0.1:6380/2");
        assert_eq!(RedisConfig::new("redis://127.0.0.1:6379/0").shown_url(), "redis://127.0.0.1:6379/0");
    }
}
