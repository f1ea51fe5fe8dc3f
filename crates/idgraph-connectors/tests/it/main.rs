//! Connector integration tests against the simulators (one test binary for the crate: add
//! modules here, not files in `tests/`).

// Test code: helpers outside #[test] functions may unwrap and panic too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

// Shared by the per-app modules as they land.
#[allow(dead_code)]
mod compliance;

mod freshbooks;
mod freshdesk;
mod freshsales;
mod freshservice;
mod helpscout;
mod registry;
mod scim;
