//! Simulator of the FreshBooks user-management API (see `shared/api-guides/freshbooks.txt`):
//! the OAuth 2.0 authorization-code flow with single-use refresh tokens, the token owner's
//! identity (`/auth/api/v1/users/me`), business members and invitations, over an in-memory
//! tenant seeded from the generated company.
//!
//! Behaviour the guide leaves open is decided here and documented in
//! `docs/simulators/freshbooks.md`: 120 requests per minute per account (429 without
//! `Retry-After`, `X-RateLimit-*` headers on every API answer), errors as
//! `{"error": code, "error_description": text}` like the real `/auth` API, access tokens valid
//! 12 h of simulated time, authorization codes 5 minutes.

mod api;
mod control;
mod oauth;
mod state;
#[cfg(test)]
mod tests;

use crate::common::{wrap, App, Limits, SimEnv};
use crate::company::Company;
use crate::faults::TooManyFn;
use crate::ratelimit::{Decision, FixedWindow};
use crate::AppSim;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use http::{HeaderMap, HeaderValue, StatusCode};
use parking_lot::Mutex;
use serde_json::json;
use state::Tenant;
use std::sync::Arc;

/// Requests per minute per FreshBooks account (undocumented by FreshBooks; our choice).
pub const RATE_LIMIT_PER_MINUTE: u32 = 120;
/// Access token lifetime in simulated seconds (12 hours, as FreshBooks documents).
pub const ACCESS_TOKEN_TTL_SECS: i64 = 12 * 3600;
/// Authorization code lifetime in simulated seconds.
pub const AUTH_CODE_TTL_SECS: i64 = 300;
/// Default and maximum page sizes of the list endpoints.
pub const DEFAULT_PER_PAGE: u32 = 15;
pub const MAX_PER_PAGE: u32 = 100;
/// The registered redirect URI of the simulated OAuth application.
pub const REDIRECT_URI: &str = "https://idgraph.localhost/oauth/freshbooks/callback";

/// Scopes the simulated application is registered for (all granted when none are asked).
pub const SCOPE_PROFILE_READ: &str = "user:profile:read";
pub const SCOPE_PROFILE_WRITE: &str = "user:profile:write";
pub const SCOPE_ADMIN: &str = "admin:all:legacy";
pub const SCOPE_TEAMS_READ: &str = "user:teams:read";
pub const SCOPES: [&str; 4] = [
    SCOPE_PROFILE_READ,
    SCOPE_PROFILE_WRITE,
    SCOPE_ADMIN,
    SCOPE_TEAMS_READ,
];

/// Shared state of one simulated FreshBooks tenant.
#[derive(Debug)]
pub(crate) struct Sim {
    pub env: SimEnv,
    pub limiter: Arc<FixedWindow>,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
    pub tenant: Mutex<Tenant>,
}

/// Builds the simulated FreshBooks tenant from the generated company.
///
/// Credentials: `client_id`, `client_secret`, `redirect_uri` of the registered application,
/// and a pre-issued `refresh_token` (all scopes, single-use like every FreshBooks refresh
/// token) for headless clients that cannot follow the browser redirect.
pub fn build(company: &Company, env: SimEnv) -> AppSim {
    let now = env.clock.now();
    let mut tenant = Tenant::seed(company, env.seed, now);
    let initial_refresh = env.secret("refresh:initial", 64);
    tenant.oauth.refresh.insert(
        initial_refresh.clone(),
        state::RefreshToken {
            scopes: SCOPES.iter().map(|s| s.to_string()).collect(),
            spent: false,
        },
    );
    let business_ids: Vec<u64> = tenant.businesses.keys().copied().collect();
    let account_ids: Vec<String> = tenant
        .businesses
        .values()
        .map(|b| b.account_id.clone())
        .collect();
    let limiter = Arc::new(FixedWindow::new(
        RATE_LIMIT_PER_MINUTE,
        60,
        env.options.rate_limits,
    ));
    let sim = Arc::new(Sim {
        client_id: env.secret("client_id", 64),
        client_secret: env.secret("client_secret", 64),
        redirect_uri: REDIRECT_URI.to_string(),
        limiter: limiter.clone(),
        env: env.clone(),
        tenant: Mutex::new(tenant),
    });
    let credentials = json!({
        "client_id": sim.client_id,
        "client_secret": sim.client_secret,
        "redirect_uri": sim.redirect_uri,
        "refresh_token": initial_refresh,
        "scopes": SCOPES,
        "authorize_path": "/oauth/authorize",
        "token_path": "/auth/oauth/token",
        "business_ids": business_ids,
        "account_ids": account_ids,
    });
    let too_many: TooManyFn = {
        let limiter = limiter.clone();
        let clock = env.clock.clone();
        Arc::new(move || {
            let d = Decision {
                allowed: false,
                limit: limiter.limit(),
                remaining: 0,
                reset_after_secs: 60,
                reset_at_unix: clock.now().unix_timestamp() + 60,
            };
            too_many_response(&d)
        })
    };
    let limits = Limits {
        account: limiter,
        sub: Vec::new(),
    };
    let router = wrap(router(sim), &env, too_many, limits);
    AppSim {
        app: App::Freshbooks,
        router,
        credentials,
        env,
    }
}

fn router(sim: Arc<Sim>) -> Router {
    let api = Router::new()
        .route("/auth/api/v1/users/me", get(api::me_get).put(api::me_put))
        .route(
            "/auth/api/v1/business/{business_id}/members",
            get(api::members_list),
        )
        .route(
            "/auth/api/v1/business/{business_id}/members/{member_id}",
            put(api::member_update).delete(api::member_remove),
        )
        .route(
            "/auth/api/v1/business/{business_id}/invitations",
            get(api::invitations_list).post(api::invitation_create),
        )
        .route(
            "/auth/api/v1/business/{business_id}/invitations/{invitation_id}",
            delete(api::invitation_revoke),
        )
        .route(
            "/auth/api/v1/businesses/{business_id}/team_members",
            get(api::team_members),
        )
        .layer(middleware::from_fn_with_state(sim.clone(), rate_limit))
        .with_state(sim.clone());
    let oauth = Router::new()
        .route("/oauth/authorize", get(oauth::authorize))
        .route("/service/auth/oauth/authorize", get(oauth::authorize))
        .route("/auth/oauth/token", post(oauth::token))
        .route("/service/auth/oauth/token", post(oauth::token))
        .with_state(sim.clone());
    api.merge(oauth)
        .merge(control::router(sim))
        .fallback(not_found)
}

async fn not_found(req: Request) -> Response {
    fb_error(
        StatusCode::NOT_FOUND,
        "not_found",
        format!(
            "Requested resource could not be found: no route {} {}",
            req.method(),
            req.uri().path()
        ),
    )
}

/// An error answer on its way out of a handler (boxed: a `Response` is large).
#[derive(Debug)]
pub(crate) struct Reject(Box<Response>);

impl From<Response> for Reject {
    fn from(r: Response) -> Self {
        Reject(Box::new(r))
    }
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// The error body of the FreshBooks `/auth` API: `{"error": …, "error_description": …}`.
pub(crate) fn fb_error(
    status: StatusCode,
    error: &str,
    description: impl Into<String>,
) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description.into() })),
    )
        .into_response()
}

fn set_rate_headers(headers: &mut HeaderMap, d: &Decision) {
    let pairs = [
        ("x-ratelimit-limit", d.limit.to_string()),
        ("x-ratelimit-remaining", d.remaining.to_string()),
        ("x-ratelimit-reset", d.reset_at_unix.to_string()),
    ];
    for (k, v) in pairs {
        if let Ok(v) = HeaderValue::from_str(&v) {
            headers.insert(k, v);
        }
    }
}

/// FreshBooks' 429: JSON error body, `X-RateLimit-*` headers, and no `Retry-After`.
fn too_many_response(d: &Decision) -> Response {
    let mut resp = fb_error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limit_exceeded",
        format!(
            "Rate limit exceeded: more than {} requests in this minute for this FreshBooks account.",
            d.limit
        ),
    );
    set_rate_headers(resp.headers_mut(), d);
    resp
}

async fn rate_limit(State(sim): State<Arc<Sim>>, req: Request, next: Next) -> Response {
    let d = sim.limiter.check(&sim.env.clock);
    if !d.allowed {
        sim.env.counters.note_rate_limited();
        return too_many_response(&d);
    }
    let mut resp = next.run(req).await;
    set_rate_headers(resp.headers_mut(), &d);
    resp
}
