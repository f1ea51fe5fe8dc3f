//! Pieces every vendor simulator shares: the app and plan vocabulary, the environment a
//! simulator is built in, request counters, the `/_sim/` control endpoints common to all apps,
//! and small HTTP helpers (Basic auth, page parameters, `Link` headers).

use crate::clock::{rfc3339, SimClock};
use crate::faults::{fault_middleware, FaultConfig, FaultLayerState, Faults, TooManyFn};
use crate::ratelimit::FixedWindow;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use http::{HeaderMap, StatusCode, Uri};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The five simulated apps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum App {
    Freshservice,
    Freshdesk,
    Freshsales,
    Freshbooks,
    Helpscout,
}

impl App {
    pub const ALL: [App; 5] = [
        App::Freshservice,
        App::Freshdesk,
        App::Freshsales,
        App::Freshbooks,
        App::Helpscout,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            App::Freshservice => "freshservice",
            App::Freshdesk => "freshdesk",
            App::Freshsales => "freshsales",
            App::Freshbooks => "freshbooks",
            App::Helpscout => "helpscout",
        }
    }
}

impl fmt::Display for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for App {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace([' ', '-', '_'], "").as_str() {
            "freshservice" => Ok(App::Freshservice),
            "freshdesk" => Ok(App::Freshdesk),
            "freshsales" => Ok(App::Freshsales),
            "freshbooks" => Ok(App::Freshbooks),
            "helpscout" => Ok(App::Helpscout),
            other => Err(format!(
                "unknown app `{other}` (expected one of freshservice, freshdesk, freshsales, freshbooks, helpscout)"
            )),
        }
    }
}

/// A vendor plan, as a tier. Each vendor names its tiers differently; the tier decides the
/// rate limit (the guides' plan tables) and whether SCIM is offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlanTier {
    /// Freshservice Starter, Freshdesk Free (Sprout), Help Scout Standard.
    Starter,
    /// Freshservice/Freshdesk/Freshsales Growth (Blossom/Garden), Help Scout Plus.
    Growth,
    /// Freshservice/Freshdesk/Freshsales Pro (Estate), Help Scout Pro.
    Pro,
    /// Freshservice/Freshdesk/Freshsales Enterprise (Forest); Help Scout Pro.
    Enterprise,
}

impl FromStr for PlanTier {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "starter" | "free" | "sprout" | "standard" => Ok(PlanTier::Starter),
            "growth" | "blossom" | "garden" | "plus" => Ok(PlanTier::Growth),
            "pro" | "estate" => Ok(PlanTier::Pro),
            "enterprise" | "forest" => Ok(PlanTier::Enterprise),
            other => Err(format!(
                "unknown plan `{other}` (expected starter, growth, pro or enterprise, or a vendor's own plan name)"
            )),
        }
    }
}

impl fmt::Display for PlanTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PlanTier::Starter => "starter",
            PlanTier::Growth => "growth",
            PlanTier::Pro => "pro",
            PlanTier::Enterprise => "enterprise",
        })
    }
}

/// Per-app switches of a simulated tenant.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TenantOptions {
    pub plan: PlanTier,
    /// Enforce the plan's rate limits (headers are sent either way).
    pub rate_limits: bool,
    /// SSO configured: needed for SCIM; in Freshservice it also makes API email changes a
    /// silent no-op.
    pub sso: bool,
    /// Paid agent seats (Freshservice, Freshdesk); `None` means seats for everyone generated
    /// plus 10%.
    pub seat_limit: Option<u32>,
}

impl Default for TenantOptions {
    fn default() -> Self {
        Self {
            plan: PlanTier::Enterprise,
            rate_limits: true,
            sso: true,
            seat_limit: None,
        }
    }
}

/// Everything a vendor simulator is built with besides the company data.
#[derive(Clone, Debug)]
pub struct SimEnv {
    pub app: App,
    pub clock: SimClock,
    pub options: TenantOptions,
    pub faults: Arc<Faults>,
    pub counters: Arc<Counters>,
    /// Seed of the run (credentials and ids derive from it).
    pub seed: u64,
    /// Whether the app is served over HTTPS (for absolute URLs in `Link` headers and bodies).
    pub tls: bool,
}

impl SimEnv {
    pub fn new(app: App, clock: SimClock, options: TenantOptions, seed: u64) -> Self {
        Self {
            app,
            clock,
            options,
            faults: Arc::new(Faults::default()),
            counters: Arc::new(Counters::default()),
            seed,
            tls: false,
        }
    }

    /// A deterministic secret-looking string for this app, e.g. an API key.
    pub fn secret(&self, purpose: &str, len: usize) -> String {
        crate::company::token_from_seed(self.seed, &format!("{}:{purpose}", self.app), len)
    }
}

/// Request counters of one app, read by tests and benchmarks over `GET /_sim/counters`.
#[derive(Debug, Default)]
pub struct Counters {
    total: AtomicU64,
    rate_limited: AtomicU64,
    by_route: Mutex<BTreeMap<String, u64>>,
    by_status: Mutex<BTreeMap<u16, u64>>,
}

/// A snapshot of [`Counters`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct CounterSnapshot {
    /// Vendor requests served (control paths excluded).
    pub total: u64,
    /// 429 responses of any origin (plan limit or injected).
    pub status_429: u64,
    /// 429 responses because the plan's rate limit was exceeded.
    pub rate_limited: u64,
    /// Requests per `METHOD /path` with numeric and opaque ids replaced by `{id}`.
    pub by_route: BTreeMap<String, u64>,
    pub by_status: BTreeMap<u16, u64>,
}

impl Counters {
    /// Called by a vendor module when its rate limiter refuses a request.
    pub fn note_rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> CounterSnapshot {
        let by_status = self.by_status.lock().clone();
        CounterSnapshot {
            total: self.total.load(Ordering::Relaxed),
            status_429: by_status.get(&429).copied().unwrap_or(0),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
            by_route: self.by_route.lock().clone(),
            by_status,
        }
    }

    pub fn reset(&self) {
        self.total.store(0, Ordering::Relaxed);
        self.rate_limited.store(0, Ordering::Relaxed);
        self.by_route.lock().clear();
        self.by_status.lock().clear();
    }

    fn record(&self, route: String, status: u16) {
        self.total.fetch_add(1, Ordering::Relaxed);
        *self.by_route.lock().entry(route).or_default() += 1;
        *self.by_status.lock().entry(status).or_default() += 1;
    }
}

/// `/api/v2/agents/42/reactivate` → `/api/v2/agents/{id}/reactivate`.
pub fn route_key(method: &http::Method, path: &str) -> String {
    let norm: Vec<String> = path
        .split('/')
        .map(|seg| {
            let looks_like_id = !seg.is_empty()
                && (seg.chars().all(|c| c.is_ascii_digit())
                    || (seg.len() >= 16
                        && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')));
            if looks_like_id {
                "{id}".to_string()
            } else {
                seg.to_string()
            }
        })
        .collect();
    format!("{method} {}", norm.join("/"))
}

async fn counting_middleware(
    State(counters): State<Arc<Counters>>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/_sim") {
        return next.run(req).await;
    }
    let key = route_key(req.method(), &path);
    let resp = next.run(req).await;
    counters.record(key, resp.status().as_u16());
    resp
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceBody {
    seconds: f64,
}

/// The rate windows of one vendor account: the account-wide limit and any per-endpoint
/// sub-limits (e.g. Freshservice's lower limit on list agents/requesters).
#[derive(Clone, Debug)]
pub struct Limits {
    pub account: Arc<FixedWindow>,
    pub sub: Vec<Arc<FixedWindow>>,
}

impl Limits {
    fn reset(&self) {
        self.account.reset();
        for l in &self.sub {
            l.reset();
        }
    }
}

/// Wraps a vendor router with what every simulated app has: the common control endpoints,
/// fault injection and request counting. `too_many` builds the vendor's own 429 response
/// (used for injected 429s); `limits` are the account's rate windows, which the control
/// endpoints can reset or eat into (`POST /_sim/ratelimit/consume {"n": 50}` plays another
/// integration sharing the account).
pub fn wrap(router: Router, env: &SimEnv, too_many: TooManyFn, limits: Limits) -> Router {
    let control = control_router(env, limits);
    let fault_state = FaultLayerState {
        faults: env.faults.clone(),
        too_many,
    };
    router
        .merge(control)
        .layer(middleware::from_fn_with_state(
            fault_state,
            fault_middleware,
        ))
        .layer(middleware::from_fn_with_state(
            env.counters.clone(),
            counting_middleware,
        ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsumeBody {
    n: u32,
}

fn control_router(env: &SimEnv, limits: Limits) -> Router {
    let limits2 = limits.clone();
    let clock_consume = env.clock.clone();
    let counters = env.counters.clone();
    let counters2 = env.counters.clone();
    let faults_get = env.faults.clone();
    let faults_put = env.faults.clone();
    let faults_counts = env.faults.clone();
    let clock_get = env.clock.clone();
    let clock_post = env.clock.clone();
    let app = env.app;
    let opts = env.options.clone();
    Router::new()
        .route(
            "/_sim/health",
            get(move || async move { Json(serde_json::json!({"app": app, "ok": true, "options": opts})) }),
        )
        .route(
            "/_sim/counters",
            get(move || async move {
                let mut v = serde_json::to_value(counters.snapshot()).unwrap_or_default();
                v["injected"] = serde_json::to_value(faults_counts.injected()).unwrap_or_default();
                Json(v)
            }),
        )
        .route(
            "/_sim/counters/reset",
            post(move || async move {
                counters2.reset();
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/_sim/faults",
            get(move || async move { Json(faults_get.config()) }).put(
                move |body: Result<Json<FaultConfig>, axum::extract::rejection::JsonRejection>| async move {
                    match body {
                        Ok(Json(cfg)) => {
                            faults_put.clear_counts();
                            faults_put.set(cfg);
                            StatusCode::NO_CONTENT.into_response()
                        }
                        Err(e) => control_error(StatusCode::BAD_REQUEST, &e.body_text()),
                    }
                },
            ),
        )
        .route(
            "/_sim/clock",
            get(move || async move {
                Json(serde_json::json!({"now": rfc3339(clock_get.now()), "scale": clock_get.scale()}))
            })
            .post(
                move |body: Result<Json<AdvanceBody>, axum::extract::rejection::JsonRejection>| async move {
                    match body {
                        Ok(Json(b)) if b.seconds.is_finite() => {
                            clock_post.advance(time::Duration::seconds_f64(b.seconds));
                            Json(serde_json::json!({"now": rfc3339(clock_post.now())})).into_response()
                        }
                        Ok(_) => control_error(StatusCode::BAD_REQUEST, "seconds must be a finite number"),
                        Err(e) => control_error(StatusCode::BAD_REQUEST, &e.body_text()),
                    }
                },
            ),
        )
        .route(
            "/_sim/ratelimit/reset",
            post(move || async move {
                limits.reset();
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/_sim/ratelimit/consume",
            post(
                move |body: Result<Json<ConsumeBody>, axum::extract::rejection::JsonRejection>| async move {
                    match body {
                        Ok(Json(b)) => {
                            limits2.account.consume(&clock_consume, b.n);
                            StatusCode::NO_CONTENT.into_response()
                        }
                        Err(e) => control_error(StatusCode::BAD_REQUEST, &e.body_text()),
                    }
                },
            ),
        )
}

/// The error body of control endpoints: `{"error": "..."}`.
pub fn control_error(status: StatusCode, msg: &str) -> Response {
    (status, Json(serde_json::json!({ "error": msg }))).into_response()
}

/// Decodes `Authorization: Basic base64(user:password)` into `(user, password)`.
/// Any password (even empty) is returned; the vendors ignore it.
pub fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    match text.split_once(':') {
        Some((u, p)) => Some((u.to_string(), p.to_string())),
        None => Some((text, String::new())),
    }
}

/// The token of `Authorization: Bearer TOKEN`.
pub fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim().to_string())
}

/// Page parameters after validation: 1-based `page`, `per_page` capped at the vendor's maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageParams {
    pub page: u32,
    pub per_page: u32,
}

impl PageParams {
    pub fn offset(&self) -> usize {
        (self.page as usize - 1) * self.per_page as usize
    }
}

/// Why page parameters were refused; each vendor renders it in its own error body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageError {
    pub field: &'static str,
    pub message: String,
}

/// Reads `page` and `per_page` (or the names given) from a query map. A missing `page` is 1,
/// a missing `per_page` is `default`, a `per_page` over `max` is capped to `max` (as the vendors
/// do); zero, negative or non-numeric values are a [`PageError`].
pub fn page_params(
    query: &BTreeMap<String, String>,
    page_key: &'static str,
    per_page_key: &'static str,
    default: u32,
    max: u32,
) -> Result<PageParams, PageError> {
    let parse = |key: &'static str, v: &str| -> Result<u32, PageError> {
        match v.trim().parse::<u64>() {
            Ok(n) if n >= 1 => Ok(n.min(u64::from(u32::MAX)) as u32),
            _ => Err(PageError {
                field: key,
                message: "It should be a Positive Number".to_string(),
            }),
        }
    };
    let page = match query.get(page_key) {
        Some(v) => parse(page_key, v)?,
        None => 1,
    };
    let per_page = match query.get(per_page_key) {
        Some(v) => parse(per_page_key, v)?.min(max),
        None => default,
    };
    Ok(PageParams { page, per_page })
}

/// Takes one page out of a full, ordered result. Returns the items and whether a next page
/// exists.
pub fn paginate<T: Clone>(items: &[T], p: PageParams) -> (Vec<T>, bool) {
    let start = p.offset().min(items.len());
    let end = (start + p.per_page as usize).min(items.len());
    (items[start..end].to_vec(), end < items.len())
}

/// The externally visible origin of a request (`http://127.0.0.1:1234`), from `Host` and
/// `X-Forwarded-Proto`, so links work behind a proxy that presents the vendor's host name.
pub fn origin(headers: &HeaderMap, tls: bool) -> String {
    let host = headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .unwrap_or(if tls { "https" } else { "http" });
    format!("{proto}://{host}")
}

/// The same request URL with query parameter `key` set to `value` (absolute, using [`origin`]).
pub fn url_with_param(headers: &HeaderMap, uri: &Uri, tls: bool, key: &str, value: &str) -> String {
    let mut pairs: Vec<(String, String)> = uri
        .query()
        .map(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).unwrap_or_default())
        .unwrap_or_default();
    pairs.retain(|(k, _)| k != key);
    pairs.push((key.to_string(), value.to_string()));
    let q = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("{}{}?{}", origin(headers, tls), uri.path(), q)
}

/// `Link: <…page=N+1…>; rel="next"` for a non-last page.
pub fn next_link(headers: &HeaderMap, uri: &Uri, tls: bool, next_page: u32) -> String {
    format!(
        "<{}>; rel=\"next\"",
        url_with_param(headers, uri, tls, "page", &next_page.to_string())
    )
}

/// Parses a raw query string into a map (last value wins). Use with `RawQuery` so that an
/// unparsable query never turns into axum's plain-text rejection.
pub fn query_map(raw: Option<&str>) -> BTreeMap<String, String> {
    raw.map(|q| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(q)
            .unwrap_or_default()
            .into_iter()
            .collect()
    })
    .unwrap_or_default()
}

/// Parses a boolean query value as the vendors do (`true`/`false`, case-insensitive).
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_keys_hide_ids() {
        assert_eq!(
            route_key(&http::Method::PUT, "/api/v2/agents/42/reactivate"),
            "PUT /api/v2/agents/{id}/reactivate"
        );
        assert_eq!(
            route_key(&http::Method::GET, "/scim/v2/Users/2f6c1a9e0b7d4c5e8a1b"),
            "GET /scim/v2/Users/{id}"
        );
    }

    #[test]
    fn basic_auth_accepts_any_password() {
        let mut h = HeaderMap::new();
        let v = base64::engine::general_purpose::STANDARD.encode("key123:X");
        h.insert(
            http::header::AUTHORIZATION,
            format!("Basic {v}").parse().unwrap(),
        );
        assert_eq!(basic_auth(&h), Some(("key123".into(), "X".into())));
        let v = base64::engine::general_purpose::STANDARD.encode("key123:");
        h.insert(
            http::header::AUTHORIZATION,
            format!("basic {v}").parse().unwrap(),
        );
        assert_eq!(basic_auth(&h), Some(("key123".into(), "".into())));
    }

    #[test]
    fn page_params_cap_and_validate() {
        let q = query_map(Some("page=2&per_page=500"));
        assert_eq!(
            page_params(&q, "page", "per_page", 30, 100),
            Ok(PageParams {
                page: 2,
                per_page: 100
            })
        );
        let q = query_map(Some(""));
        assert_eq!(
            page_params(&q, "page", "per_page", 30, 100),
            Ok(PageParams {
                page: 1,
                per_page: 30
            })
        );
        let q = query_map(Some("page=0"));
        assert!(page_params(&q, "page", "per_page", 30, 100).is_err());
        let q = query_map(Some("per_page=abc"));
        assert!(page_params(&q, "page", "per_page", 30, 100).is_err());
    }

    #[test]
    fn next_link_keeps_other_params() {
        let mut h = HeaderMap::new();
        h.insert(http::header::HOST, "127.0.0.1:9000".parse().unwrap());
        let uri: Uri = "/api/v2/agents?per_page=100&page=1&active=false"
            .parse()
            .unwrap();
        assert_eq!(
            next_link(&h, &uri, false, 2),
            "<http://127.0.0.1:9000/api/v2/agents?per_page=100&active=false&page=2>; rel=\"next\""
        );
    }

    #[test]
    fn paginate_reports_more() {
        let items: Vec<u32> = (1..=5).collect();
        assert_eq!(
            paginate(
                &items,
                PageParams {
                    page: 1,
                    per_page: 2
                }
            ),
            (vec![1, 2], true)
        );
        assert_eq!(
            paginate(
                &items,
                PageParams {
                    page: 3,
                    per_page: 2
                }
            ),
            (vec![5], false)
        );
        assert_eq!(
            paginate(
                &items,
                PageParams {
                    page: 9,
                    per_page: 2
                }
            ),
            (vec![], false)
        );
    }
}
