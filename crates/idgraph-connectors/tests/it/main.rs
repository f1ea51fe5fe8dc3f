//! Connector integration tests against the simulators (one test binary for the crate: add
//! modules here, not files in `tests/`).

// Shared by the per-app modules as they land.
#[allow(dead_code)]
mod compliance;
