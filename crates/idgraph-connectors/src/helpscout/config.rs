//! [`HelpscoutConfig`]: how to reach one Help Scout account through the Mailbox API v2 with an
//! OAuth app's client credentials (the token lives 48 h and is cached in the token store
//! across runs), and optionally its SCIM service (Pro plan, separate long-lived bearer token).

use idgraph_http::{RatePlan, Secret};
use serde::Deserialize;
use std::path::PathBuf;

/// The real API host.
pub const DEFAULT_BASE_URL: &str = "https://api.helpscout.net";
/// The token endpoint of the real API (the guide writes `/v2/auth/token`, which the real API
/// does not serve; see `shared/api-guides/README.md`).
pub const TOKEN_PATH: &str = "/v2/oauth2/token";
/// SCIM base path on the API host.
pub const SCIM_PATH: &str = "/v2/scim";
/// "400 requests per minute", every plan (guide's table).
pub const REQUESTS_PER_MINUTE: u32 = 400;

/// One Help Scout account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelpscoutConfig {
    /// App ID of the OAuth app (Your Profile > My Apps).
    pub client_id: String,
    /// App Secret of the OAuth app.
    pub client_secret: Secret,
    /// API base URL. Default: <https://api.helpscout.net>.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Token endpoint. Default: `{base_url}/v2/oauth2/token` (the real API's; the guide's
    /// `/v2/auth/token` can be set here).
    #[serde(default)]
    pub token_url: Option<String>,
    /// File caching the access token across runs (it lives 48 hours). Default: none, a new
    /// token each run.
    #[serde(default)]
    pub token_store: Option<PathBuf>,
    /// The account's name in idgraph: the tenant of its accounts, the rate budget's key.
    /// Default: the API host.
    #[serde(default)]
    pub account: Option<String>,
    /// Requests per minute for the whole account (every plan: 400). Lower it to leave room
    /// for other integrations sharing the account's limit.
    #[serde(default = "default_requests_per_minute")]
    pub requests_per_minute: u32,
    /// SCIM bearer token (Pro plan, Admin > Authentication). When set, deactivated users are
    /// also listed, as `inactive`, from SCIM.
    #[serde(default)]
    pub scim_token: Option<Secret>,
    /// SCIM base URL. Default: `{base_url}/v2/scim`.
    #[serde(default)]
    pub scim_base_url: Option<String>,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_string()
}

fn default_requests_per_minute() -> u32 {
    REQUESTS_PER_MINUTE
}

impl HelpscoutConfig {
    /// A configuration with defaults for everything but the OAuth app.
    pub fn new(client_id: impl Into<String>, client_secret: Secret) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            base_url: default_base_url(),
            token_url: None,
            token_store: None,
            account: None,
            requests_per_minute: default_requests_per_minute(),
            scim_token: None,
            scim_base_url: None,
        }
    }

    /// The rate plan: the guide's table has one row, "All plans: 400 requests/minute", counted
    /// per account (everything on the account shares it).
    pub fn plan(&self) -> RatePlan {
        RatePlan::per_minute(self.requests_per_minute.max(1))
    }

    fn base(&self) -> &str {
        self.base_url.trim().trim_end_matches('/')
    }

    /// The token endpoint URL.
    pub fn token_url(&self) -> String {
        match &self.token_url {
            Some(u) => u.clone(),
            None => format!("{}{TOKEN_PATH}", self.base()),
        }
    }

    /// The SCIM base URL.
    pub fn scim_base_url(&self) -> String {
        match &self.scim_base_url {
            Some(u) => u.trim().trim_end_matches('/').to_string(),
            None => format!("{}{SCIM_PATH}", self.base()),
        }
    }

    /// The account name (tenant): configured, else the API host (`api.helpscout.net`).
    pub fn account(&self) -> String {
        if let Some(a) = self.account.as_deref().filter(|a| !a.trim().is_empty()) {
            return a.trim().to_string();
        }
        let rest = self
            .base()
            .split_once("://")
            .map(|(_, r)| r)
            .unwrap_or(self.base());
        rest.split(['/', '?']).next().unwrap_or(rest).to_string()
    }
}
