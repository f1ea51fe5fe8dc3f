//! Retry policy: which requests are retried, how often, and how long to wait between tries
//! (exponential back-off with full jitter, from an injectable, seedable RNG).
//!
//! Only idempotent requests (GET, HEAD, PUT, DELETE, OPTIONS, or a request explicitly marked
//! idempotent) are retried after 429, 5xx, timeouts, dropped connections and malformed JSON
//! bodies. A 429 waits for `Retry-After` or the rate window's reset instead of the back-off.

use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// How failed requests are retried.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryPolicy {
    /// Tries in all, the first included (default 6). 1 disables retries.
    pub max_attempts: u32,
    /// Back-off cap before jitter for the first retry, seconds (default 0.5).
    #[serde(with = "crate::config::secs")]
    pub base_delay: Duration,
    /// Largest back-off cap, seconds (default 30).
    #[serde(with = "crate::config::secs")]
    pub max_delay: Duration,
    /// No retry starts after this much time since the first try, seconds (default 300).
    /// Waits for a rate window are not limited by it but by `max_rate_limit_wait`.
    #[serde(with = "crate::config::secs")]
    pub max_elapsed: Duration,
    /// Longest single wait for a rate limit to lift (Retry-After or window reset) before the
    /// 429 is returned instead, seconds (default 3660: an hourly window plus a minute).
    #[serde(with = "crate::config::secs")]
    pub max_rate_limit_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_elapsed: Duration::from_secs(300),
            max_rate_limit_wait: Duration::from_secs(3660),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The back-off cap before retry number `retry` (1-based): `min(max, base · 2^(retry-1))`.
    pub fn cap(&self, retry: u32) -> Duration {
        let exp = retry.saturating_sub(1).min(30);
        let cap = self.base_delay.saturating_mul(1u32 << exp);
        cap.min(self.max_delay)
    }
}

/// The random source of jitter, shared by the requests of one API client.
#[derive(Debug, Clone)]
pub struct Jitter(Arc<Mutex<StdRng>>);

impl Jitter {
    /// Seeded from the OS.
    pub fn from_entropy() -> Self {
        Self(Arc::new(Mutex::new(StdRng::from_entropy())))
    }

    /// Deterministic, for tests.
    pub fn seeded(seed: u64) -> Self {
        Self(Arc::new(Mutex::new(StdRng::seed_from_u64(seed))))
    }

    /// Full jitter: a uniform duration in `[0, cap]`.
    pub fn full(&self, cap: Duration) -> Duration {
        let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(self.0.lock().gen_range(0..=nanos))
    }
}

impl Default for Jitter {
    fn default() -> Self {
        Self::from_entropy()
    }
}

/// Whether a method is idempotent by RFC 9110 (safe to send twice).
pub fn is_idempotent(method: &http::Method) -> bool {
    use http::Method;
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_grow_exponentially_to_max() {
        let p = RetryPolicy::default();
        assert_eq!(p.cap(1), Duration::from_millis(500));
        assert_eq!(p.cap(2), Duration::from_secs(1));
        assert_eq!(p.cap(4), Duration::from_secs(4));
        assert_eq!(p.cap(20), Duration::from_secs(30));
    }

    #[test]
    fn seeded_jitter_is_reproducible_and_bounded() {
        let a = Jitter::seeded(7);
        let b = Jitter::seeded(7);
        for _ in 0..100 {
            let cap = Duration::from_secs(2);
            let x = a.full(cap);
            assert_eq!(x, b.full(cap));
            assert!(x <= cap);
        }
    }
}
