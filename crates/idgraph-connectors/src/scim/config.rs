//! [`ScimConfig`]: where a SCIM 2.0 service is, its bearer token, and how its users and groups
//! land in idgraph's keys (app, tenant, namespace, entitlement kinds) and rate budget.

use crate::connector::ConnectorError;
use idgraph_http::{RatePlan, Secret};
use serde::Deserialize;
use std::time::Duration;

/// The app names a SCIM connector may report (the `app` of every key it produces).
pub const KNOWN_APPS: &[&str] = &[
    "freshservice",
    "freshdesk",
    "freshsales",
    "freshbooks",
    "helpscout",
    "scim",
];

/// The `'static` spelling of a known app name (`Connector::app` returns one).
pub fn static_app(name: &str) -> Option<&'static str> {
    KNOWN_APPS.iter().copied().find(|a| *a == name)
}

/// A vendor's rate limit: `requests` per `window_secs`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub requests: u32,
    /// Window length in seconds (60 for per-minute plans, 3600 for Freshsales).
    pub window_secs: u64,
}

impl RateLimit {
    pub fn plan(&self) -> RatePlan {
        RatePlan::new(self.requests, Duration::from_secs(self.window_secs))
    }
}

/// A generic SCIM 2.0 connector's settings.
///
/// ```toml
/// app = "helpscout"
/// tenant = "acme"
/// base_url = "https://api.helpscout.net/v2/scim"
/// token = "…"                 # the SCIM bearer token (not the REST key or OAuth token)
/// namespace = "user"
/// group_kind = "team"
/// role_kind = "role"
/// rate_limit = { requests = 400, window_secs = 60 }
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScimConfig {
    /// The app whose accounts these are: one of [`KNOWN_APPS`] (`scim` for any other service).
    pub app: String,
    /// The vendor account (`acme.freshdesk.com`): the `tenant` of every key.
    pub tenant: String,
    /// The SCIM base URL, the part before `/Users` (`https://acme.freshdesk.com/scim/v2`).
    pub base_url: String,
    /// The SCIM bearer token.
    pub token: Secret,
    /// Account namespace of the users (default `scim_user`; `agent`, `user`, … when the SCIM
    /// ids are the app's own account ids).
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// Entitlement kind of SCIM Groups (default `group`; Help Scout teams: `team`).
    #[serde(default = "default_group_kind")]
    pub group_kind: String,
    /// Entitlement kind of the values of a user's `roles` attribute (e.g. `role`); unset: a
    /// user's `roles` are kept in `raw` and its `role` attribute only, not read as grants.
    #[serde(default)]
    pub role_kind: Option<String>,
    /// Whether these users hold a paid seat while active (default true).
    #[serde(default = "yes")]
    pub seat_consuming: bool,
    /// The vendor's rate limit for this account; unset: no client-side pacing (429s are
    /// still honoured).
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// The rate-budget account id, to share one vendor account's budget with its REST
    /// connector (default `{app}:{tenant}`).
    #[serde(default)]
    pub budget_account: Option<String>,
    /// Resources per page (`count`, default 100; servers may return fewer).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// The server filters on `meta.lastModified` (`ge`): with a `since`, read only users
    /// changed at or after it. Off by default: few services support it.
    #[serde(default)]
    pub incremental: bool,
    /// List Groups and their members (default true).
    #[serde(default = "yes")]
    pub groups: bool,
}

fn default_namespace() -> String {
    "scim_user".to_string()
}

fn default_group_kind() -> String {
    "group".to_string()
}

fn default_page_size() -> u32 {
    100
}

fn yes() -> bool {
    true
}

/// Largest `count` asked for (servers cap lower; RFC 7644 lets them return fewer).
pub const MAX_PAGE_SIZE: u32 = 1000;

impl ScimConfig {
    /// A configuration with the defaults for everything but what names the service.
    pub fn new(app: &str, tenant: &str, base_url: &str, token: Secret) -> Self {
        Self {
            app: app.to_string(),
            tenant: tenant.to_string(),
            base_url: base_url.to_string(),
            token,
            namespace: default_namespace(),
            group_kind: default_group_kind(),
            role_kind: None,
            seat_consuming: true,
            rate_limit: None,
            budget_account: None,
            page_size: default_page_size(),
            incremental: false,
            groups: true,
        }
    }

    /// The budget account id: `budget_account`, else `{app}:{tenant}`.
    pub fn budget_account(&self) -> String {
        self.budget_account
            .clone()
            .unwrap_or_else(|| format!("{}:{}", self.app, self.tenant))
    }

    /// Checks every field; returns the app's static name.
    pub fn validate(&self) -> Result<&'static str, ConnectorError> {
        let app = static_app(&self.app).ok_or_else(|| ConnectorError::Config {
            app: "scim",
            detail: format!(
                "`app` = {:?} is not an app idgraph knows (one of {})",
                self.app,
                KNOWN_APPS.join(", ")
            ),
        })?;
        let bad = |detail: String| ConnectorError::Config { app, detail };
        if self.tenant.trim().is_empty() {
            return Err(bad(
                "`tenant` is empty: name the vendor account (e.g. acme.freshdesk.com)".into(),
            ));
        }
        let url = self.base_url.trim();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(bad(format!(
                "`base_url` = {url:?} is not an http(s) URL (expected the SCIM base, e.g. https://acme.freshdesk.com/scim/v2)"
            )));
        }
        let lower = url.trim_end_matches('/').to_ascii_lowercase();
        if lower.ends_with("/users") || lower.ends_with("/groups") {
            return Err(bad(format!(
                "`base_url` = {url:?} names a resource: give the SCIM base URL without /Users or /Groups"
            )));
        }
        if self.token.is_empty() {
            return Err(bad("`token` (the SCIM bearer token) is empty".into()));
        }
        if self.namespace.trim().is_empty() {
            return Err(bad("`namespace` is empty".into()));
        }
        if self.group_kind.trim().is_empty() {
            return Err(bad("`group_kind` is empty".into()));
        }
        if self
            .role_kind
            .as_deref()
            .is_some_and(|k| k.trim().is_empty())
        {
            return Err(bad(
                "`role_kind` is empty (leave it out to ignore roles)".into()
            ));
        }
        if self.page_size == 0 || self.page_size > MAX_PAGE_SIZE {
            return Err(bad(format!(
                "`page_size` = {} is out of range 1..={MAX_PAGE_SIZE}",
                self.page_size
            )));
        }
        if let Some(r) = &self.rate_limit {
            if r.requests == 0 || r.window_secs == 0 {
                return Err(bad(format!(
                    "`rate_limit` = {} requests per {} s: both must be positive",
                    r.requests, r.window_secs
                )));
            }
        }
        Ok(app)
    }
}
