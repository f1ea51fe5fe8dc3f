//! Simulator of the Freshservice user-management API (see `shared/api-guides/freshservice.txt`
//! and `docs/simulators/freshservice.md`): agents and requesters as separate `/api/v2` objects
//! sharing one user id space and one email namespace, soft-deleting DELETE, reactivation,
//! requester → agent conversion against a seat limit, roles with assignment scopes, agent groups,
//! departments, Basic auth with an API key, per-account per-minute rate limits (with the lower
//! list limit of small plans), offset pagination with `Link` headers, and SCIM at `/scim/v2` on
//! Pro/Enterprise with SSO.

mod model;
mod routes;
mod scim;
#[cfg(test)]
mod tests;

use crate::clock::SimClock;
use crate::common::{wrap, App, Counters, Limits, PlanTier, SimEnv};
use crate::company::Company;
use crate::faults::TooManyFn;
use crate::ratelimit::FixedWindow;
use crate::scim_server::ScimBackend;
use crate::AppSim;
use parking_lot::RwLock;
use std::sync::Arc;

/// The account's requests per minute on each plan (guide table).
pub fn plan_limit(plan: PlanTier) -> u32 {
    match plan {
        PlanTier::Starter => 50,
        PlanTier::Growth => 100,
        PlanTier::Pro => 200,
        PlanTier::Enterprise => 400,
    }
}

/// The list agents / list requesters limit per minute, where the plan has one (README: 40/min
/// on the small plans).
pub fn list_limit(plan: PlanTier) -> Option<u32> {
    match plan {
        PlanTier::Starter | PlanTier::Growth => Some(40),
        PlanTier::Pro | PlanTier::Enterprise => None,
    }
}

/// Shared state of one simulated tenant.
pub(crate) struct Tenant {
    pub(crate) store: RwLock<model::Store>,
    pub(crate) clock: SimClock,
    pub(crate) api_keys: Vec<String>,
    pub(crate) scim_token: String,
    pub(crate) account: Arc<FixedWindow>,
    pub(crate) list_limit: Option<Arc<FixedWindow>>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) tls: bool,
}

/// Builds the simulated Freshservice tenant from the generated company.
pub fn build(company: &Company, env: SimEnv) -> AppSim {
    build_parts(company, env).0
}

/// [`build`], also handing back the tenant (for in-process SCIM tests).
pub(crate) fn build_parts(company: &Company, env: SimEnv) -> (AppSim, Arc<Tenant>) {
    let opts = &env.options;
    let store = model::Store::seed(
        company.accounts_of(App::Freshservice),
        &company.catalog(App::Freshservice),
        opts.plan,
        opts.sso,
        opts.seat_limit,
        env.clock.now(),
    );
    let account = Arc::new(FixedWindow::new(
        plan_limit(opts.plan),
        60,
        opts.rate_limits,
    ));
    let list = list_limit(opts.plan).map(|l| Arc::new(FixedWindow::new(l, 60, opts.rate_limits)));
    let api_keys = vec![env.secret("api_key", 20), env.secret("api_key_2", 20)];
    let scim_token = env.secret("scim_token", 40);
    let domain = format!("acme-{}", &env.secret("domain", 6));
    let tenant = Arc::new(Tenant {
        store: RwLock::new(store),
        clock: env.clock.clone(),
        api_keys: api_keys.clone(),
        scim_token: scim_token.clone(),
        account: account.clone(),
        list_limit: list.clone(),
        counters: env.counters.clone(),
        tls: env.tls,
    });
    let backend: Arc<dyn ScimBackend> = Arc::new(scim::FreshserviceScim {
        tenant: tenant.clone(),
    });
    let router = routes::api_router(tenant.clone())
        .merge(routes::control_router(tenant.clone()))
        .nest(
            "/scim/v2",
            crate::scim_server::router_with_tls(backend, env.tls),
        );
    let too_many_clock = env.clock.clone();
    let too_many_window = account.clone();
    let too_many: TooManyFn = Arc::new(move || {
        let now = too_many_clock.unix_f64();
        let reset_after = ((60.0 - now.rem_euclid(60.0)).ceil() as u64).max(1);
        routes::too_many(&crate::ratelimit::Decision {
            allowed: false,
            limit: too_many_window.limit(),
            remaining: 0,
            reset_after_secs: reset_after,
            reset_at_unix: now as i64 + reset_after as i64,
        })
    });
    let limits = Limits {
        account,
        sub: list.into_iter().collect(),
    };
    let router = wrap(router, &env, too_many, limits);
    let sim = AppSim {
        app: App::Freshservice,
        router,
        credentials: serde_json::json!({
            "api_key": api_keys[0],
            "api_key_2": api_keys[1],
            "password": "X",
            "scim_token": scim_token,
            "domain": format!("{domain}.freshservice.com"),
            "scim_path": "/scim/v2",
        }),
        env,
    };
    (sim, tenant)
}
