//! The clock as a value: deciding code takes "now" from a [`Clock`] so that tests can fix it.

use time::OffsetDateTime;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> OffsetDateTime;
}

/// A clock stopped at one instant (tests, reproducible reports).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedClock(pub OffsetDateTime);

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

/// The real clock: the one place in the core allowed to read it.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the system clock is the one reader of real time
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}
