//! Fault injection, deterministic under a seed: 429 storms, 5xx errors, added latency,
//! dropped connections and malformed or truncated JSON.
//!
//! Faults are drawn from a ChaCha RNG seeded by [`FaultConfig::seed`], one draw sequence per
//! request in arrival order, so a sequential client sees the same faults on every run. The
//! control paths under `/_sim/` are never faulted. A 429 injected here carries the vendor's own
//! 429 shape (headers, `Retry-After` or not), supplied by the vendor module.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, StatusCode};
use parking_lot::Mutex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What to inject, as probabilities per request (0.0–1.0).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Seed of the fault RNG; the same seed gives the same faults for the same request order.
    pub seed: u64,
    /// Probability of answering 500, 502 or 503 (chosen evenly).
    pub error_rate: f64,
    /// Probability of answering a single 429.
    pub rate_429: f64,
    /// Probability that a request starts a 429 storm of `storm_length` consecutive 429s.
    pub storm_rate: f64,
    /// Length of a 429 storm, in requests.
    pub storm_length: u32,
    /// Probability of dropping the connection mid-response.
    pub drop_rate: f64,
    /// Probability of answering 200 with truncated JSON (or an HTML error page as JSON).
    pub malformed_rate: f64,
    /// Latency added to every request, in real milliseconds.
    pub latency_ms: u64,
    /// Random extra latency, uniform in `0..=latency_jitter_ms` real milliseconds.
    pub latency_jitter_ms: u64,
}

impl FaultConfig {
    /// The "20% 5xx, 429 storms, dropped connections" mix used by resilience tests.
    pub fn chaos(seed: u64) -> Self {
        Self {
            seed,
            error_rate: 0.2,
            rate_429: 0.0,
            storm_rate: 0.02,
            storm_length: 5,
            drop_rate: 0.05,
            malformed_rate: 0.0,
            latency_ms: 0,
            latency_jitter_ms: 0,
        }
    }

    fn is_quiet(&self) -> bool {
        self.error_rate <= 0.0
            && self.rate_429 <= 0.0
            && self.storm_rate <= 0.0
            && self.drop_rate <= 0.0
            && self.malformed_rate <= 0.0
            && self.latency_ms == 0
            && self.latency_jitter_ms == 0
    }
}

/// The fault a request gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    None,
    TooMany,
    ServerError(u16),
    Drop,
    Truncate,
    HtmlPage,
}

/// Builds the vendor's own 429 response for an injected rate-limit error.
pub type TooManyFn = Arc<dyn Fn() -> Response + Send + Sync>;

/// Counts of what was injected, by kind.
#[derive(Debug, Default, Serialize, Clone, PartialEq, Eq)]
pub struct InjectedCounts {
    pub too_many: u64,
    pub server_errors: u64,
    pub dropped: u64,
    pub malformed: u64,
}

/// The fault injector of one simulated app.
pub struct Faults {
    state: Mutex<FaultState>,
    too_many: u64_counter::Counter,
    server_errors: u64_counter::Counter,
    dropped: u64_counter::Counter,
    malformed: u64_counter::Counter,
}

mod u64_counter {
    use super::*;
    #[derive(Debug, Default)]
    pub struct Counter(AtomicU64);
    impl Counter {
        pub fn inc(&self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
        pub fn get(&self) -> u64 {
            self.0.load(Ordering::Relaxed)
        }
        pub fn clear(&self) {
            self.0.store(0, Ordering::Relaxed);
        }
    }
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults")
            .field("config", &self.state.lock().config)
            .finish()
    }
}

struct FaultState {
    config: FaultConfig,
    rng: ChaCha8Rng,
    storm_left: u32,
}

impl Default for Faults {
    fn default() -> Self {
        Self::new(FaultConfig::default())
    }
}

impl Faults {
    pub fn new(config: FaultConfig) -> Self {
        Self {
            state: Mutex::new(FaultState {
                rng: ChaCha8Rng::seed_from_u64(config.seed),
                config,
                storm_left: 0,
            }),
            too_many: Default::default(),
            server_errors: Default::default(),
            dropped: Default::default(),
            malformed: Default::default(),
        }
    }

    /// Replaces the configuration and reseeds the RNG.
    pub fn set(&self, config: FaultConfig) {
        let mut st = self.state.lock();
        st.rng = ChaCha8Rng::seed_from_u64(config.seed);
        st.config = config;
        st.storm_left = 0;
    }

    pub fn config(&self) -> FaultConfig {
        self.state.lock().config.clone()
    }

    pub fn injected(&self) -> InjectedCounts {
        InjectedCounts {
            too_many: self.too_many.get(),
            server_errors: self.server_errors.get(),
            dropped: self.dropped.get(),
            malformed: self.malformed.get(),
        }
    }

    pub fn clear_counts(&self) {
        self.too_many.clear();
        self.server_errors.clear();
        self.dropped.clear();
        self.malformed.clear();
    }

    /// Draws the fault and the added latency for the next request.
    pub fn draw(&self) -> (Fault, Duration) {
        let mut st = self.state.lock();
        if st.config.is_quiet() && st.storm_left == 0 {
            return (Fault::None, Duration::ZERO);
        }
        let cfg = st.config.clone();
        let jitter = if cfg.latency_jitter_ms > 0 {
            st.rng.gen_range(0..=cfg.latency_jitter_ms)
        } else {
            0
        };
        let latency = Duration::from_millis(cfg.latency_ms + jitter);
        if st.storm_left > 0 {
            st.storm_left -= 1;
            return (Fault::TooMany, latency);
        }
        let x: f64 = st.rng.gen();
        let mut edge = cfg.storm_rate;
        if x < edge {
            st.storm_left = cfg.storm_length.saturating_sub(1);
            return (Fault::TooMany, latency);
        }
        edge += cfg.rate_429;
        if x < edge {
            return (Fault::TooMany, latency);
        }
        edge += cfg.error_rate;
        if x < edge {
            let code = [500, 502, 503][st.rng.gen_range(0..3usize)];
            return (Fault::ServerError(code), latency);
        }
        edge += cfg.drop_rate;
        if x < edge {
            return (Fault::Drop, latency);
        }
        edge += cfg.malformed_rate;
        if x < edge {
            let f = if st.rng.gen_bool(0.5) {
                Fault::Truncate
            } else {
                Fault::HtmlPage
            };
            return (f, latency);
        }
        (Fault::None, latency)
    }
}

/// State of the fault middleware: the injector and the vendor's 429 builder.
#[derive(Clone)]
pub struct FaultLayerState {
    pub faults: Arc<Faults>,
    pub too_many: TooManyFn,
}

/// axum middleware applying the drawn fault to vendor paths (never to `/_sim/`).
pub async fn fault_middleware(
    State(st): State<FaultLayerState>,
    req: Request,
    next: Next,
) -> Response {
    if req.uri().path().starts_with("/_sim") {
        return next.run(req).await;
    }
    let (fault, latency) = st.faults.draw();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Fault::None => next.run(req).await,
        Fault::TooMany => {
            st.faults.too_many.inc();
            (st.too_many)()
        }
        Fault::ServerError(code) => {
            st.faults.server_errors.inc();
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = match code {
                502 => "<html><body><h1>502 Bad Gateway</h1></body></html>",
                503 => "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>",
                _ => "{\"code\":\"internal_error\",\"message\":\"We're sorry, but something went wrong.\"}",
            };
            (status, body).into_response()
        }
        Fault::Drop => {
            st.faults.dropped.inc();
            dropped_response()
        }
        Fault::Truncate => {
            st.faults.malformed.inc();
            let resp = next.run(req).await;
            truncate(resp).await
        }
        Fault::HtmlPage => {
            st.faults.malformed.inc();
            let mut resp = (
                StatusCode::OK,
                "<!DOCTYPE html><html><head><title>Maintenance</title></head><body>Be right back</body></html>",
            )
                .into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json; charset=utf-8"),
            );
            resp
        }
    }
}

/// A response whose body fails right away: hyper aborts the connection mid-response, which the
/// client sees as a dropped connection.
fn dropped_response() -> Response {
    let stream = futures::stream::once(async {
        Err::<bytes::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "simulated dropped connection",
        ))
    });
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp
}

async fn truncate(resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(_) => return dropped_response(),
    };
    let cut = if bytes.len() > 1 { bytes.len() / 2 } else { 0 };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.status = StatusCode::OK;
    Response::from_parts(parts, Body::from(bytes.slice(..cut)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_faults() {
        let cfg = FaultConfig {
            seed: 7,
            error_rate: 0.2,
            storm_rate: 0.05,
            storm_length: 4,
            drop_rate: 0.05,
            malformed_rate: 0.05,
            ..Default::default()
        };
        let a = Faults::new(cfg.clone());
        let b = Faults::new(cfg);
        let xs: Vec<_> = (0..500).map(|_| a.draw().0).collect();
        let ys: Vec<_> = (0..500).map(|_| b.draw().0).collect();
        assert_eq!(xs, ys);
        let errors = xs
            .iter()
            .filter(|f| matches!(f, Fault::ServerError(_)))
            .count();
        assert!((60..=140).contains(&errors), "about 20% 5xx, got {errors}");
        assert!(xs.contains(&Fault::Drop));
        assert!(xs
            .iter()
            .any(|f| *f == Fault::Truncate || *f == Fault::HtmlPage));
    }

    #[test]
    fn a_storm_is_consecutive_429s() {
        let f = Faults::new(FaultConfig {
            seed: 1,
            storm_rate: 1.0,
            storm_length: 3,
            ..Default::default()
        });
        assert_eq!(f.draw().0, Fault::TooMany);
        f.set(FaultConfig {
            seed: 1,
            storm_rate: 0.0,
            ..Default::default()
        });
        // set() ends a running storm
        assert_eq!(f.draw().0, Fault::None);
        let f = Faults::new(FaultConfig {
            seed: 1,
            storm_rate: 0.5,
            storm_length: 3,
            ..Default::default()
        });
        let seq: Vec<_> = (0..200).map(|_| f.draw().0).collect();
        let first = seq.iter().position(|x| *x == Fault::TooMany).unwrap();
        assert!(seq[first..first + 3].iter().all(|x| *x == Fault::TooMany));
    }

    fn faulty_router(cfg: FaultConfig) -> (axum::Router, Arc<Faults>) {
        let faults = Arc::new(Faults::new(cfg));
        let state = FaultLayerState {
            faults: faults.clone(),
            too_many: Arc::new(|| (StatusCode::TOO_MANY_REQUESTS, "vendor 429").into_response()),
        };
        let router = axum::Router::new()
            .route(
                "/api/v2/agents",
                axum::routing::get(|| async {
                    axum::Json(serde_json::json!({"agents": [{"id": 1}]}))
                }),
            )
            .route("/_sim/health", axum::routing::get(|| async { "ok" }))
            .layer(axum::middleware::from_fn_with_state(
                state,
                fault_middleware,
            ));
        (router, faults)
    }

    async fn call(router: &axum::Router, path: &str) -> (StatusCode, Result<bytes::Bytes, String>) {
        use tower::ServiceExt;
        let req = http::Request::get(path).body(Body::empty()).unwrap();
        let resp = router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .map_err(|e| e.to_string());
        (status, body)
    }

    #[tokio::test]
    async fn each_fault_reaches_the_client() {
        let one = |f: fn(&mut FaultConfig)| {
            let mut c = FaultConfig {
                seed: 3,
                ..Default::default()
            };
            f(&mut c);
            faulty_router(c)
        };
        let (r, f) = one(|c| c.error_rate = 1.0);
        let (status, _) = call(&r, "/api/v2/agents").await;
        assert!([500, 502, 503].contains(&status.as_u16()), "{status}");
        assert_eq!(f.injected().server_errors, 1);

        let (r, _) = one(|c| c.rate_429 = 1.0);
        let (status, body) = call(&r, "/api/v2/agents").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(body.unwrap(), "vendor 429", "the vendor's own 429 shape");

        let (r, _) = one(|c| c.malformed_rate = 1.0);
        for _ in 0..4 {
            let (status, body) = call(&r, "/api/v2/agents").await;
            assert_eq!(status, StatusCode::OK);
            let body = body.unwrap();
            assert!(
                serde_json::from_slice::<serde_json::Value>(&body).is_err(),
                "{body:?}"
            );
        }

        let (r, f) = one(|c| c.drop_rate = 1.0);
        let (_, body) = call(&r, "/api/v2/agents").await;
        assert!(body.is_err(), "the body fails mid-response");
        assert_eq!(f.injected().dropped, 1);

        // Control paths are never faulted.
        let (r, _) = one(|c| c.error_rate = 1.0);
        let (status, _) = call(&r, "/_sim/health").await;
        assert_eq!(status, StatusCode::OK);
    }

    #[test]
    fn quiet_config_injects_nothing() {
        let f = Faults::default();
        assert!((0..100).all(|_| f.draw() == (Fault::None, Duration::ZERO)));
    }
}
