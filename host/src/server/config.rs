//! `kiln serve`'s configuration: tenants and their API keys (hashed), OAuth providers, the
//! public URL browsers use, and request limits. From a YAML file and the environment.

use std::collections::BTreeMap;
use std::path::Path;

use kiln_wire::builder::Provider;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Why the configuration is unusable.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid configuration.
    #[error("{path}: {message}. See docs/server.md for the format")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong, with the line when known.
        message: String,
    },
    /// A value is wrong.
    #[error("{0}")]
    Invalid(String),
}

/// One tenant.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// SHA-256 hashes of the tenant's API keys, as `sha256:<64 hex>` (`kiln hash-key`
    /// prints one). Keys themselves are never stored.
    #[serde(default)]
    pub api_keys: Vec<String>,
    /// Who the tenant's users are.
    #[serde(default)]
    pub users: Users,
    /// Whose conversation queue a request sees.
    #[serde(default)]
    pub queue: QueueScope,
}

/// How a tenant's users are told apart (docs/server.md, "Threat model").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Users {
    /// `X-Kiln-User` names the user, on the word of whoever holds the tenant's key: for a
    /// backend that signs its own users in and speaks for them.
    #[default]
    Header,
    /// Everyone holding the key is one user (`local`); a request naming another user is
    /// refused (403).
    Key,
}

/// Whose queue of conversations a request sees.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueueScope {
    /// One queue per tenant, shared by its users (workflows hand conversations to people).
    #[default]
    Tenant,
    /// One queue per user.
    User,
}

/// An OAuth provider for one integration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OauthProviderConfig {
    /// The provider's authorization endpoint.
    pub authorize_url: String,
    /// The provider's token endpoint.
    pub token_url: String,
    /// This server's client id at the provider.
    pub client_id: String,
    /// The environment variable holding the client secret (public clients have none).
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// Scopes to ask for instead of the integration's defaults.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// The integration's default scopes, from the guest's catalog
    /// ([`ServerConfig::check_oauth_providers`]); not configurable.
    #[serde(skip)]
    pub default_scopes: Vec<String>,
}

/// Limits on requests.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// The largest request body, in bytes.
    pub max_body_bytes: usize,
    /// The most OAuth connection attempts in progress at once, across tenants (each is a
    /// record of a few KB until its callback or its expiry).
    pub max_pending_oauth: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self { max_body_bytes: 1 << 20, max_pending_oauth: 1000 }
    }
}

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Where browsers reach this server (the base of the OAuth `redirect_uri`); defaults to
    /// `http://<bind address>`.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Tenants by id. None configured: one local tenant, no keys, loopback only.
    #[serde(default)]
    pub tenants: BTreeMap<String, TenantConfig>,
    /// OAuth providers by integration id (`gmail`, `slack`, ...). An integration without one
    /// is connected by a simulated consent (`POST /v1/sessions/{id}/oauth`).
    #[serde(default)]
    pub oauth: BTreeMap<String, OauthProviderConfig>,
    /// Request limits.
    #[serde(default)]
    pub limits: LimitsConfig,
}

/// The hash a key is stored as: `sha256:<hex>`.
pub fn hash_key(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn valid_segment(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && id.starts_with(|c: char| c.is_ascii_alphanumeric())
}

impl ServerConfig {
    /// Reads `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses YAML text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let config: ServerConfig = if text.trim().is_empty() {
            ServerConfig::default()
        } else {
            serde_norway::from_str(text)
                .map_err(|e| ConfigError::Parse { path: origin.to_owned(), message: e.to_string() })?
        };
        config.validate()?;
        Ok(config)
    }

    /// Adds tenants' key hashes from `KILN_API_KEYS`-style text: `tenant=sha256:<hex>`
    /// entries separated by commas.
    pub fn add_env_keys(&mut self, text: &str) -> Result<(), ConfigError> {
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (tenant, hash) = entry.split_once('=').ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "KILN_API_KEYS entry {entry:?} is not `tenant=sha256:<hex>`; print a hash with `kiln hash-key`"
                ))
            })?;
            self.tenants.entry(tenant.trim().to_owned()).or_default().api_keys.push(hash.trim().to_owned());
        }
        self.validate()
    }

    /// Checks that every configured OAuth provider is an integration of the guest's catalog
    /// that needs OAuth, and takes its default scopes from there: the host keeps no copy
    /// of the catalog.
    pub fn check_oauth_providers(&mut self, catalog: &[Provider]) -> Result<(), ConfigError> {
        for (id, p) in &mut self.oauth {
            let Some(known) = catalog.iter().find(|c| c.id == *id && c.needs_oauth) else {
                let known: Vec<&str> =
                    catalog.iter().filter(|c| c.needs_oauth).map(|c| c.id.as_str()).collect();
                return Err(ConfigError::Invalid(format!(
                    "oauth provider {id:?} is not an integration that needs OAuth; use one of: {}",
                    known.join(", ")
                )));
            };
            p.default_scopes.clone_from(&known.scopes);
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let mut owners: BTreeMap<String, &str> = BTreeMap::new();
        for (tenant, t) in &self.tenants {
            for h in &t.api_keys {
                if let Some(other) = owners.insert(h.to_ascii_lowercase(), tenant)
                    && other != tenant
                {
                    return Err(ConfigError::Invalid(format!(
                        "the key hash {h} is configured for tenants {other:?} and {tenant:?}; a key must belong to one tenant"
                    )));
                }
            }
        }
        for (tenant, t) in &self.tenants {
            if !valid_segment(tenant) {
                return Err(ConfigError::Invalid(format!(
                    "tenant id {tenant:?} must be 1-64 letters, digits, '-' or '_', starting with a letter or digit"
                )));
            }
            if t.api_keys.is_empty() {
                return Err(ConfigError::Invalid(format!("tenant {tenant:?} has no api_keys")));
            }
            for h in &t.api_keys {
                let hex = h.strip_prefix("sha256:").unwrap_or("");
                if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(ConfigError::Invalid(format!(
                        "tenant {tenant:?}: api key entry {h:?} is not `sha256:<64 hex digits>`; store hashes, not keys (`kiln hash-key` prints one)"
                    )));
                }
            }
        }
        for (id, p) in &self.oauth {
            for (what, url) in [("authorize_url", &p.authorize_url), ("token_url", &p.token_url)] {
                if reqwest::Url::parse(url).is_err() {
                    return Err(ConfigError::Invalid(format!("oauth.{id}.{what} {url:?} is not a URL")));
                }
            }
        }
        if let Some(url) = &self.public_url
            && reqwest::Url::parse(url).is_err()
        {
            return Err(ConfigError::Invalid(format!("public_url {url:?} is not a URL")));
        }
        if self.limits.max_body_bytes < 1024 {
            return Err(ConfigError::Invalid("limits.max_body_bytes must be at least 1024".into()));
        }
        if self.limits.max_pending_oauth == 0 {
            return Err(ConfigError::Invalid("limits.max_pending_oauth must be at least 1".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_hashed_and_validated() {
        let h = hash_key("secret");
        assert_eq!(h, "sha256:2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b");
        let mut c = ServerConfig::parse(&format!("tenants:\n  acme:\n    api_keys: [\"{h}\"]\n"), "t")
            .expect("valid");
        c.add_env_keys(&format!("beta={}", hash_key("other"))).expect("env keys");
        assert_eq!(c.tenants.len(), 2);
        // One key for two tenants would serve whichever came last: refused.
        let err = c.add_env_keys(&format!("gamma={h}")).expect_err("a key of two tenants");
        assert!(err.to_string().contains("\"acme\" and \"gamma\""), "{err}");
        let plain = ServerConfig::parse("tenants:\n  acme:\n    api_keys: [\"secret\"]\n", "t");
        assert!(plain.is_err_and(|e| e.to_string().contains("store hashes, not keys")));
        let bad = ServerConfig::parse("tenant:\n  acme: {}\n", "serve.yaml");
        assert!(bad.is_err_and(|e| e.to_string().contains("serve.yaml") && e.to_string().contains("tenant")));
        let twice = ServerConfig::parse(
            &format!(
                "tenants:\n  a: {{ api_keys: [\"{h}\"] }}\n  b: {{ api_keys: [\"{}\"] }}\n",
                h.to_uppercase().replace("SHA256", "sha256")
            ),
            "t",
        );
        assert!(twice.is_err_and(|e| e.to_string().contains("one tenant")));
    }

    /// The OAuth providers are checked against the guest's catalog, which also gives their
    /// default scopes (the host has no catalog of its own).
    #[test]
    fn oauth_providers_come_from_the_guest_catalog() {
        let entry = |id: &str, needs_oauth: bool, scopes: &[&str]| Provider {
            id: id.into(),
            name: id.into(),
            needs_oauth,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        };
        let catalog = [entry("gmail", true, &["gmail.readonly"]), entry("weather", false, &[])];
        let yaml = |id: &str| {
            format!(
                "oauth:\n  {id}: {{ authorize_url: 'http://a/', token_url: 'http://a/t', client_id: c }}\n"
            )
        };
        for id in ["myspace", "weather"] {
            let mut c = ServerConfig::parse(&yaml(id), "t").expect("parses");
            let err = c.check_oauth_providers(&catalog).expect_err(id).to_string();
            assert!(err.contains(id) && err.contains("use one of: gmail"), "{err}");
        }
        let mut c = ServerConfig::parse(&yaml("gmail"), "t").expect("parses");
        c.check_oauth_providers(&catalog).expect("gmail needs OAuth");
        assert_eq!(c.oauth["gmail"].default_scopes, ["gmail.readonly"]);
    }
}
