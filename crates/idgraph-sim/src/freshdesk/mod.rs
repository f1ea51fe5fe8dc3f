//! Simulator of the Freshdesk user-management API (see `shared/api-guides/freshdesk.txt`).

use crate::common::{App, SimEnv};
use crate::company::Company;
use crate::AppSim;

/// Builds the simulated Freshdesk tenant from the generated company.
pub fn build(_company: &Company, env: SimEnv) -> AppSim {
    AppSim {
        app: App::Freshdesk,
        router: axum::Router::new(),
        credentials: serde_json::json!({}),
        env,
    }
}
