//! [`FreshbooksConfig`]: how to reach one FreshBooks OAuth grant (the token owner's login),
//! which reads every business that login administers.
//!
//! FreshBooks uses the OAuth 2.0 authorization-code flow with **single-use** refresh tokens:
//! each refresh returns a new refresh token that must be saved before it is used. The tokens
//! therefore live in a token store file (`token_store`), written atomically by
//! `idgraph_http::FileTokenStore` after every rotation; `refresh_token` seeds it on the very
//! first run only.

use idgraph_http::{RatePlan, Secret};
use serde::Deserialize;
use std::path::PathBuf;

/// The real API host (the guide's base URL).
pub const DEFAULT_BASE_URL: &str = "https://api.freshbooks.com";
/// Token endpoint path, on the API host.
pub const TOKEN_PATH: &str = "/auth/oauth/token";
/// FreshBooks publishes no rate limit; this starting figure is corrected by the
/// `X-RateLimit-Limit` header of the first answer.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 100;

/// One FreshBooks connection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreshbooksConfig {
    /// OAuth application (client) id, from <https://my.freshbooks.com/#/developer>.
    pub client_id: String,
    /// OAuth application secret.
    pub client_secret: Secret,
    /// The redirect URI registered with the application (sent with token requests).
    pub redirect_uri: String,
    /// Token endpoint. Default: `{base_url}/auth/oauth/token`.
    #[serde(default)]
    pub token_url: Option<String>,
    /// File holding this grant's OAuth tokens (required: every rotated refresh token is saved
    /// there before it is used, or the integration is locked out).
    #[serde(default)]
    pub token_store: Option<PathBuf>,
    /// Refresh token of the first authorization. Used only while the token store holds no
    /// tokens for this grant; after the first refresh it is spent and the store takes over.
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    /// A name for this grant: keys the token store entry and the rate budget, and is the
    /// connector's tenant. Default: the client id.
    #[serde(default)]
    pub grant: Option<String>,
    /// API base URL. Default: <https://api.freshbooks.com>.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Requests per minute to pace at. FreshBooks documents no figure (guide: "Not publicly
    /// documented", all plans); the server's `X-RateLimit-Limit` replaces this value.
    #[serde(default = "default_requests_per_minute")]
    pub requests_per_minute: u32,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_string()
}

fn default_requests_per_minute() -> u32 {
    DEFAULT_REQUESTS_PER_MINUTE
}

impl FreshbooksConfig {
    /// A configuration with defaults for everything but the OAuth application.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: Secret,
        redirect_uri: impl Into<String>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            redirect_uri: redirect_uri.into(),
            token_url: None,
            token_store: None,
            refresh_token: None,
            grant: None,
            base_url: default_base_url(),
            requests_per_minute: default_requests_per_minute(),
        }
    }

    /// The rate plan: the guide's table has one row, "All plans: not publicly documented", so
    /// it is `requests_per_minute` (corrected by the server's headers), one window per grant.
    pub fn plan(&self) -> RatePlan {
        RatePlan::per_minute(self.requests_per_minute.max(1))
    }

    /// The token endpoint URL.
    pub fn token_url(&self) -> String {
        match &self.token_url {
            Some(u) => u.clone(),
            None => format!("{}{TOKEN_PATH}", self.base_url.trim_end_matches('/')),
        }
    }

    /// The grant name (connector tenant, token store key suffix, budget key suffix).
    pub fn grant(&self) -> String {
        match &self.grant {
            Some(g) if !g.trim().is_empty() => g.trim().to_string(),
            _ => self.client_id.clone(),
        }
    }
}
