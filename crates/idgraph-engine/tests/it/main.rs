//! Sync engine tests: stories against an in-memory connector on every configured store
//! backend (SQLite always, PostgreSQL when `IDGRAPH_TEST_PG_URL` is set), the kill-and-resume
//! test at 20 random points, and a sync of the Freshservice simulator through its connector.

// Test helpers outside #[test] functions may unwrap too (clippy.toml allows it in tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fake;
mod resume;
mod scenario;
mod sim;
mod support;
mod sync;
