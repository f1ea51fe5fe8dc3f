//! Fixed-window rate limits, per vendor account, on the simulated clock.
//!
//! Every vendor here counts requests in fixed windows (a minute, or an hour for Freshsales)
//! that reset on the window boundary, so the limiter is a counter per window index. The vendor
//! modules decide which limiters a request passes (account-wide, per-endpoint sub-limits) and
//! turn a [`Decision`] into their own headers.

use crate::clock::SimClock;
use parking_lot::Mutex;

/// One fixed window limit, e.g. 400 requests per 60 s.
#[derive(Debug)]
pub struct FixedWindow {
    limit: u32,
    window_secs: u64,
    enabled: bool,
    state: Mutex<(i64, u32)>, // (window index, used)
}

/// The outcome of [`FixedWindow::check`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    /// Requests left in this window after this one.
    pub remaining: u32,
    /// Whole seconds (rounded up, at least 1) until the window resets, in simulated time.
    pub reset_after_secs: u64,
    /// Unix time (simulated) at which the window resets.
    pub reset_at_unix: i64,
}

impl FixedWindow {
    /// A limit of `limit` requests per `window_secs` seconds. `enabled = false` still counts and
    /// reports headers but never refuses (the "limits off" mode of benchmarks).
    pub fn new(limit: u32, window_secs: u64, enabled: bool) -> Self {
        Self {
            limit,
            window_secs: window_secs.max(1),
            enabled,
            state: Mutex::new((i64::MIN, 0)),
        }
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    pub fn window_secs(&self) -> u64 {
        self.window_secs
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Counts one request at the clock's current time and says whether it may proceed.
    pub fn check(&self, clock: &SimClock) -> Decision {
        self.check_cost(clock, 1)
    }

    /// Like [`FixedWindow::check`] for a request that costs `cost` units.
    pub fn check_cost(&self, clock: &SimClock, cost: u32) -> Decision {
        let now = clock.unix_f64();
        let w = self.window_secs as f64;
        let index = (now / w).floor() as i64;
        let reset_at = (index + 1) as f64 * w;
        let reset_after = ((reset_at - now).ceil() as u64).max(1);
        let mut st = self.state.lock();
        if st.0 != index {
            *st = (index, 0);
        }
        let allowed = !self.enabled || st.1.saturating_add(cost) <= self.limit;
        if allowed {
            st.1 = st.1.saturating_add(cost);
        }
        Decision {
            allowed,
            limit: self.limit,
            remaining: self.limit.saturating_sub(st.1),
            reset_after_secs: reset_after,
            reset_at_unix: reset_at as i64,
        }
    }

    /// Forgets the current window's count (control endpoint `POST /_sim/ratelimit/reset`).
    pub fn reset(&self) {
        *self.state.lock() = (i64::MIN, 0);
    }

    /// Takes `n` requests out of the current window as another integration on the same
    /// account would (control endpoint `POST /_sim/ratelimit/consume`).
    pub fn consume(&self, clock: &SimClock, n: u32) {
        let index = (clock.unix_f64() / self.window_secs as f64).floor() as i64;
        let mut st = self.state.lock();
        if st.0 != index {
            *st = (index, 0);
        }
        st.1 = st.1.saturating_add(n).min(self.limit.max(st.1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn refuses_past_the_limit_and_resets_at_the_boundary() {
        let clock = SimClock::frozen(datetime!(2026-01-01 00:00:30 UTC));
        let w = FixedWindow::new(3, 60, true);
        for left in [2, 1, 0] {
            let d = w.check(&clock);
            assert!(d.allowed);
            assert_eq!(d.remaining, left);
            assert_eq!(d.reset_after_secs, 30);
        }
        let d = w.check(&clock);
        assert!(!d.allowed);
        assert_eq!(d.remaining, 0);
        clock.advance(time::Duration::seconds(30));
        let d = w.check(&clock);
        assert!(d.allowed, "a new minute is a new window");
        assert_eq!(d.remaining, 2);
        assert_eq!(d.reset_after_secs, 60);
    }

    #[test]
    fn disabled_limit_counts_but_never_refuses() {
        let clock = SimClock::frozen(datetime!(2026-01-01 00:00 UTC));
        let w = FixedWindow::new(1, 60, false);
        assert!(w.check(&clock).allowed);
        assert!(w.check(&clock).allowed);
        assert_eq!(w.check(&clock).remaining, 0);
    }

    #[test]
    fn consume_eats_into_the_window() {
        let clock = SimClock::frozen(datetime!(2026-01-01 00:00 UTC));
        let w = FixedWindow::new(10, 60, true);
        w.consume(&clock, 9);
        assert!(w.check(&clock).allowed);
        assert!(!w.check(&clock).allowed);
        w.reset();
        assert!(w.check(&clock).allowed);
    }
}
