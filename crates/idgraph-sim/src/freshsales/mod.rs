//! Simulator of the Freshsales user-management API (see `shared/api-guides/freshsales.txt` and
//! `docs/simulators/freshsales.md`): the REST API under `/crm/sales/api` (also under `/api`, the
//! path of older `{domain}.freshsales.io` accounts; any Host is served), authenticated by
//! per-user API keys, and SCIM 2.0 under `/scim/v2` with its own bearer token and its own ids,
//! gated on the Enterprise plan with SSO. Both share one 1,000-requests-per-hour window per
//! account. One user record backs both namespaces, so a SCIM deactivation removes the user from
//! `selector/owners`.

mod rest;
mod scim;
mod store;
#[cfg(test)]
mod tests;

pub use scim::FreshsalesScim;
pub use store::{Status, ROLE_ID_BASE};

use crate::common::{wrap, App, Limits, SimEnv};
use crate::company::Company;
use crate::faults::TooManyFn;
use crate::ratelimit::FixedWindow;
use crate::scim_server::ScimBackend;
use crate::AppSim;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use http::StatusCode;
use parking_lot::RwLock;
use serde_json::{json, Value};
use std::sync::Arc;
use store::{Store, User};

/// Requests per hour per account (every plan; REST and SCIM share it).
pub const HOURLY_LIMIT: u32 = 1000;
/// The rate window, in seconds.
pub const WINDOW_SECS: u64 = 3600;

/// One API key and the CRM user it belongs to.
#[derive(Clone, Debug)]
pub struct ApiKey {
    pub key: String,
    pub crm_id: u64,
}

/// The simulated Freshsales account.
pub struct Tenant {
    pub(crate) store: RwLock<Store>,
    pub env: SimEnv,
    pub limit: Arc<FixedWindow>,
    pub keys: Vec<ApiKey>,
    pub scim_token: String,
    pub domain: String,
}

/// The account's subdomain from the company's email domain (`acme.example` → `acme`).
fn subdomain(email_domain: &str) -> String {
    let first = email_domain.split('.').next().unwrap_or_default();
    let s: String = first
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect::<String>()
        .to_ascii_lowercase();
    if s.is_empty() {
        "acme".to_string()
    } else {
        s
    }
}

/// Picks the owners of the two API keys: active admins first, then other active owners, and
/// if the company has fewer than two, dedicated API users are created.
fn key_owners(store: &mut Store, email_domain: &str, anchor: time::OffsetDateTime) -> Vec<u64> {
    let mut picked: Vec<u64> = store
        .owners()
        .into_iter()
        .filter(|u| {
            store
                .role(u.role_id)
                .is_some_and(|r| r.name.to_ascii_lowercase().contains("admin"))
        })
        .map(|u| u.crm_id)
        .take(2)
        .collect();
    if picked.len() < 2 {
        let more: Vec<u64> = store
            .owners()
            .into_iter()
            .map(|u| u.crm_id)
            .filter(|id| !picked.contains(id))
            .take(2 - picked.len())
            .collect();
        picked.extend(more);
    }
    let admin_role = store
        .roles
        .iter()
        .find(|r| r.name.to_ascii_lowercase().contains("admin"))
        .map_or(store.default_role, |r| r.id);
    while picked.len() < 2 {
        let n = picked.len() + 1;
        let id = store.push_user(User {
            crm_id: 0,
            scim_id: None,
            rest: true,
            email: format!("crm-api-{n}@{email_domain}"),
            first_name: "CRM API".to_string(),
            last_name: n.to_string(),
            display_name: None,
            job_title: None,
            department: None,
            phone: None,
            mobile: None,
            role_id: admin_role,
            territory_id: None,
            status: Status::Active,
            time_zone: "Etc/UTC".to_string(),
            language: "en".to_string(),
            external_id: None,
            created_at: anchor - time::Duration::days(365),
            updated_at: anchor - time::Duration::days(365),
            last_login_at: None,
        });
        picked.push(id);
    }
    picked
}

/// Builds the simulated Freshsales tenant from the generated company.
pub fn build(company: &Company, env: SimEnv) -> AppSim {
    build_parts(company, env).0
}

/// [`build`], also returning the tenant (for [`FreshsalesScim`] and tests).
pub fn build_parts(company: &Company, env: SimEnv) -> (AppSim, Arc<Tenant>) {
    let accounts: Vec<_> = company.accounts_of(App::Freshsales).collect();
    let catalog = company.catalog(App::Freshsales);
    let anchor = company.config.anchor;
    let mut store = Store::seed(env.seed, &accounts, &catalog.roles, &catalog.groups, anchor);
    let owners = key_owners(&mut store, &company.config.domain, anchor);
    let keys: Vec<ApiKey> = owners
        .iter()
        .enumerate()
        .map(|(i, &crm_id)| ApiKey {
            key: env.secret(&format!("api-key-{}", i + 1), 22),
            crm_id,
        })
        .collect();
    let limit = Arc::new(FixedWindow::new(
        HOURLY_LIMIT,
        WINDOW_SECS,
        env.options.rate_limits,
    ));
    let domain = subdomain(&company.config.domain);
    let scim_available = env.options.plan == crate::common::PlanTier::Enterprise && env.options.sso;
    let tenant = Arc::new(Tenant {
        store: RwLock::new(store),
        env: env.clone(),
        limit: limit.clone(),
        scim_token: env.secret("scim-token", 40),
        keys,
        domain: domain.clone(),
    });
    let credentials = {
        let store = tenant.store.read();
        let keys: Vec<Value> = tenant
            .keys
            .iter()
            .map(|k| {
                json!({
                    "api_key": k.key,
                    "user_id": k.crm_id,
                    "email": store.by_crm(k.crm_id).map(|u| u.email.clone()),
                })
            })
            .collect();
        json!({
            "domain": domain,
            "hosts": [format!("{domain}.myfreshworks.com"), format!("{domain}.freshsales.io")],
            "rest_path": "/crm/sales/api",
            "legacy_rest_path": "/api",
            "api_key": tenant.keys.first().map(|k| k.key.clone()),
            "api_keys": keys,
            "scim_path": "/scim/v2",
            "scim_token": tenant.scim_token,
            "scim_available": scim_available,
        })
    };
    let router = vendor_router(tenant.clone());
    let clock = env.clock.clone();
    let too_many: TooManyFn = Arc::new(move || {
        let now = clock.unix_f64();
        let w = WINDOW_SECS as f64;
        let reset_at = ((now / w).floor() + 1.0) * w;
        let mut resp = rest::too_many_body();
        rest::set_rate_headers(
            resp.headers_mut(),
            &crate::ratelimit::Decision {
                allowed: false,
                limit: HOURLY_LIMIT,
                remaining: 0,
                reset_after_secs: (reset_at - now).ceil().max(1.0) as u64,
                reset_at_unix: reset_at as i64,
            },
        );
        resp
    });
    let router = wrap(
        router,
        &env,
        too_many,
        Limits {
            account: limit,
            sub: Vec::new(),
        },
    );
    let sim = AppSim {
        app: App::Freshsales,
        router,
        credentials,
        env,
    };
    (sim, tenant)
}

/// The vendor routes (REST under both path spellings, SCIM) behind the auth and rate gate,
/// plus this app's control endpoints.
fn vendor_router(t: Arc<Tenant>) -> Router {
    let api = Router::new()
        .route("/selector/owners", get(rest::owners))
        .route("/selector/roles", get(rest::roles))
        .route("/settings/profile", get(rest::profile))
        .fallback(rest::not_found)
        .method_not_allowed_fallback(rest::method_not_allowed)
        .with_state(t.clone());
    let backend: Arc<dyn ScimBackend> = Arc::new(FreshsalesScim(t.clone()));
    let vendor = Router::new()
        .nest("/crm/sales/api", api.clone())
        .nest("/api", api)
        .nest("/scim/v2", scim::router(backend, t.env.tls))
        .fallback(rest::not_found)
        .layer(axum::middleware::from_fn_with_state(t.clone(), rest::gate));
    let control = Router::new()
        .route("/_sim/state", get(state))
        .route("/_sim/records/users/{id}", patch(patch_user))
        .route("/_sim/records/users/{id}/deactivate", post(deactivate_user))
        .route("/_sim/records/users/{id}/accept", post(accept_user))
        .with_state(t);
    vendor.merge(control)
}

fn control_result(r: Result<Value, String>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) if e.starts_with("no Freshsales user") => {
            crate::common::control_error(StatusCode::NOT_FOUND, &e)
        }
        Err(e) => crate::common::control_error(StatusCode::BAD_REQUEST, &e),
    }
}

/// `GET /_sim/state`: every user in both namespaces (deactivated and invited included) with
/// the CRM id ↔ SCIM id join, the REST owners, roles, SCIM groups and the API keys' owners.
async fn state(State(t): State<Arc<Tenant>>) -> Response {
    let store = t.store.read();
    let rest_users: Vec<Value> = store
        .users
        .iter()
        .filter(|u| u.rest)
        .map(|u| store.rest_user(u))
        .collect();
    let owners: Vec<u64> = store.owners().iter().map(|u| u.crm_id).collect();
    let joined: Vec<Value> = store.users.iter().map(|u| store.state_user(u)).collect();
    let roles: Vec<Value> = store.roles.iter().map(|r| store.rest_role(r)).collect();
    let keys: Vec<Value> = t
        .keys
        .iter()
        .map(|k| json!({"user_id": k.crm_id}))
        .collect();
    Json(json!({
        "domain": t.domain,
        "users": joined,
        "rest_users": rest_users,
        "owners": owners,
        "scim_users": store.scim_users(),
        "roles": roles,
        "scim_groups": store.scim_groups(),
        "api_key_owners": keys,
    }))
    .into_response()
}

async fn patch_user(
    State(t): State<Arc<Tenant>>,
    Path(id): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> Response {
    let Json(fields) = match body {
        Ok(b) => b,
        Err(e) => {
            return crate::common::control_error(
                StatusCode::BAD_REQUEST,
                &format!("PATCH /_sim/records/users/{id}: {}", e.body_text()),
            )
        }
    };
    let now = t.env.clock.now();
    control_result(t.store.write().control_patch(&id, &fields, now))
}

async fn deactivate_user(State(t): State<Arc<Tenant>>, Path(id): Path<String>) -> Response {
    let now = t.env.clock.now();
    control_result(t.store.write().control_deactivate(&id, now))
}

async fn accept_user(State(t): State<Arc<Tenant>>, Path(id): Path<String>) -> Response {
    let now = t.env.clock.now();
    control_result(t.store.write().control_accept(&id, now))
}
