//! What every connector is built with: the one HTTP client, the per-account rate budgets and
//! the clock. One [`ConnectorContext`] per process; connectors of the same vendor account share
//! its budget through the registry.

use idgraph_http::{BudgetRegistry, HttpClient, HttpConfig, HttpError, SharedClock, SystemClock};

/// Shared HTTP machinery handed to each connector's constructor.
#[derive(Clone, Debug)]
pub struct ConnectorContext {
    pub http: HttpClient,
    pub budgets: std::sync::Arc<BudgetRegistry>,
    pub clock: SharedClock,
    /// Enforce the vendors' plan limits client-side (off only for benchmarks against
    /// simulators without limits).
    pub pace: bool,
}

impl ConnectorContext {
    pub fn new(config: HttpConfig, clock: SharedClock) -> Result<Self, HttpError> {
        Ok(Self {
            http: HttpClient::new(config, clock.clone())?,
            budgets: std::sync::Arc::new(BudgetRegistry::new(clock.clone())),
            clock,
            pace: true,
        })
    }

    /// Defaults and the system clock.
    pub fn system() -> Result<Self, HttpError> {
        Self::new(HttpConfig::default(), SystemClock::shared())
    }
}
