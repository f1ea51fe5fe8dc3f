//! Simulator of the Freshsales user-management API (see `shared/api-guides/freshsales.txt`).

use crate::common::{App, SimEnv};
use crate::company::Company;
use crate::AppSim;

/// Builds the simulated Freshsales tenant from the generated company.
pub fn build(_company: &Company, env: SimEnv) -> AppSim {
    AppSim {
        app: App::Freshsales,
        router: axum::Router::new(),
        credentials: serde_json::json!({}),
        env,
    }
}
