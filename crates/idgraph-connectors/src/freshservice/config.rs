//! Configuration of the Freshservice connector: which account, the API key it reads with, and
//! the plan whose rate limits it keeps to (guide: "Rate limits, pagination, and events").

use crate::connector::ConnectorError;
use idgraph_http::{RatePlan, Secret, SubLimit};
use serde::Deserialize;
use std::time::Duration;

const APP: &str = "freshservice";

/// A Freshservice plan, as the guide's rate-limit table names them (the old plan names
/// Blossom, Garden, Estate and Forest are accepted too).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FreshservicePlan {
    /// 50 requests/min; listing agents and requesters 40/min.
    #[default]
    #[serde(alias = "blossom")]
    Starter,
    /// 100 requests/min; listing agents and requesters 40/min.
    #[serde(alias = "garden")]
    Growth,
    /// 200 requests/min.
    #[serde(alias = "estate")]
    Pro,
    /// 400 requests/min.
    #[serde(alias = "forest")]
    Enterprise,
}

impl FreshservicePlan {
    /// The account's requests per minute (guide table; per account, not per key).
    pub fn requests_per_minute(self) -> u32 {
        match self {
            FreshservicePlan::Starter => 50,
            FreshservicePlan::Growth => 100,
            FreshservicePlan::Pro => 200,
            FreshservicePlan::Enterprise => 400,
        }
    }

    /// The lower limit that `GET /api/v2/agents` and `GET /api/v2/requesters` share on the small
    /// plans (api-guides README: 40/min), if the plan has one.
    pub fn list_limit_per_minute(self) -> Option<u32> {
        match self {
            FreshservicePlan::Starter | FreshservicePlan::Growth => Some(40),
            FreshservicePlan::Pro | FreshservicePlan::Enterprise => None,
        }
    }

    /// The rate plan of the account's budget: the account window plus, on small plans, one
    /// window shared by the two list endpoints.
    pub fn rate_plan(self) -> RatePlan {
        let plan = RatePlan::per_minute(self.requests_per_minute());
        match self.list_limit_per_minute() {
            Some(limit) => plan.with_sublimit(
                SubLimit::new(
                    "list agents and requesters",
                    None,
                    "/api/v2/agents",
                    limit,
                    Duration::from_secs(60),
                )
                .or_path("/api/v2/requesters"),
            ),
            None => plan,
        }
    }
}

/// How to reach one Freshservice account.
///
/// ```toml
/// domain = "acme"            # or "acme.freshservice.com"
/// api_key = "…"              # an admin agent's key (Profile Settings → API key)
/// plan = "growth"
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreshserviceConfig {
    /// The account: `acme` (becomes `acme.freshservice.com`) or the full host name. It is also
    /// the tenant of every account key.
    pub domain: String,
    /// API key of a dedicated admin-level agent: the key can read only what its agent may see.
    /// Sent as the Basic-auth user with the password `X`.
    pub api_key: Secret,
    /// The account's plan (`starter`, `growth`, `pro`, `enterprise`); decides the rate budget.
    /// Default `starter`, the lowest limits: a higher `X-RateLimit-Total` from the server
    /// raises the account limit, but the 40/min list limit of the small plans stays.
    #[serde(default)]
    pub plan: FreshservicePlan,
    /// Where the API is served; default `https://<domain>` (set it for a proxy or a
    /// simulator). Request paths (`/api/v2/…`) are appended to it.
    #[serde(default)]
    pub base_url: Option<String>,
}

impl FreshserviceConfig {
    /// A configuration with the default plan and URL.
    pub fn new(domain: impl Into<String>, api_key: Secret) -> Self {
        Self {
            domain: domain.into(),
            api_key,
            plan: FreshservicePlan::default(),
            base_url: None,
        }
    }

    /// The account's host name (`acme.freshservice.com`): the tenant of its records.
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
            return Err(bad("is empty (expected `acme` or `acme.freshservice.com`)"));
        }
        if d.contains("://") || d.contains('/') || d.contains(char::is_whitespace) {
            return Err(bad(
                "must be a name like `acme` or `acme.freshservice.com`, not a URL (use `base_url` for that)",
            ));
        }
        Ok(if d.contains('.') {
            d
        } else {
            format!("{d}.freshservice.com")
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

    /// Checks what a request cannot: a key is present.
    pub fn validate(&self) -> Result<(), ConnectorError> {
        if self.api_key.is_empty() {
            return Err(ConnectorError::Config {
                app: APP,
                detail: "`api_key` is empty".to_string(),
            });
        }
        self.host()?;
        self.api_base()?;
        Ok(())
    }
}
