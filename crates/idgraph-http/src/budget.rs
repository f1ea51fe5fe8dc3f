//! Rate budgets: one per vendor account, shared by every request to that account whatever
//! the credential, so that a sync never runs into the vendor's fixed-window limit.
//!
//! The vendors count requests in fixed windows (a minute; an hour for Freshsales) aligned to
//! wall-clock boundaries. A [`RateBudget`] keeps the same count locally, per window index
//! `floor(unix_time / window)`, and paces requests inside the window: a small burst may go at
//! once, the rest are spread evenly so the last slot falls one interval before the boundary.
//! Every slot fits in its window, so the steady state reaches the whole plan limit, and a
//! sync never exhausts the window in its first seconds (which would starve other integrations
//! on the same account). Response headers correct the picture (`X-RateLimit-Remaining`,
//! `X-RateLimit-Total`/`-Limit`, `X-RateLimit-Reset`): what other integrations used shows up
//! as fewer remaining requests and pushes our slots later. A 429 closes the window until
//! `Retry-After`, the `X-RateLimit-Reset`, or else the next window boundary.
//!
//! Per-endpoint sub-limits (e.g. Freshservice's 40/min on listing agents) are extra windows a
//! request must also fit into; all windows of a request are reserved atomically.
//! [`BudgetRegistry`] hands out one `Arc<RateBudget>` per account id.

use crate::clock::{unix_f64, SharedClock};
use http::{HeaderMap, Method, StatusCode};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// A per-endpoint limit: requests with this method whose path matches `path` (exactly, or as
/// a prefix when it ends with `*`) also count against `limit` per `window`.
#[derive(Debug, Clone)]
pub struct SubLimit {
    pub name: String,
    pub method: Option<Method>,
    pub path: String,
    /// Further paths counted against the same window, matched like `path` (two endpoints
    /// sharing one limit, e.g. Freshservice's list agents and list requesters).
    pub also: Vec<String>,
    pub limit: u32,
    pub window: Duration,
}

impl SubLimit {
    /// A sub-limit for `method` (None: any method) on `path` (`/api/v2/agents` exactly, or
    /// `/api/v2/agents*` as a prefix).
    pub fn new(
        name: impl Into<String>,
        method: Option<Method>,
        path: impl Into<String>,
        limit: u32,
        window: Duration,
    ) -> Self {
        Self {
            name: name.into(),
            method,
            path: path.into(),
            also: Vec::new(),
            limit,
            window,
        }
    }

    /// Counts requests to `path` as well (same method rule) against this window.
    pub fn or_path(mut self, path: impl Into<String>) -> Self {
        self.also.push(path.into());
        self
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        if let Some(m) = &self.method {
            if m != method {
                return false;
            }
        }
        std::iter::once(&self.path)
            .chain(&self.also)
            .any(|p| match p.strip_suffix('*') {
                Some(prefix) => path.starts_with(prefix),
                None => path == p || path == format!("{p}/"),
            })
    }
}

/// The plan of an account: `limit` requests per `window`, plus sub-limits.
#[derive(Debug, Clone)]
pub struct RatePlan {
    pub limit: u32,
    pub window: Duration,
    /// Share of the window's limit that may go at once at the start of a window (default
    /// 0.1); the rest is spread evenly over the window.
    pub burst_fraction: f64,
    /// Slots start this long after the boundary, against small clock differences with the
    /// server (default 200 ms).
    pub boundary_guard: Duration,
    pub sublimits: Vec<SubLimit>,
}

impl RatePlan {
    /// `limit` requests per `window`.
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit: limit.max(1),
            window: window.max(Duration::from_secs(1)),
            burst_fraction: 0.1,
            boundary_guard: Duration::from_millis(200),
            sublimits: Vec::new(),
        }
    }

    /// `limit` requests per minute.
    pub fn per_minute(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(60))
    }

    /// `limit` requests per hour.
    pub fn per_hour(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(3600))
    }

    /// Adds a per-endpoint sub-limit.
    pub fn with_sublimit(mut self, s: SubLimit) -> Self {
        self.sublimits.push(s);
        self
    }

    /// Sets the burst share (0 = perfectly even pacing, 1 = no pacing).
    pub fn with_burst_fraction(mut self, f: f64) -> Self {
        self.burst_fraction = if f.is_finite() {
            f.clamp(0.0, 1.0)
        } else {
            0.1
        };
        self
    }

    /// Sets the boundary guard.
    pub fn with_boundary_guard(mut self, d: Duration) -> Self {
        self.boundary_guard = d;
        self
    }
}

#[derive(Debug)]
struct WindowState {
    name: String,
    limit: u32,
    window_secs: f64,
    burst_fraction: f64,
    guard_secs: f64,
    index: i64,
    used: u32,
    blocked_until: Option<OffsetDateTime>,
}

impl WindowState {
    fn new(name: String, limit: u32, window: Duration, burst: f64, guard: Duration) -> Self {
        let window_secs = window.as_secs_f64().max(1.0);
        Self {
            name,
            limit: limit.max(1),
            window_secs,
            burst_fraction: burst,
            guard_secs: guard.as_secs_f64().min(window_secs / 10.0),
            index: i64::MIN,
            used: 0,
            blocked_until: None,
        }
    }

    fn index_at(&self, now: OffsetDateTime) -> i64 {
        (unix_f64(now) / self.window_secs).floor() as i64
    }

    fn roll(&mut self, now: OffsetDateTime) {
        let i = self.index_at(now);
        if i != self.index {
            self.index = i;
            self.used = 0;
        }
        if let Some(b) = self.blocked_until {
            if b <= now {
                self.blocked_until = None;
            }
        }
    }

    fn at_secs(secs: f64) -> OffsetDateTime {
        let whole = secs.floor();
        let nanos = ((secs - whole) * 1e9) as i64;
        OffsetDateTime::from_unix_timestamp(whole as i64)
            .map(|t| t + time::Duration::nanoseconds(nanos))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// The next window boundary after `now`.
    fn next_boundary(&self, now: OffsetDateTime) -> OffsetDateTime {
        let i = self.index_at(now);
        Self::at_secs((i + 1) as f64 * self.window_secs)
    }

    fn burst(&self) -> u32 {
        ((f64::from(self.limit) * self.burst_fraction).floor() as u32).min(self.limit)
    }

    /// Earliest time the next request may go (after `roll(now)`).
    fn earliest(&self, now: OffsetDateTime) -> OffsetDateTime {
        if let Some(b) = self.blocked_until {
            if b > now {
                return b;
            }
        }
        if self.used >= self.limit {
            return self.next_boundary(now);
        }
        let start = self.index as f64 * self.window_secs + self.guard_secs;
        let burst = self.burst();
        let n = self.used;
        let slot = if n < burst {
            start
        } else {
            let span = self.window_secs - self.guard_secs;
            let paced = f64::from(self.limit - burst + 1);
            start + f64::from(n - burst + 1) * span / paced
        };
        let t = Self::at_secs(slot);
        if t > now {
            t
        } else {
            now
        }
    }
}

/// Counters of one budget.
#[derive(Debug, Default)]
struct BudgetCounters {
    admitted: AtomicU64,
    waits: AtomicU64,
    waited_nanos: AtomicU64,
    responses_429: AtomicU64,
    corrections: AtomicU64,
}

/// A snapshot of a budget's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BudgetMetrics {
    /// Requests let through.
    pub admitted: u64,
    /// Times a request had to wait.
    pub waits: u64,
    /// Total time requests waited for the budget (or a 429's window to reset).
    pub waited: Duration,
    /// 429 responses seen on this account.
    pub responses_429: u64,
    /// Times response headers showed more use than counted locally (another integration).
    pub corrections: u64,
}

/// Where a budget's account window stands at one moment (for progress displays).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowStatus {
    /// The window's limit (after header corrections).
    pub limit: u32,
    /// Requests counted in the current window (ours, plus others' seen in headers).
    pub used: u32,
    /// Requests left in the current window (0 while a 429 keeps it closed).
    pub remaining: u32,
    /// Time until the window reopens or resets.
    pub resets_in: Duration,
}

/// The windows a request was admitted into, to match its response headers to them.
#[derive(Debug, Clone)]
pub struct Reservation {
    /// (window slot: 0 = account, i = sub-limit i-1; window index at admission)
    windows: Vec<(usize, i64)>,
}

/// Rate-limit facts parsed from a response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateHeaders {
    pub limit: Option<u32>,
    pub remaining: Option<u32>,
    /// Seconds until the window resets.
    pub reset_secs: Option<u64>,
    /// `Retry-After`, seconds.
    pub retry_after_secs: Option<u64>,
}

impl RateHeaders {
    /// Reads `X-RateLimit-Total`/`-Limit`, `-Remaining`, `-Reset` (seconds, or a Unix time)
    /// and `Retry-After` (seconds).
    pub fn parse(headers: &HeaderMap, now: OffsetDateTime) -> Self {
        fn num(h: &HeaderMap, name: &str) -> Option<u64> {
            let v = h.get(name)?.to_str().ok()?.trim();
            v.parse::<u64>().ok().or_else(|| {
                v.parse::<f64>()
                    .ok()
                    .filter(|f| *f >= 0.0)
                    .map(|f| f.ceil() as u64)
            })
        }
        let limit = num(headers, "x-ratelimit-total")
            .or_else(|| num(headers, "x-ratelimit-limit"))
            .map(|v| u32::try_from(v).unwrap_or(u32::MAX));
        let remaining =
            num(headers, "x-ratelimit-remaining").map(|v| u32::try_from(v).unwrap_or(u32::MAX));
        let reset_secs = num(headers, "x-ratelimit-reset").map(|v| {
            // A value this large is an absolute Unix time, not a delay.
            if v > 1_000_000_000 {
                u64::try_from(v as i64 - now.unix_timestamp()).unwrap_or(0)
            } else {
                v
            }
        });
        let retry_after_secs = num(headers, "retry-after");
        Self {
            limit,
            remaining,
            reset_secs,
            retry_after_secs,
        }
    }
}

/// The shared request budget of one vendor account.
#[derive(Debug)]
pub struct RateBudget {
    account: String,
    clock: SharedClock,
    sublimits: Vec<SubLimit>,
    windows: Option<Mutex<Vec<WindowState>>>,
    counters: BudgetCounters,
}

impl RateBudget {
    /// A budget following `plan`.
    pub fn new(account: impl Into<String>, plan: RatePlan, clock: SharedClock) -> Self {
        let mut windows = vec![WindowState::new(
            "account".to_string(),
            plan.limit,
            plan.window,
            plan.burst_fraction,
            plan.boundary_guard,
        )];
        for s in &plan.sublimits {
            windows.push(WindowState::new(
                s.name.clone(),
                s.limit,
                s.window,
                plan.burst_fraction,
                plan.boundary_guard,
            ));
        }
        Self {
            account: account.into(),
            clock,
            sublimits: plan.sublimits,
            windows: Some(Mutex::new(windows)),
            counters: BudgetCounters::default(),
        }
    }

    /// A budget that never waits (it still counts and obeys 429s through retries).
    pub fn unlimited(account: impl Into<String>, clock: SharedClock) -> Self {
        Self {
            account: account.into(),
            clock,
            sublimits: Vec::new(),
            windows: None,
            counters: BudgetCounters::default(),
        }
    }

    /// The account id this budget belongs to.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The account window's current limit (after header corrections); None when unlimited.
    pub fn limit(&self) -> Option<u32> {
        self.windows.as_ref().map(|w| w.lock()[0].limit)
    }

    /// The account window as it stands now: limit, used, remaining and time to its reset;
    /// `None` for an unlimited budget. Read-only: it reserves nothing.
    pub fn window_status(&self) -> Option<WindowStatus> {
        let windows = self.windows.as_ref()?;
        let now = self.clock.now();
        let ws = windows.lock();
        let w = &ws[0];
        let used = if w.index_at(now) == w.index {
            w.used
        } else {
            0
        };
        let blocked = w.blocked_until.filter(|b| *b > now);
        let remaining = if blocked.is_some() {
            0
        } else {
            w.limit.saturating_sub(used)
        };
        let until = blocked.unwrap_or_else(|| w.next_boundary(now));
        Some(WindowStatus {
            limit: w.limit,
            used: used.min(w.limit),
            remaining,
            resets_in: crate::clock::until(now, until),
        })
    }

    fn applicable(&self, method: &Method, path: &str) -> Vec<usize> {
        let mut v = vec![0];
        for (i, s) in self.sublimits.iter().enumerate() {
            if s.matches(method, path) {
                v.push(i + 1);
            }
        }
        v
    }

    /// Waits until a request `method path` fits every window it counts against, and reserves
    /// it there.
    pub async fn acquire(&self, method: &Method, path: &str) -> Reservation {
        let Some(windows) = &self.windows else {
            self.counters.admitted.fetch_add(1, Ordering::Relaxed);
            return Reservation {
                windows: Vec::new(),
            };
        };
        let which = self.applicable(method, path);
        let mut waited = false;
        loop {
            let now = self.clock.now();
            let wait_until = {
                let mut ws = windows.lock();
                let mut t = now;
                for &i in &which {
                    ws[i].roll(now);
                    let e = ws[i].earliest(now);
                    if e > t {
                        t = e;
                    }
                }
                if t <= now {
                    let mut res = Vec::with_capacity(which.len());
                    for &i in &which {
                        ws[i].used = ws[i].used.saturating_add(1);
                        res.push((i, ws[i].index));
                    }
                    self.counters.admitted.fetch_add(1, Ordering::Relaxed);
                    return Reservation { windows: res };
                }
                t
            };
            if !waited {
                waited = true;
                self.counters.waits.fetch_add(1, Ordering::Relaxed);
            }
            let d = crate::clock::until(now, wait_until);
            self.counters.waited_nanos.fetch_add(
                u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
                Ordering::Relaxed,
            );
            tracing::debug!(account = %self.account, wait_ms = d.as_millis() as u64, "waiting for rate budget");
            self.clock.sleep_until(wait_until).await;
        }
    }

    /// The window a response's rate headers describe: a matched sub-limit whose limit equals
    /// the header's total, else the account window.
    fn target(&self, ws: &[WindowState], res: &Reservation, h: &RateHeaders) -> usize {
        if let Some(total) = h.limit {
            for &(i, _) in res.windows.iter().skip(1) {
                if ws[i].limit == total {
                    return i;
                }
            }
        }
        0
    }

    /// Learns from a response: corrects the count and limit from rate headers and, on 429,
    /// closes the window. Returns, for a 429, how long to wait before trying again.
    pub fn observe(
        &self,
        res: &Reservation,
        status: StatusCode,
        headers: &HeaderMap,
    ) -> Option<Duration> {
        let now = self.clock.now();
        let h = RateHeaders::parse(headers, now);
        let is_429 = status == StatusCode::TOO_MANY_REQUESTS;
        if is_429 {
            self.counters.responses_429.fetch_add(1, Ordering::Relaxed);
        }
        let Some(windows) = &self.windows else {
            // No plan known: without Retry-After or a reset header, wait for the next
            // minute boundary (the vendors' windows are whole minutes or hours).
            return is_429.then(|| {
                h.retry_after_secs
                    .or(h.reset_secs)
                    .map(Duration::from_secs)
                    .unwrap_or_else(|| {
                        let minute = WindowState::new(
                            String::new(),
                            1,
                            Duration::from_secs(60),
                            0.0,
                            Duration::ZERO,
                        );
                        crate::clock::until(now, minute.next_boundary(now))
                    })
            });
        };
        let mut ws = windows.lock();
        let t = self.target(&ws, res, &h);
        let admitted_index = res
            .windows
            .iter()
            .find(|(i, _)| *i == t)
            .map(|(_, idx)| *idx);
        let w = &mut ws[t];
        w.roll(now);
        if let Some(total) = h.limit {
            if t == 0 && total > 0 && total != w.limit {
                tracing::info!(account = %self.account, plan = w.limit, server = total, "rate limit differs from the plan; following the server");
                w.limit = total;
            }
        }
        let same_window = admitted_index == Some(w.index);
        if let (Some(remaining), true) = (h.remaining, same_window) {
            let server_used = w.limit.saturating_sub(remaining);
            if server_used > w.used {
                self.counters.corrections.fetch_add(1, Ordering::Relaxed);
                w.used = server_used;
            }
            if remaining == 0 {
                w.used = w.used.max(w.limit);
                if let Some(r) = h.reset_secs {
                    let b = now + Duration::from_secs(r);
                    w.blocked_until = Some(w.blocked_until.map_or(b, |x| x.max(b)));
                }
            }
        }
        if !is_429 {
            return None;
        }
        let wait = if let Some(ra) = h.retry_after_secs {
            Duration::from_secs(ra)
        } else if let Some(r) = h.reset_secs {
            Duration::from_secs(r)
        } else {
            crate::clock::until(now, w.next_boundary(now))
        };
        let until = now + wait;
        w.blocked_until = Some(w.blocked_until.map_or(until, |x| x.max(until)));
        w.used = w.used.max(w.limit);
        tracing::warn!(account = %self.account, window = %w.name, wait_s = wait.as_secs_f64(), "HTTP 429: rate window closed");
        Some(wait)
    }

    /// A snapshot of this budget's counters.
    pub fn metrics(&self) -> BudgetMetrics {
        let c = &self.counters;
        BudgetMetrics {
            admitted: c.admitted.load(Ordering::Relaxed),
            waits: c.waits.load(Ordering::Relaxed),
            waited: Duration::from_nanos(c.waited_nanos.load(Ordering::Relaxed)),
            responses_429: c.responses_429.load(Ordering::Relaxed),
            corrections: c.corrections.load(Ordering::Relaxed),
        }
    }
}

/// One budget per vendor account id, shared by everything that talks to that account.
#[derive(Debug)]
pub struct BudgetRegistry {
    clock: SharedClock,
    budgets: Mutex<HashMap<String, Arc<RateBudget>>>,
}

impl BudgetRegistry {
    /// An empty registry on `clock`.
    pub fn new(clock: SharedClock) -> Self {
        Self {
            clock,
            budgets: Mutex::new(HashMap::new()),
        }
    }

    /// The budget of `account`, created with `plan` the first time (later plans are ignored:
    /// the account has one plan, whoever asks).
    pub fn budget(&self, account: &str, plan: RatePlan) -> Arc<RateBudget> {
        self.budgets
            .lock()
            .entry(account.to_string())
            .or_insert_with(|| Arc::new(RateBudget::new(account, plan, self.clock.clone())))
            .clone()
    }

    /// The budget of `account`, never waiting, created the first time.
    pub fn unlimited(&self, account: &str) -> Arc<RateBudget> {
        self.budgets
            .lock()
            .entry(account.to_string())
            .or_insert_with(|| Arc::new(RateBudget::unlimited(account, self.clock.clone())))
            .clone()
    }

    /// The budget of `account` if one exists.
    pub fn get(&self, account: &str) -> Option<Arc<RateBudget>> {
        self.budgets.lock().get(account).cloned()
    }

    /// Every account's metrics.
    pub fn metrics(&self) -> Vec<(String, BudgetMetrics)> {
        let mut v: Vec<_> = self
            .budgets
            .lock()
            .iter()
            .map(|(k, b)| (k.clone(), b.metrics()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use time::macros::datetime;

    #[tokio::test]
    async fn paced_requests_fill_each_window_exactly() {
        let clock = ManualClock::new(datetime!(2026-01-01 10:00:37 UTC));
        let b = RateBudget::new("a", RatePlan::per_minute(40), clock.shared());
        let mut per_window: HashMap<i64, u32> = HashMap::new();
        for _ in 0..200 {
            b.acquire(&Method::GET, "/x").await;
            let idx = clock.now().unix_timestamp().div_euclid(60);
            *per_window.entry(idx).or_default() += 1;
        }
        let mut counts: Vec<_> = per_window.into_iter().collect();
        counts.sort();
        // Full windows (not the first, partial one, nor the last) hold exactly the limit.
        for (_, c) in &counts[1..counts.len() - 1] {
            assert_eq!(*c, 40);
        }
        assert!(counts.iter().all(|(_, c)| *c <= 40));
    }

    #[tokio::test]
    async fn window_status_shows_what_is_left_and_when_it_resets() {
        let clock = ManualClock::new(datetime!(2026-01-01 10:00:50 UTC));
        let b = RateBudget::new("a", RatePlan::per_minute(10), clock.shared());
        let s = b.window_status().unwrap();
        assert_eq!((s.limit, s.used, s.remaining), (10, 0, 10));
        assert_eq!(s.resets_in, Duration::from_secs(10));
        let res = b.acquire(&Method::GET, "/x").await;
        let s = b.window_status().unwrap();
        assert_eq!((s.used, s.remaining), (1, 9));
        // Another integration used 4 more (the header shows it).
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", "5".parse().unwrap());
        b.observe(&res, StatusCode::OK, &h);
        assert_eq!(b.window_status().unwrap().remaining, 5);
        // A new window starts empty.
        clock.advance(Duration::from_secs(15));
        let s = b.window_status().unwrap();
        assert_eq!((s.used, s.remaining), (0, 10));
        assert_eq!(s.resets_in, Duration::from_secs(55));
        // A 429 closes it until Retry-After.
        let res = b.acquire(&Method::GET, "/x").await;
        let mut h = HeaderMap::new();
        h.insert("retry-after", "30".parse().unwrap());
        b.observe(&res, StatusCode::TOO_MANY_REQUESTS, &h);
        let s = b.window_status().unwrap();
        assert_eq!(s.remaining, 0);
        assert_eq!(s.resets_in, Duration::from_secs(30));
        let u = RateBudget::unlimited("u", clock.shared());
        assert_eq!(u.window_status(), None);
    }

    #[tokio::test]
    async fn a_sublimit_with_two_paths_is_one_window() {
        let clock = ManualClock::new(datetime!(2026-01-01 10:00:00.5 UTC));
        let plan = RatePlan::per_minute(1000).with_sublimit(
            SubLimit::new("lists", None, "/a", 10, Duration::from_secs(60)).or_path("/b"),
        );
        let b = RateBudget::new("a", plan, clock.shared());
        for i in 0..10 {
            b.acquire(&Method::GET, if i % 2 == 0 { "/a" } else { "/b" })
                .await;
        }
        let first = clock.now().unix_timestamp().div_euclid(60);
        b.acquire(&Method::GET, "/c").await;
        assert_eq!(clock.now().unix_timestamp().div_euclid(60), first);
        b.acquire(&Method::GET, "/b").await;
        assert_eq!(clock.now().unix_timestamp().div_euclid(60), first + 1);
    }

    #[test]
    fn parses_reset_as_delay_or_unix_time() {
        let now = datetime!(2026-01-01 10:00:00 UTC);
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-reset", "42".parse().unwrap());
        assert_eq!(RateHeaders::parse(&h, now).reset_secs, Some(42));
        let abs = (now.unix_timestamp() + 30).to_string();
        h.insert("x-ratelimit-reset", abs.parse().unwrap());
        assert_eq!(RateHeaders::parse(&h, now).reset_secs, Some(30));
    }

    #[test]
    fn sublimit_matching() {
        let s = SubLimit::new(
            "agents",
            Some(Method::GET),
            "/api/v2/agents",
            40,
            Duration::from_secs(60),
        );
        assert!(s.matches(&Method::GET, "/api/v2/agents"));
        assert!(!s.matches(&Method::GET, "/api/v2/agents/42"));
        assert!(!s.matches(&Method::POST, "/api/v2/agents"));
        let p = SubLimit::new("all", None, "/api/v2/*", 40, Duration::from_secs(60));
        assert!(p.matches(&Method::PUT, "/api/v2/agents/42"));
    }
}
