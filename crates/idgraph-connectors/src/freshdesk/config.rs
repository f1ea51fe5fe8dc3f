//! Configuration of the Freshdesk connector: which account, the API key it reads with, the plan
//! whose rate limit it keeps to (guide: "Rate limits, pagination, and events") and the deepest
//! page the server serves.

use crate::connector::ConnectorError;
use idgraph_http::{RatePlan, Secret};
use serde::Deserialize;

const APP: &str = "freshdesk";

/// The deepest `page` Freshdesk serves by default (the simulator's default; the real cap is not
/// documented, so it is configurable).
pub const DEFAULT_MAX_PAGE: u64 = 500;

/// A Freshdesk plan, as the guide's rate-limit table names them (the garden-themed names are
/// accepted too).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FreshdeskPlan {
    /// Free (Sprout): 100 requests/min.
    #[default]
    #[serde(alias = "sprout", alias = "starter")]
    Free,
    /// Growth (Blossom/Garden): 200 requests/min.
    #[serde(alias = "blossom", alias = "garden")]
    Growth,
    /// Pro (Estate): 400 requests/min.
    #[serde(alias = "estate")]
    Pro,
    /// Enterprise (Forest): 700 requests/min.
    #[serde(alias = "forest")]
    Enterprise,
}

impl FreshdeskPlan {
    /// The account's requests per minute (per account, not per key).
    pub fn requests_per_minute(self) -> u32 {
        match self {
            FreshdeskPlan::Free => 100,
            FreshdeskPlan::Growth => 200,
            FreshdeskPlan::Pro => 400,
            FreshdeskPlan::Enterprise => 700,
        }
    }

    /// The rate plan of the account's budget. Freshdesk sends no `Retry-After`: after a 429
    /// the budget waits for the next minute boundary.
    pub fn rate_plan(self) -> RatePlan {
        RatePlan::per_minute(self.requests_per_minute())
    }
}

/// How to reach one Freshdesk account.
///
/// ```toml
/// domain = "acme"          # or "acme.freshdesk.com"
/// api_key = "…"            # Profile Settings → Your API Key (an admin's)
/// plan = "pro"
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreshdeskConfig {
    /// The account: `acme` (becomes `acme.freshdesk.com`) or the full host name. It is also the
    /// tenant of every account key.
    pub domain: String,
    /// API key of an administrator (Basic-auth user, password `X`).
    pub api_key: Secret,
    /// The account's plan (`free`, `growth`, `pro`, `enterprise`); decides the rate budget.
    /// Default `free`, the lowest limit; the server's `X-RateLimit-Total` raises it.
    #[serde(default)]
    pub plan: FreshdeskPlan,
    /// Where the API is served; default `https://<domain>` (a proxy or a simulator).
    #[serde(default)]
    pub base_url: Option<String>,
    /// The deepest `page` the server serves (default 500). A contact listing that would go
    /// deeper goes on in a new `_updated_since` window instead (see `client`).
    #[serde(default = "default_max_page")]
    pub max_page: u64,
}

fn default_max_page() -> u64 {
    DEFAULT_MAX_PAGE
}

impl FreshdeskConfig {
    /// A configuration with the default plan, URL and page cap.
    pub fn new(domain: impl Into<String>, api_key: Secret) -> Self {
        Self {
            domain: domain.into(),
            api_key,
            plan: FreshdeskPlan::default(),
            base_url: None,
            max_page: DEFAULT_MAX_PAGE,
        }
    }

    /// The account's host name (`acme.freshdesk.com`): the tenant of its records.
    pub fn host(&self) -> Result<String, ConnectorError> {
        let d = self
            .domain
            .trim()
            .trim_end_matches('/')
            .to_ascii_lowercase();
        let bad = |why: &str| ConnectorError::Config {
            app: APP,
            detail: format!("`domain` {:?} {why}", self.domain),
        };
        if d.is_empty() {
            return Err(bad("is empty (expected `acme` or `acme.freshdesk.com`)"));
        }
        if d.contains("://") || d.contains('/') || d.contains(char::is_whitespace) {
            return Err(bad(
                "must be a name like `acme` or `acme.freshdesk.com`, not a URL (use `base_url` for that)",
            ));
        }
        Ok(if d.contains('.') {
            d
        } else {
            format!("{d}.freshdesk.com")
        })
    }

    /// The API's base URL: `base_url`, else `https://<host>`.
    pub fn api_base(&self) -> Result<String, ConnectorError> {
        match &self.base_url {
            Some(u) if !u.trim().is_empty() => Ok(u.trim().trim_end_matches('/').to_string()),
            Some(_) => Err(ConnectorError::Config {
                app: APP,
                detail: "`base_url` is empty (leave it out for https://<domain>)".to_string(),
            }),
            None => Ok(format!("https://{}", self.host()?)),
        }
    }

    /// Checks what a request cannot: a key is present, the page cap is usable.
    pub fn validate(&self) -> Result<(), ConnectorError> {
        if self.api_key.is_empty() {
            return Err(ConnectorError::Config {
                app: APP,
                detail: "`api_key` is empty".to_string(),
            });
        }
        if self.max_page == 0 {
            return Err(ConnectorError::Config {
                app: APP,
                detail: "`max_page` must be at least 1".to_string(),
            });
        }
        self.host()?;
        self.api_base()?;
        Ok(())
    }
}
