//! Simulator of the Freshbooks user-management API (see `shared/api-guides/freshbooks.txt`).

use crate::common::{App, SimEnv};
use crate::company::Company;
use crate::AppSim;

/// Builds the simulated Freshbooks tenant from the generated company.
pub fn build(_company: &Company, env: SimEnv) -> AppSim {
    AppSim {
        app: App::Freshbooks,
        router: axum::Router::new(),
        credentials: serde_json::json!({}),
        env,
    }
}
