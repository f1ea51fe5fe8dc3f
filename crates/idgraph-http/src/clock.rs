//! Time for the HTTP client: the current wall-clock time and async sleeping, injected.
//!
//! Rate windows, back-off, `Retry-After` and token expiry all read time through [`Clock`].
//! [`SystemClock`] is the only code in this crate that reads the real clock; [`ManualClock`]
//! is virtual time for tests: its sleeps return at once, move the clock forward and are
//! recorded, so a test of an hour-long rate window runs in milliseconds.

use async_trait::async_trait;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// A source of wall-clock time plus a way to wait.
#[async_trait]
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time (UTC).
    fn now(&self) -> OffsetDateTime;
    /// Waits `duration` on this clock.
    async fn sleep(&self, duration: Duration);
    /// Waits until `deadline` on this clock (returns at once when it has passed).
    async fn sleep_until(&self, deadline: OffsetDateTime) {
        let d = until(self.now(), deadline);
        self.sleep(d).await;
    }
}

/// A shared clock handle.
pub type SharedClock = Arc<dyn Clock>;

/// The real clock and tokio's timer.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl SystemClock {
    /// A shared handle to the system clock.
    pub fn shared() -> SharedClock {
        Arc::new(SystemClock)
    }
}

#[async_trait]
impl Clock for SystemClock {
    // The one place in idgraph-http allowed to read the real clock.
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    async fn sleep(&self, duration: Duration) {
        if !duration.is_zero() {
            tokio::time::sleep(duration).await;
        }
    }
}

/// Virtual time for tests: `sleep` moves the clock forward by `duration` at once and records
/// it; `sleep_until` moves it to the deadline unless it is already later, so concurrent
/// sleepers aiming at the same instant (a rate window boundary) move time only once.
#[derive(Debug, Clone)]
pub struct ManualClock {
    inner: Arc<Mutex<ManualState>>,
}

#[derive(Debug)]
struct ManualState {
    now: OffsetDateTime,
    sleeps: Vec<Duration>,
}

impl ManualClock {
    /// A clock that reads `start` until it is advanced or slept on.
    pub fn new(start: OffsetDateTime) -> Self {
        Self {
            inner: Arc::new(Mutex::new(ManualState {
                now: start,
                sleeps: Vec::new(),
            })),
        }
    }

    /// A shared handle to this clock (it stays linked to `self`).
    pub fn shared(&self) -> SharedClock {
        Arc::new(self.clone())
    }

    /// Moves time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut st = self.inner.lock();
        st.now += by;
    }

    /// Sets the time (may go backwards; tests only).
    pub fn set(&self, now: OffsetDateTime) {
        self.inner.lock().now = now;
    }

    /// Every duration slept so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.inner.lock().sleeps.clone()
    }

    /// The sum of every duration slept so far.
    pub fn total_slept(&self) -> Duration {
        self.inner.lock().sleeps.iter().sum()
    }
}

#[async_trait]
impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        self.inner.lock().now
    }

    async fn sleep(&self, duration: Duration) {
        {
            let mut st = self.inner.lock();
            st.sleeps.push(duration);
            st.now += duration;
        }
        // Let other tasks run, as a real sleep would.
        tokio::task::yield_now().await;
    }

    async fn sleep_until(&self, deadline: OffsetDateTime) {
        {
            let mut st = self.inner.lock();
            let d = until(st.now, deadline);
            st.sleeps.push(d);
            if deadline > st.now {
                st.now = deadline;
            }
        }
        tokio::task::yield_now().await;
    }
}

/// Whole-or-fractional seconds between two instants, never negative.
pub(crate) fn until(now: OffsetDateTime, later: OffsetDateTime) -> Duration {
    let d = later - now;
    if d.is_positive() {
        Duration::try_from(d).unwrap_or(Duration::ZERO)
    } else {
        Duration::ZERO
    }
}

/// Seconds since the Unix epoch as a float.
pub(crate) fn unix_f64(t: OffsetDateTime) -> f64 {
    t.unix_timestamp() as f64 + f64::from(t.nanosecond()) / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[tokio::test]
    async fn manual_sleep_advances_and_records() {
        let c = ManualClock::new(datetime!(2026-01-01 00:00 UTC));
        c.sleep(Duration::from_secs(90)).await;
        assert_eq!(c.now(), datetime!(2026-01-01 00:01:30 UTC));
        assert_eq!(c.sleeps(), vec![Duration::from_secs(90)]);
    }
}
