//! Integration tests of idgraph-http against small axum servers on 127.0.0.1:0 that imitate
//! the vendors' behaviours: fixed-window rate limits, faults, OAuth token endpoints with
//! single-use refresh tokens, and every pagination style. Waiting happens on a
//! [`idgraph_http::ManualClock`], so the whole suite runs in about a second.

// Test helpers outside #[test] functions may unwrap too (clippy.toml allows it in tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod oauth;
mod pagination;
mod ratelimit;
mod retries;
mod secrets;
mod support;
mod tls;
