//! Faithful simulators of the vendor user-management APIs idgraph manages: Freshservice,
//! Freshdesk, Freshsales, FreshBooks and Help Scout, each an `axum::Router` over an in-memory
//! tenant seeded from a generated [`company::Company`] with known drift.
//!
//! The simulators follow `shared/api-guides` (the specification), traps included: a client
//! written for the real API must work against them unchanged. Shared machinery: a scalable
//! [`clock`], per-account [`ratelimit`] windows, deterministic [`faults`], request counters and
//! `/_sim/` control endpoints ([`common`]), and one [`scim_server`].

pub mod clock;
pub mod common;
pub mod company;
pub mod faults;
pub mod ratelimit;
pub mod scim_server;
pub mod serve;
pub mod truth;

pub mod freshbooks;
pub mod freshdesk;
pub mod freshsales;
pub mod freshservice;
pub mod helpscout;

pub use common::{App, PlanTier, SimEnv, TenantOptions};

/// One simulated app, ready to serve.
#[derive(Debug)]
pub struct AppSim {
    pub app: App,
    /// The vendor API, control endpoints (`/_sim/…`), fault injection and counters included.
    pub router: axum::Router,
    /// What a client needs besides the base URL: API keys, OAuth client ids and secrets,
    /// SCIM tokens, account ids. Printed by `idgraph sim`.
    pub credentials: serde_json::Value,
    pub env: SimEnv,
}
