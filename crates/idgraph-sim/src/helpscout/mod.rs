//! Simulator of the Helpscout user-management API (see `shared/api-guides/helpscout.txt`).

use crate::common::{App, SimEnv};
use crate::company::Company;
use crate::AppSim;

/// Builds the simulated Helpscout tenant from the generated company.
pub fn build(_company: &Company, env: SimEnv) -> AppSim {
    AppSim {
        app: App::Helpscout,
        router: axum::Router::new(),
        credentials: serde_json::json!({}),
        env,
    }
}
