//! Simulator of the Freshservice user-management API (see `shared/api-guides/freshservice.txt`).

use crate::common::{App, SimEnv};
use crate::company::Company;
use crate::AppSim;

/// Builds the simulated Freshservice tenant from the generated company.
pub fn build(_company: &Company, env: SimEnv) -> AppSim {
    AppSim {
        app: App::Freshservice,
        router: axum::Router::new(),
        credentials: serde_json::json!({}),
        env,
    }
}
