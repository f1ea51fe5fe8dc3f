//! Rate budgets against fixed-window servers that reset on wall-clock boundaries of the same
//! (manual) clock: steady state at the plan limit with no 429, Retry-After, window resets
//! without Retry-After, header corrections, sub-limits, hourly windows.

use crate::support::*;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::any;
use idgraph_http::*;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
struct Opts {
    limit: u32,
    window: i64,
    retry_after: bool,
    /// X-RateLimit-Total + Remaining.
    total_headers: bool,
    /// X-RateLimit-Limit + Remaining + Reset (Freshsales/Help Scout spelling).
    reset_headers: bool,
    /// Used up by "another integration" at the start of every window.
    others: u32,
    /// Only requests to this path count (a per-endpoint limit); None: all.
    only_path: Option<&'static str>,
}

impl Opts {
    fn new(limit: u32, window: i64) -> Self {
        Self {
            limit,
            window,
            retry_after: false,
            total_headers: false,
            reset_headers: false,
            others: 0,
            only_path: None,
        }
    }
}

#[derive(Debug, Default)]
struct Seen {
    window: i64,
    used: u32,
    ok_per_window: BTreeMap<i64, u32>,
    rejected: u32,
    ok_times: Vec<time::OffsetDateTime>,
}

#[derive(Clone)]
struct Fw {
    clock: ManualClock,
    opts: Opts,
    seen: Arc<Mutex<Seen>>,
}

async fn fw_handler(State(s): State<Fw>, uri: axum::http::Uri) -> impl IntoResponse {
    let now = s.clock.now();
    let t = now.unix_timestamp() as f64 + f64::from(now.nanosecond()) / 1e9;
    let w = s.opts.window as f64;
    let idx = (t / w).floor() as i64;
    let reset = (((idx + 1) as f64 * w) - t).ceil().max(1.0) as u64;
    let counted = s.opts.only_path.is_none_or(|p| uri.path() == p);
    let mut seen = s.seen.lock();
    if seen.window != idx {
        seen.window = idx;
        seen.used = s.opts.others;
    }
    let mut h = HeaderMap::new();
    let allowed = !counted || seen.used < s.opts.limit;
    if allowed && counted {
        seen.used += 1;
        *seen.ok_per_window.entry(idx).or_default() += 1;
    }
    if allowed {
        seen.ok_times.push(now);
    } else {
        seen.rejected += 1;
    }
    let remaining = s.opts.limit.saturating_sub(seen.used);
    if s.opts.total_headers {
        h.insert("x-ratelimit-total", s.opts.limit.into());
        h.insert("x-ratelimit-remaining", remaining.into());
    }
    if s.opts.reset_headers {
        h.insert("x-ratelimit-limit", s.opts.limit.into());
        h.insert("x-ratelimit-remaining", remaining.into());
        h.insert("x-ratelimit-reset", HeaderValue::from(reset));
    }
    if allowed {
        (StatusCode::OK, h, "{\"ok\":true}")
    } else {
        if s.opts.retry_after {
            h.insert("retry-after", HeaderValue::from(reset));
        }
        (
            StatusCode::TOO_MANY_REQUESTS,
            h,
            "{\"error\":\"slow down\"}",
        )
    }
}

async fn fixed_window(clock: &ManualClock, opts: Opts) -> (String, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen {
        window: i64::MIN,
        ..Seen::default()
    }));
    let st = Fw {
        clock: clock.clone(),
        opts,
        seen: seen.clone(),
    };
    let router = axum::Router::new()
        .route("/{*path}", any(fw_handler))
        .with_state(st);
    (serve(router).await, seen)
}

fn api_with_plan(http: &HttpClient, base: &str, plan: RatePlan) -> ApiClient {
    let registry = BudgetRegistry::new(http.clock().clone());
    let budget = registry.budget("fresh:acme", plan);
    http.api(
        ApiConfig::new(base, "fresh:acme", Arc::new(StaticAuth::none()), budget)
            .jitter(Jitter::seeded(1)),
    )
    .unwrap()
}

/// Full windows (neither the first nor the last) and their counts.
fn full_windows(seen: &Seen) -> Vec<u32> {
    let v: Vec<u32> = seen.ok_per_window.values().copied().collect();
    v[1..v.len() - 1].to_vec()
}

#[tokio::test]
async fn steady_state_reaches_the_plan_limit_without_429() {
    let clock = ManualClock::new(START);
    let (base, seen) = fixed_window(&clock, Opts::new(40, 60)).await;
    let api = api_with_plan(&http(&clock), &base, RatePlan::per_minute(40));
    for _ in 0..200 {
        api.send(ApiRequest::get("/api/v2/tickets")).await.unwrap();
    }
    let seen = seen.lock();
    assert_eq!(seen.rejected, 0, "no 429 in steady state");
    let full = full_windows(&seen);
    assert!(full.len() >= 3, "{full:?}");
    for c in &full {
        assert!(*c >= 38, "≥95% of 40 per full window, got {full:?}");
    }
    // Paced: the first full window's requests are spread, not all in its first seconds.
    let first_full = seen.ok_per_window.keys().nth(1).copied().unwrap();
    let in_first_10s = seen
        .ok_times
        .iter()
        .filter(|t| t.unix_timestamp().div_euclid(60) == first_full)
        .filter(|t| t.unix_timestamp().rem_euclid(60) < 10)
        .count();
    assert!(
        in_first_10s < 20,
        "window exhausted early: {in_first_10s} requests in 10 s"
    );
    assert_eq!(api.metrics().responses_429, 0);
    assert!(api.budget().metrics().waited > Duration::from_secs(100));
}

#[tokio::test]
async fn concurrent_requests_share_the_budget_without_429() {
    let clock = ManualClock::new(START);
    let (base, seen) = fixed_window(&clock, Opts::new(60, 60)).await;
    let api = api_with_plan(&http(&clock), &base, RatePlan::per_minute(60));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..60 {
                api.send(ApiRequest::get("/x")).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let seen = seen.lock();
    assert_eq!(seen.rejected, 0);
    for c in full_windows(&seen) {
        assert!(c >= 57, "{:?}", seen.ok_per_window);
    }
}

#[tokio::test]
async fn retry_after_is_obeyed() {
    let clock = ManualClock::new(START);
    let mut o = Opts::new(2, 60);
    o.retry_after = true;
    let (base, seen) = fixed_window(&clock, o).await;
    // The client believes in a generous plan; the server says otherwise.
    let api = api_with_plan(
        &http(&clock),
        &base,
        RatePlan::per_minute(100).with_burst_fraction(1.0),
    );
    for _ in 0..3 {
        api.send(ApiRequest::get("/x")).await.unwrap();
    }
    // 10:00:37 → the third request got 429 with Retry-After: 23, waited exactly that.
    assert!(
        clock.sleeps().contains(&Duration::from_secs(23)),
        "{:?}",
        clock.sleeps()
    );
    assert_eq!(seen.lock().rejected, 1);
    let m = api.metrics();
    assert_eq!((m.requests, m.retries, m.responses_429), (4, 1, 1));
    assert_eq!(api.budget().metrics().responses_429, 1);
}

#[tokio::test]
async fn without_retry_after_a_429_waits_for_the_window_boundary() {
    let clock = ManualClock::new(START);
    let (base, seen) = fixed_window(&clock, Opts::new(5, 60)).await;
    let api = api_with_plan(
        &http(&clock),
        &base,
        RatePlan::per_minute(100).with_burst_fraction(1.0),
    );
    for _ in 0..8 {
        api.send(ApiRequest::get("/x")).await.unwrap();
    }
    let seen = seen.lock();
    assert_eq!(
        seen.rejected, 1,
        "one 429, then the client waited for the reset"
    );
    // The sixth success came at the next minute boundary (plus the budget's guard).
    let sixth = seen.ok_times[5];
    assert_eq!(
        sixth.unix_timestamp().div_euclid(60),
        START.unix_timestamp().div_euclid(60) + 1
    );
    assert!(sixth.second() == 0 && sixth.millisecond() <= 200, "{sixth}");
}

#[tokio::test]
async fn a_post_rate_limited_is_reported_not_retried() {
    let clock = ManualClock::new(START);
    let (base, seen) = fixed_window(&clock, Opts::new(1, 60)).await;
    let api = api_with_plan(
        &http(&clock),
        &base,
        RatePlan::per_minute(100).with_burst_fraction(1.0),
    );
    api.send(ApiRequest::get("/x")).await.unwrap();
    let err = api
        .send(
            ApiRequest::post("/api/v2/agents")
                .json(&serde_json::json!({"a": 1}))
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, HttpError::NotRetried { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("not retried because POST is not idempotent"),
        "{err}"
    );
    assert_eq!(err.status(), Some(StatusCode::TOO_MANY_REQUESTS));
    assert_eq!(seen.lock().rejected, 1);
}

#[tokio::test]
async fn hourly_limit_learned_from_headers_with_reset() {
    // Freshsales: 1000/h on paper; this account's server says 5/h through X-RateLimit-Limit.
    let clock = ManualClock::new(START);
    let mut o = Opts::new(5, 3600);
    o.reset_headers = true;
    let (base, seen) = fixed_window(&clock, o).await;
    let api = api_with_plan(&http(&clock), &base, RatePlan::per_hour(1000));
    for _ in 0..12 {
        api.send(ApiRequest::get("/crm/sales/api/selector/owners"))
            .await
            .unwrap();
    }
    assert_eq!(api.budget().limit(), Some(5));
    let seen = seen.lock();
    // The first response taught the limit; no request beyond it was sent.
    assert_eq!(seen.rejected, 0);
    assert_eq!(
        seen.ok_per_window.values().copied().collect::<Vec<_>>(),
        vec![5, 5, 2]
    );
}

#[tokio::test]
async fn hourly_429_without_retry_after_waits_for_the_reset_header() {
    let clock = ManualClock::new(START);
    let mut o = Opts::new(3, 3600);
    o.reset_headers = true;
    o.others = 2; // another integration already used 2 of 3 this hour
    let (base, seen) = fixed_window(&clock, o).await;
    let api = api_with_plan(
        &http(&clock),
        &base,
        RatePlan::per_hour(3).with_burst_fraction(1.0),
    );
    for _ in 0..3 {
        api.send(ApiRequest::get("/x")).await.unwrap();
    }
    let seen = seen.lock();
    assert_eq!(
        seen.rejected, 0,
        "Remaining 0 closed the window until the reset"
    );
    // 10:00:37 → reset at 11:00:00 (2003 s later).
    assert!(seen.ok_times[1] >= time::macros::datetime!(2026-03-02 11:00:00 UTC));
}

#[tokio::test]
async fn headers_show_other_integrations_and_the_budget_yields() {
    let clock = ManualClock::new(START);
    let mut o = Opts::new(40, 60);
    o.total_headers = true;
    o.others = 30;
    let (base, seen) = fixed_window(&clock, o).await;
    let api = api_with_plan(&http(&clock), &base, RatePlan::per_minute(40));
    for _ in 0..40 {
        api.send(ApiRequest::get("/x")).await.unwrap();
    }
    let seen = seen.lock();
    assert_eq!(seen.rejected, 0);
    assert!(api.budget().metrics().corrections > 0);
    for c in full_windows(&seen) {
        assert_eq!(c, 10, "our share is what the others left");
    }
}

#[tokio::test]
async fn per_endpoint_sublimit_is_respected() {
    let clock = ManualClock::new(START);
    let mut o = Opts::new(40, 60);
    o.only_path = Some("/api/v2/agents");
    let (base, seen) = fixed_window(&clock, o).await;
    let plan = RatePlan::per_minute(400).with_sublimit(SubLimit::new(
        "list agents",
        Some(Method::GET),
        "/api/v2/agents",
        40,
        Duration::from_secs(60),
    ));
    let api = api_with_plan(&http(&clock), &base, plan);
    for i in 0..150 {
        let path = if i % 3 == 0 {
            "/api/v2/tickets"
        } else {
            "/api/v2/agents"
        };
        api.send(ApiRequest::get(path).query(&[("page", i)]))
            .await
            .unwrap();
    }
    let seen = seen.lock();
    assert_eq!(seen.rejected, 0);
    for c in full_windows(&seen) {
        assert!(c >= 38, "{:?}", seen.ok_per_window);
    }
}

#[tokio::test]
async fn budgets_are_shared_per_account_across_clients() {
    let clock = ManualClock::new(START);
    let (base, seen) = fixed_window(&clock, Opts::new(10, 60)).await;
    let http = http(&clock);
    let registry = BudgetRegistry::new(http.clock().clone());
    // Two clients (say REST key and SCIM token) on one account share one budget.
    let a = http
        .api(ApiConfig::new(
            base.clone(),
            "fs:acme",
            Arc::new(StaticAuth::bearer(&Secret::new("a"), "fs:acme").unwrap()),
            registry.budget("fs:acme", RatePlan::per_minute(10)),
        ))
        .unwrap();
    let b = http
        .api(ApiConfig::new(
            base,
            "fs:acme",
            Arc::new(StaticAuth::token(&Secret::new("b"), "fs:acme").unwrap()),
            registry.budget("fs:acme", RatePlan::per_minute(999)),
        ))
        .unwrap();
    for _ in 0..25 {
        a.send(ApiRequest::get("/x")).await.unwrap();
        b.send(ApiRequest::get("/y")).await.unwrap();
    }
    assert_eq!(seen.lock().rejected, 0);
    assert!(Arc::ptr_eq(a.budget(), b.budget()));
    assert_eq!(registry.get("fs:acme").unwrap().metrics().admitted, 50);
}
