//! The simulators' clock: simulated time that can run faster than real time.
//!
//! Simulated now = `anchor + real_elapsed × scale + offset`. A time scale of 60 makes a
//! one-minute rate window pass in one real second; a scale of 0 freezes time so that a test
//! moves it only with [`SimClock::advance`] (also reachable over `POST /_sim/clock`).
//! This is the only module of the simulators allowed to read the real clock.

use parking_lot::Mutex;
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// Shared, cheaply cloneable simulated clock.
#[derive(Clone, Debug)]
pub struct SimClock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    anchor: OffsetDateTime,
    started: Instant,
    scale: f64,
    offset: Mutex<time::Duration>,
}

impl SimClock {
    /// A clock that starts at `anchor` and runs `scale` times faster than real time.
    pub fn new(anchor: OffsetDateTime, scale: f64) -> Self {
        let scale = if scale.is_finite() && scale >= 0.0 {
            scale
        } else {
            1.0
        };
        Self {
            inner: Arc::new(Inner {
                anchor,
                started: Instant::now(),
                scale,
                offset: Mutex::new(time::Duration::ZERO),
            }),
        }
    }

    /// A frozen clock (scale 0): time moves only with [`SimClock::advance`].
    pub fn frozen(anchor: OffsetDateTime) -> Self {
        Self::new(anchor, 0.0)
    }

    /// The real current time truncated to the second, the default anchor of `idgraph sim`.
    #[allow(clippy::disallowed_methods)] // the one place that reads the real clock
    pub fn real_now() -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        now.replace_nanosecond(0).unwrap_or(now)
    }

    /// Simulated current time.
    pub fn now(&self) -> OffsetDateTime {
        let real = self.inner.started.elapsed().as_secs_f64() * self.inner.scale;
        let scaled = time::Duration::seconds_f64(real);
        self.inner.anchor + scaled + *self.inner.offset.lock()
    }

    /// Simulated seconds since the Unix epoch (fractional).
    pub fn unix_f64(&self) -> f64 {
        let now = self.now();
        now.unix_timestamp() as f64 + f64::from(now.nanosecond()) / 1e9
    }

    /// Moves simulated time forward (or back, with a negative duration).
    pub fn advance(&self, by: time::Duration) {
        *self.inner.offset.lock() += by;
    }

    /// How many times faster than real time this clock runs.
    pub fn scale(&self) -> f64 {
        self.inner.scale
    }

    /// The real duration that `simulated` seconds take on this clock (`None` when frozen).
    pub fn real_duration(&self, simulated: f64) -> Option<Duration> {
        if self.inner.scale <= 0.0 {
            return None;
        }
        Some(Duration::from_secs_f64(
            (simulated / self.inner.scale).max(0.0),
        ))
    }
}

/// The simulators' clock as the clock of deciding code (the sync engine's timestamps, the
/// review's "now"), so that a demo on compressed time stays consistent.
impl idgraph_core::Clock for SimClock {
    fn now(&self) -> OffsetDateTime {
        SimClock::now(self)
    }
}

/// The simulators' clock as an HTTP client's clock, so that a client paces against exactly the
/// windows the simulators count in (same anchor, same scale): a rate test passes an hour of
/// Freshsales quota in seconds, and the demo runs on compressed time. On a frozen clock, a
/// client's sleep advances simulated time itself (nothing else would).
#[async_trait::async_trait]
impl idgraph_http::Clock for SimClock {
    fn now(&self) -> OffsetDateTime {
        SimClock::now(self)
    }

    async fn sleep(&self, duration: Duration) {
        match self.real_duration(duration.as_secs_f64()) {
            Some(real) if !real.is_zero() => tokio::time::sleep(real).await,
            Some(_) => {}
            None => self.advance(time::Duration::seconds_f64(duration.as_secs_f64())),
        }
    }
}

/// Formats a timestamp the way the vendors do: RFC 3339 in UTC, whole seconds, `Z` suffix.
pub fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Parses an ISO 8601 / RFC 3339 timestamp as the vendors accept it in filters
/// (`2024-01-01T00:00:00Z`, `2024-01-01T00:00:00+02:00`, or a bare date `2024-01-01`).
pub fn parse_timestamp(s: &str) -> Option<OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    let date_fmt = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = time::Date::parse(s, &date_fmt) {
        return Some(d.midnight().assume_utc());
    }
    // Without a zone: treat as UTC.
    let naive = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    time::PrimitiveDateTime::parse(s, &naive)
        .ok()
        .map(|p| p.assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn frozen_clock_moves_only_when_advanced() {
        let c = SimClock::frozen(datetime!(2026-01-01 00:00 UTC));
        assert_eq!(c.now(), datetime!(2026-01-01 00:00 UTC));
        c.advance(time::Duration::minutes(5));
        assert_eq!(c.now(), datetime!(2026-01-01 00:05 UTC));
    }

    #[test]
    fn scaled_clock_runs_faster() {
        let c = SimClock::new(datetime!(2026-01-01 00:00 UTC), 3600.0);
        let d = c.real_duration(60.0).unwrap();
        assert!(d < Duration::from_millis(20));
    }

    #[test]
    fn timestamps_round_trip() {
        let t = datetime!(2024-06-01 12:00:00 UTC);
        assert_eq!(rfc3339(t), "2024-06-01T12:00:00Z");
        assert_eq!(parse_timestamp("2024-06-01T12:00:00Z"), Some(t));
        assert_eq!(parse_timestamp("2024-06-01T14:00:00+02:00"), Some(t));
        assert_eq!(
            parse_timestamp("2024-06-01"),
            Some(datetime!(2024-06-01 00:00 UTC))
        );
        assert_eq!(parse_timestamp("2024-06-01T12:00:00"), Some(t));
        assert_eq!(parse_timestamp("yesterday"), None);
    }
}
