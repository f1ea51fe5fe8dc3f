//! Simulator of the Freshdesk user-management API (see `shared/api-guides/freshdesk.txt` and
//! `docs/simulators/freshdesk.md`): agents and contacts under `/api/v2` with HTTP Basic auth
//! (API key as user, any password), the per-account per-minute rate limit of the plan with the
//! `X-RateLimit-*` headers on every response and a 429 without `Retry-After`, 1-based
//! `page`/`per_page` pagination with a `Link` header and a deep-page cap, roles and groups,
//! SCIM 2.0 at `/scim/v2` (Enterprise plan with SSO, its own bearer token), and the `/_sim/`
//! control endpoints.
//!
//! Layout: [`store`] holds the records and every change (no HTTP), [`fields`] validates request
//! bodies, [`api`] is the REST surface, [`control`] the `/_sim/` endpoints, [`scim`] the SCIM
//! backend.

pub mod api;
pub mod control;
pub mod fields;
pub mod scim;
pub mod store;

#[cfg(test)]
mod tests;

use crate::common::{basic_auth, wrap, App, Limits, PlanTier, SimEnv};
use crate::company::Company;
use crate::ratelimit::{Decision, FixedWindow};
use crate::scim_server::ScimBackend;
use crate::AppSim;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use http::{HeaderValue, StatusCode};
use parking_lot::RwLock;
use std::sync::Arc;
use store::Store;

/// Requests per minute per account, by plan (guide table): Free (Sprout) 100,
/// Growth (Blossom/Garden) 200, Pro (Estate) 400, Enterprise (Forest) 700.
pub fn plan_limit(plan: PlanTier) -> u32 {
    match plan {
        PlanTier::Starter => 100,
        PlanTier::Growth => 200,
        PlanTier::Pro => 400,
        PlanTier::Enterprise => 700,
    }
}

/// One simulated Freshdesk account.
pub struct Tenant {
    pub(crate) store: RwLock<Store>,
    pub(crate) env: SimEnv,
    /// The account's per-minute window, shared by every API key of the account.
    pub(crate) limit: Arc<FixedWindow>,
    /// Two integrations' API keys (same account, same rate limit).
    pub(crate) api_keys: [String; 2],
    /// SCIM bearer token (Admin > Security), not an API key.
    pub(crate) scim_token: String,
    /// `<subdomain>.freshdesk.com`.
    pub(crate) domain: String,
}

/// `X-RateLimit-Total`, `X-RateLimit-Remaining`, `X-RateLimit-Used-CurrentRequest`.
fn rate_headers(resp: &mut Response, d: &Decision, used: u32) {
    let h = resp.headers_mut();
    for (name, value) in [
        ("x-ratelimit-total", d.limit),
        ("x-ratelimit-remaining", d.remaining),
        ("x-ratelimit-used-currentrequest", used),
    ] {
        h.insert(name, HeaderValue::from(value));
    }
}

/// Freshdesk's 429: the rate headers and no `Retry-After` (the window resets at the minute).
fn too_many_response(d: &Decision) -> Response {
    let mut resp = (
        StatusCode::TOO_MANY_REQUESTS,
        Json(serde_json::json!({
            "code": "rate_limit_exceeded",
            "message": format!(
                "You have exceeded the limit of {} requests per minute for this account. Retry when the current minute window resets.",
                d.limit
            ),
        })),
    )
        .into_response();
    rate_headers(&mut resp, d, 0);
    resp
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(serde_json::json!({
            "code": "invalid_credentials",
            "message": "You have to be logged in to perform this action.",
        })),
    )
        .into_response()
}

/// Auth and rate limit of `/api/v2`: Basic with an API key as user (any password); every
/// authenticated request counts against the account's window; the headers go on every
/// response, 401 and 429 included.
async fn api_gate(State(t): State<Arc<Tenant>>, req: Request, next: Next) -> Response {
    let authed = basic_auth(req.headers()).is_some_and(|(user, _)| t.api_keys.contains(&user));
    if !authed {
        let d = t.limit.check_cost(&t.env.clock, 0);
        let mut resp = unauthorized();
        rate_headers(&mut resp, &d, 0);
        return resp;
    }
    let d = t.limit.check(&t.env.clock);
    if !d.allowed {
        t.env.counters.note_rate_limited();
        return too_many_response(&d);
    }
    let mut resp = next.run(req).await;
    rate_headers(&mut resp, &d, 1);
    resp
}

/// The vendor API and the Freshdesk-specific control endpoints, before [`wrap`].
fn router(tenant: Arc<Tenant>) -> Router {
    let api = Router::new()
        .route(
            "/api/v2/agents",
            get(api::list_agents).post(api::create_agent),
        )
        .route(
            "/api/v2/agents/{id}",
            get(api::get_agent)
                .put(api::update_agent)
                .delete(api::delete_agent),
        )
        .route(
            "/api/v2/contacts",
            get(api::list_contacts).post(api::create_contact),
        )
        .route(
            "/api/v2/contacts/{id}",
            get(api::get_contact)
                .put(api::update_contact)
                .delete(api::delete_contact),
        )
        .route("/api/v2/contacts/{id}/make_agent", put(api::make_agent))
        .route("/api/v2/contacts/{id}/restore", put(api::restore_contact))
        .route("/api/v2/roles", get(api::list_roles))
        .route("/api/v2/roles/{id}", get(api::get_role))
        .route("/api/v2/groups", get(api::list_groups))
        .route("/api/v2/groups/{id}", get(api::get_group))
        .route("/api/v2/companies", get(api::list_companies))
        .route("/api/v2/companies/{id}", get(api::get_company))
        .route("/api/v2/account", get(api::get_account))
        .route("/api/v2/{*rest}", axum::routing::any(api::api_not_found))
        .method_not_allowed_fallback(api::api_method_not_allowed)
        .layer(middleware::from_fn_with_state(tenant.clone(), api_gate));
    let control = Router::new()
        .route("/_sim/state", get(control::state))
        .route(
            "/_sim/records/{collection}/{id}",
            axum::routing::patch(control::patch),
        )
        .route(
            "/_sim/records/{collection}/{id}/deactivate",
            post(control::deactivate),
        )
        .route("/_sim/agents/{id}/confirm", post(control::confirm))
        .route("/_sim/pagination", put(control::set_pagination))
        .route(
            "/_sim/custom_fields/{collection}",
            post(control::define_custom_field),
        );
    let tls = tenant.env.tls;
    let backend: Arc<dyn ScimBackend> = Arc::new(scim::FreshdeskScim::new(tenant.clone()));
    api.merge(control).with_state(tenant).nest(
        "/scim/v2",
        crate::scim_server::router_with_tls(backend, tls),
    )
}

/// The subdomain of `<domain>.freshdesk.com`, from the company's email domain.
fn subdomain(company: &Company) -> String {
    company
        .config
        .domain
        .split('.')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("acme")
        .to_string()
}

/// Builds the tenant (without the router), for tests and [`build`].
pub(crate) fn tenant(company: &Company, env: SimEnv) -> Arc<Tenant> {
    let store = Store::seed(
        company.accounts_of(App::Freshdesk),
        &company.catalog(App::Freshdesk),
        &company.config.domain,
        env.options.seat_limit,
        env.clock.now(),
    );
    let limit = Arc::new(FixedWindow::new(
        plan_limit(env.options.plan),
        60,
        env.options.rate_limits,
    ));
    Arc::new(Tenant {
        store: RwLock::new(store),
        api_keys: [env.secret("api_key", 20), env.secret("api_key_2", 20)],
        scim_token: env.secret("scim_token", 40),
        domain: format!("{}.freshdesk.com", subdomain(company)),
        limit,
        env,
    })
}

/// Builds the simulated Freshdesk tenant from the generated company.
pub fn build(company: &Company, env: SimEnv) -> AppSim {
    let t = tenant(company, env.clone());
    let credentials = serde_json::json!({
        "domain": t.domain,
        "api_key": t.api_keys[0],
        "api_key_2": t.api_keys[1],
        "password": "X",
        "scim_token": t.scim_token,
    });
    let limit = t.limit.clone();
    let clock = env.clock.clone();
    let too_many: crate::faults::TooManyFn = Arc::new(move || {
        let d = limit.check_cost(&clock, 0);
        too_many_response(&d)
    });
    let limits = Limits {
        account: t.limit.clone(),
        sub: Vec::new(),
    };
    let router = wrap(router(t), &env, too_many, limits);
    AppSim {
        app: App::Freshdesk,
        router,
        credentials,
        env,
    }
}
