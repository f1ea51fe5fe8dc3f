//! Integration tests of the simulators over real sockets: `serve::start` on 127.0.0.1 ports,
//! HTTP and HTTPS. One test binary for the crate (add modules here, not files in `tests/`).

// Test code: helpers outside #[test] functions may unwrap and panic too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod docs;
mod serve;
