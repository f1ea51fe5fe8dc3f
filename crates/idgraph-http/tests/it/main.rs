//! Integration tests of idgraph-http against small axum servers on 127.0.0.1:0 that imitate
//! the vendors' behaviours: fixed-window rate limits, faults, OAuth token endpoints with
//! single-use refresh tokens, and every pagination style. Waiting happens on a
//! [`idgraph_http::ManualClock`], so the whole suite runs in about a second.

mod oauth;
mod pagination;
mod ratelimit;
mod retries;
mod secrets;
mod support;
