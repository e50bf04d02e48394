//! Who is calling: `Authorization: Bearer <key>` maps to a tenant (keys are compared by
//! their SHA-256 hash; only hashes are configured), `X-Kiln-User` names the user (unless the
//! tenant is configured with `users: key`). Without configured tenants there is one local
//! tenant and no key is needed. The queue a request sees is the tenant's, or the user's
//! with `queue: user`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use kiln_engine::imports::Imports;
use kiln_store::{KvStore, TenantStore};
use kiln_wire::builder::Caller;

use super::config::{QueueScope, ServerConfig, Users, hash_key};
use super::{ApiError, AppState};

/// The user when a request names none (also the CLI's default user).
pub const DEFAULT_USER: &str = "local";
/// The tenant id of a server without keys.
pub const LOCAL_TENANT: &str = "local";

/// API keys by hash.
pub struct Auth {
    /// Key hash -> tenant; empty means the local tenant.
    keys: HashMap<String, String>,
    /// Every tenant (`None`: the local one).
    tenants: Vec<Option<String>>,
    /// How each configured tenant tells its users apart and scopes its queue.
    models: HashMap<String, (Users, QueueScope)>,
}

impl Auth {
    /// From the configuration.
    pub fn new(config: &ServerConfig) -> Self {
        let keys = config
            .tenants
            .iter()
            .flat_map(|(tenant, t)| t.api_keys.iter().map(move |h| (h.to_ascii_lowercase(), tenant.clone())))
            .collect();
        let mut tenants: Vec<Option<String>> = config.tenants.keys().cloned().map(Some).collect();
        if tenants.is_empty() {
            tenants.push(None);
        }
        let models = config.tenants.iter().map(|(tenant, t)| (tenant.clone(), (t.users, t.queue))).collect();
        Self { keys, tenants, models }
    }

    /// How `tenant` tells its users apart and scopes its queue (the local tenant: by header,
    /// one queue).
    fn model(&self, tenant: Option<&str>) -> (Users, QueueScope) {
        tenant.and_then(|t| self.models.get(t)).copied().unwrap_or_default()
    }

    /// Every tenant this server serves (`None`: the local one).
    pub fn tenants(&self) -> &[Option<String>] {
        &self.tenants
    }

    /// No tenants configured.
    pub fn is_local(&self) -> bool {
        self.keys.is_empty()
    }

    /// How many tenants.
    pub fn tenant_count(&self) -> usize {
        self.tenants.len()
    }

    /// The tenant for an `Authorization` header value.
    fn tenant(&self, header: Option<&str>) -> Result<Option<String>, ApiError> {
        if self.is_local() {
            return Ok(None);
        }
        let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
        let header = header.ok_or_else(|| {
            unauthorized("this server needs an API key: send `Authorization: Bearer <key>`")
        })?;
        // The scheme is case-insensitive (RFC 9110 §11.1).
        let key = header
            .get(..7)
            .filter(|scheme| scheme.eq_ignore_ascii_case("bearer "))
            .and_then(|_| header.get(7..))
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <key>`"))?;
        // Hashes, not keys, are compared: the configured secrets never sit in memory.
        self.keys
            .get(&hash_key(key))
            .cloned()
            .map(Some)
            .ok_or_else(|| unauthorized("the API key is not valid for any tenant on this server"))
    }
}

/// An authenticated caller with its tenant-scoped imports.
pub struct Authed {
    /// Tenant and user.
    pub caller: Caller,
    /// `None` for the local tenant.
    pub tenant: Option<String>,
    /// The store scoped to the tenant, with the server's clock, randomness and LLM.
    pub imports: Imports,
    /// The same imports with the store of the caller's queue (the tenant's, or the user's
    /// with `queue: user`).
    pub queue: Imports,
}

impl Authed {
    /// The caller's part of `root`.
    pub fn scope(root: Arc<dyn KvStore>, tenant: Option<&str>) -> Arc<dyn KvStore> {
        match tenant {
            None => Arc::new(TenantStore::local(root)),
            Some(t) => Arc::new(TenantStore::tenant(root, t)),
        }
    }

    /// The imports of `tenant`/`user` on `state` (also used by the OAuth callback, which
    /// learns the caller from its stored state rather than from a header).
    pub fn for_caller(state: &AppState, tenant: Option<String>, user: String) -> Self {
        let mut imports = state.0.base.clone();
        imports.store = Self::scope(Arc::clone(&state.0.base.store), tenant.as_deref());
        let mut queue = imports.clone();
        if let (Some(t), (_, QueueScope::User)) = (tenant.as_deref(), state.0.auth.model(tenant.as_deref())) {
            queue.store = Arc::new(TenantStore::user(Arc::clone(&state.0.base.store), t, &user));
        }
        let caller =
            Caller { tenant_id: tenant.clone().unwrap_or_else(|| LOCAL_TENANT.into()), user_id: user };
        Self { caller, tenant, imports, queue }
    }
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let tenant = state.0.auth.tenant(header("authorization"))?;
        if state.0.auth.model(tenant.as_deref()).0 == Users::Key && parts.headers.contains_key("x-kiln-user")
        {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this tenant is configured with `users: key`: everyone holding its key is one user, \
                 so X-Kiln-User is not accepted; leave it out",
            ));
        }
        let user = header("x-kiln-user").map(str::trim).unwrap_or(DEFAULT_USER);
        if user.is_empty() || user.len() > 256 {
            return Err(ApiError::invalid("X-Kiln-User must be 1 to 256 characters"));
        }
        Ok(Self::for_caller(state, tenant, user.to_owned()))
    }
}
