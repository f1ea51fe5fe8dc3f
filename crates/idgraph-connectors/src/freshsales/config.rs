//! [`FreshsalesConfig`]: which Freshsales account (a domain on `myfreshworks.com` or the older
//! `freshsales.io`, or a full base URL), the REST API key, the optional SCIM token, and the
//! rate plan (the guide's table: 1,000 requests per hour per account on every plan, REST and
//! SCIM together).

use crate::connector::ConnectorError;
use idgraph_http::{RatePlan, Secret};
use serde::Deserialize;

const APP: &str = "freshsales";

/// Requests per hour per account, every plan (guide: Growth, Pro and Enterprise alike).
pub const HOURLY_LIMIT: u32 = 1000;
/// Largest `per_page` of `selector/owners` (guide: max page size 100).
pub const MAX_PAGE_SIZE: u32 = 100;
/// Default SCIM path on the account's host.
pub const DEFAULT_SCIM_PATH: &str = "/scim/v2";

/// Where a Freshsales account lives. Accounts created before Freshworks' move live under
/// `{domain}.freshsales.io` with the REST API at `/api`; newer ones under
/// `{domain}.myfreshworks.com` at `/crm/sales/api`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FreshsalesHost {
    #[default]
    #[serde(alias = "myfreshworks.com")]
    Myfreshworks,
    #[serde(alias = "freshsales.io")]
    FreshsalesIo,
}

impl FreshsalesHost {
    /// The DNS suffix after the account's subdomain.
    pub fn suffix(self) -> &'static str {
        match self {
            FreshsalesHost::Myfreshworks => "myfreshworks.com",
            FreshsalesHost::FreshsalesIo => "freshsales.io",
        }
    }

    /// The REST API path on this host.
    pub fn rest_path(self) -> &'static str {
        match self {
            FreshsalesHost::Myfreshworks => "/crm/sales/api",
            FreshsalesHost::FreshsalesIo => "/api",
        }
    }

    /// The config value naming this host.
    pub fn config_name(self) -> &'static str {
        match self {
            FreshsalesHost::Myfreshworks => "myfreshworks",
            FreshsalesHost::FreshsalesIo => "freshsales_io",
        }
    }

    /// The other host (what to try after an authentication failure).
    pub fn other(self) -> Self {
        match self {
            FreshsalesHost::Myfreshworks => FreshsalesHost::FreshsalesIo,
            FreshsalesHost::FreshsalesIo => FreshsalesHost::Myfreshworks,
        }
    }
}

/// Freshsales plans (guide table); SCIM needs Enterprise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FreshsalesPlan {
    Growth,
    Pro,
    Enterprise,
}

impl FreshsalesPlan {
    /// The account's rate plan: 1,000 requests per hour on every plan.
    pub fn rate_plan(self) -> RatePlan {
        RatePlan::per_hour(HOURLY_LIMIT)
    }
}

/// A Freshsales connector's settings.
///
/// ```toml
/// domain = "acme"              # acme.myfreshworks.com
/// host = "myfreshworks"        # or "freshsales_io" for older accounts (acme.freshsales.io/api)
/// api_key = "…"                # an admin's API key (Settings > API Settings)
/// scim_token = "…"             # optional: Enterprise + SAML SSO; the only complete roster
/// plan = "enterprise"
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreshsalesConfig {
    /// The account's subdomain (`acme` of `acme.myfreshworks.com`); a full host name on
    /// either domain is accepted and sets `host`.
    #[serde(default)]
    pub domain: Option<String>,
    /// Which host the account lives on (default `myfreshworks`).
    #[serde(default)]
    pub host: FreshsalesHost,
    /// The account's address without a path (`https://acme.myfreshworks.com`), instead of
    /// `domain` + `host` or to reach it through a proxy; with `domain` too, `domain` still
    /// names the tenant.
    #[serde(default)]
    pub base_url: Option<String>,
    /// REST API path (default by host: `/crm/sales/api`, or `/api` on `freshsales.io`).
    #[serde(default)]
    pub rest_path: Option<String>,
    /// An admin user's API key (`Authorization: Token token=KEY`).
    pub api_key: Secret,
    /// The SCIM bearer token (Enterprise plan with SAML SSO). Without it only the REST owner
    /// list is read: active owner-eligible users, no deactivated ones.
    #[serde(default)]
    pub scim_token: Option<Secret>,
    /// SCIM path on the account's host (default `/scim/v2`).
    #[serde(default)]
    pub scim_path: Option<String>,
    /// The account's plan, when known: SCIM is refused below Enterprise.
    #[serde(default)]
    pub plan: Option<FreshsalesPlan>,
    /// The tenant of every key (default `{domain}.{host}`, else the base URL's host).
    #[serde(default)]
    pub tenant: Option<String>,
    /// Owners per page (`per_page`, default and maximum 100).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// SCIM users and groups per page (`count`, default 100).
    #[serde(default = "default_page_size")]
    pub scim_page_size: u32,
}

fn default_page_size() -> u32 {
    100
}

/// Where to send requests, resolved from a valid configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    /// `https://acme.myfreshworks.com`
    pub origin: String,
    /// `https://acme.myfreshworks.com/crm/sales/api`
    pub rest_base: String,
    /// `https://acme.myfreshworks.com/scim/v2` when a SCIM token is set.
    pub scim_base: Option<String>,
    /// `acme.myfreshworks.com`
    pub tenant: String,
    /// The account's subdomain, when known.
    pub domain: Option<String>,
    pub host: FreshsalesHost,
}

fn bad(detail: impl Into<String>) -> ConnectorError {
    ConnectorError::Config {
        app: APP,
        detail: detail.into(),
    }
}

/// `acme`, or `acme.myfreshworks.com` / `acme.freshsales.io` (which also name the host).
fn parse_domain(raw: &str) -> Result<(String, Option<FreshsalesHost>), ConnectorError> {
    let d = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    if d.contains("://") || d.contains('/') {
        return Err(bad(format!(
            "`domain` = {raw:?} is a URL: give the subdomain (`acme` of acme.myfreshworks.com), or the address as `base_url`"
        )));
    }
    let (label, host) = if let Some(l) = d.strip_suffix(".myfreshworks.com") {
        (l.to_string(), Some(FreshsalesHost::Myfreshworks))
    } else if let Some(l) = d.strip_suffix(".freshsales.io") {
        (l.to_string(), Some(FreshsalesHost::FreshsalesIo))
    } else {
        (d.clone(), None)
    };
    let ok = !label.is_empty()
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !label.starts_with('-')
        && !label.ends_with('-');
    if !ok {
        return Err(bad(format!(
            "`domain` = {raw:?} is not a Freshsales subdomain (letters, digits and `-`, e.g. `acme` of acme.myfreshworks.com)"
        )));
    }
    Ok((label, host))
}

/// `(origin, host part)` of a base URL without a path.
fn parse_base_url(raw: &str) -> Result<(String, String), ConnectorError> {
    let u = raw.trim().trim_end_matches('/');
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))
        .ok_or_else(|| {
            bad(format!(
                "`base_url` = {raw:?} is not an http(s) URL (e.g. https://acme.myfreshworks.com)"
            ))
        })?;
    if rest.contains('/') || rest.contains('?') || rest.contains('#') {
        return Err(bad(format!(
            "`base_url` = {raw:?} has a path: give the account's address only (https://acme.myfreshworks.com); the API paths are `rest_path` and `scim_path`"
        )));
    }
    if rest.is_empty() || rest.contains('@') {
        return Err(bad(format!("`base_url` = {raw:?} has no usable host")));
    }
    Ok((u.to_string(), rest.to_ascii_lowercase()))
}

fn check_path(key: &str, p: &str) -> Result<String, ConnectorError> {
    let p = p.trim().trim_end_matches('/');
    if !p.starts_with('/') || p.contains('?') || p.contains('#') {
        return Err(bad(format!(
            "`{key}` = {p:?} must be a path starting with `/`"
        )));
    }
    Ok(p.to_string())
}

impl FreshsalesConfig {
    /// A configuration for `domain` on `myfreshworks.com` with the defaults.
    pub fn new(domain: &str, api_key: Secret) -> Self {
        Self {
            domain: Some(domain.to_string()),
            host: FreshsalesHost::default(),
            base_url: None,
            rest_path: None,
            api_key,
            scim_token: None,
            scim_path: None,
            plan: None,
            tenant: None,
            page_size: default_page_size(),
            scim_page_size: default_page_size(),
        }
    }

    /// Checks every field and works out the URLs and the tenant.
    pub fn endpoints(&self) -> Result<Endpoints, ConnectorError> {
        if self.api_key.is_empty() {
            return Err(bad(
                "`api_key` is empty (Settings > API Settings of an admin user)",
            ));
        }
        let parsed = self.domain.as_deref().map(parse_domain).transpose()?;
        let host = parsed.as_ref().and_then(|(_, h)| *h).unwrap_or(self.host);
        let domain = parsed.map(|(d, _)| d);
        let (origin, url_host) = match (&self.base_url, &domain) {
            (Some(b), _) => {
                let (origin, h) = parse_base_url(b)?;
                (origin, Some(h))
            }
            (None, Some(d)) => (format!("https://{d}.{}", host.suffix()), None),
            (None, None) => {
                return Err(bad(
                    "neither `domain` nor `base_url` is set: name the account (`domain = \"acme\"` for acme.myfreshworks.com)",
                ))
            }
        };
        // With only a base URL, its host says which kind of account it is.
        let host = match (&domain, &url_host) {
            (None, Some(h)) if h.ends_with(".freshsales.io") => FreshsalesHost::FreshsalesIo,
            (None, Some(h)) if h.ends_with(".myfreshworks.com") => FreshsalesHost::Myfreshworks,
            _ => host,
        };
        let rest_path = check_path(
            "rest_path",
            self.rest_path.as_deref().unwrap_or(host.rest_path()),
        )?;
        let tenant = match (&self.tenant, &domain, &url_host) {
            (Some(t), _, _) if !t.trim().is_empty() => t.trim().to_string(),
            (Some(_), _, _) => return Err(bad("`tenant` is empty")),
            (None, Some(d), _) => format!("{d}.{}", host.suffix()),
            (None, None, Some(h)) => h.clone(),
            (None, None, None) => return Err(bad("cannot tell the tenant: set `domain`")),
        };
        for (key, n) in [
            ("page_size", self.page_size),
            ("scim_page_size", self.scim_page_size),
        ] {
            if n == 0 || n > MAX_PAGE_SIZE {
                return Err(bad(format!(
                    "`{key}` = {n} is out of range 1..={MAX_PAGE_SIZE}"
                )));
            }
        }
        let scim_base = match &self.scim_token {
            None => None,
            Some(t) if t.is_empty() => {
                return Err(bad(
                    "`scim_token` is empty: leave it out to read the REST API only",
                ))
            }
            Some(_) => {
                if let Some(p) = self.plan.filter(|p| *p != FreshsalesPlan::Enterprise) {
                    return Err(bad(format!(
                        "`scim_token` is set but `plan` is {p:?}: Freshsales SCIM needs the Enterprise plan (and SAML SSO); leave the token out to read the REST API only"
                    )));
                }
                let path = check_path(
                    "scim_path",
                    self.scim_path.as_deref().unwrap_or(DEFAULT_SCIM_PATH),
                )?;
                Some(format!("{origin}{path}"))
            }
        };
        Ok(Endpoints {
            rest_base: format!("{origin}{rest_path}"),
            origin,
            scim_base,
            tenant,
            domain,
            host,
        })
    }

    /// The rate plan: 1,000 requests per hour per account, REST and SCIM together.
    pub fn rate_plan(&self) -> RatePlan {
        self.plan.unwrap_or(FreshsalesPlan::Enterprise).rate_plan()
    }
}
