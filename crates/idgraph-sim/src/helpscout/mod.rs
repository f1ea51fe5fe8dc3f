//! Simulator of the Help Scout Mailbox API v2 user surface (see `shared/api-guides/helpscout.txt`
//! and `docs/simulators/helpscout.md`): OAuth 2.0 client credentials and authorization code,
//! users, the app's bot user, teams and team members, SCIM at `/v2/scim` (Pro plan and SSO),
//! one 400-requests-a-minute limit for the whole account, and `/_sim/` control endpoints.
//!
//! Traps kept on purpose: there is no REST user creation (`POST /v2/users` is 405); deactivated
//! and deleted users vanish from `GET /v2/users` and `GET /v2/users/{id}` (404) with no
//! tombstone; list pages hold 50 users and link the next page with an absolute
//! `_links.next.href`; tokens expire after 48 simulated hours and client-credentials tokens
//! cannot be refreshed.

mod oauth;
mod rest;
mod scim;
mod state;
#[cfg(test)]
mod tests;

pub use scim::HelpscoutScim;
pub use state::{PAGE_SIZE, RATE_LIMIT_PER_MINUTE, TOKEN_TTL_SECS};

use crate::common::{bearer_token, control_error, wrap, App, Limits, SimEnv};
use crate::company::Company;
use crate::faults::TooManyFn;
use crate::ratelimit::Decision;
use crate::AppSim;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use http::StatusCode;
use serde_json::{json, Value};
use state::{render_team, render_user, Creds, Shared, User, UserStatus};
use std::sync::Arc;

/// Builds the simulated Help Scout account from the generated company.
pub fn build(company: &Company, env: SimEnv) -> AppSim {
    let creds = Creds {
        client_id: env.secret("oauth-client-id", 32),
        client_secret: env.secret("oauth-client-secret", 32),
        scim_token: env.secret("scim-token", 40),
        redirect_uri: "http://127.0.0.1/oauth/callback".to_string(),
    };
    let sh = Arc::new(state::seed(company, env.clone(), creds.clone()));
    let too_many: TooManyFn = {
        let sh = sh.clone();
        Arc::new(move || injected_429(&sh))
    };
    let limits = Limits {
        account: sh.limit.clone(),
        sub: Vec::new(),
    };
    let router = wrap(router(sh.clone()), &env, too_many, limits);
    AppSim {
        app: App::Helpscout,
        router,
        credentials: json!({
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
            "scim_token": creds.scim_token,
            "redirect_uri": creds.redirect_uri,
            "token_path": "/v2/oauth2/token",
            "authorize_path": "/v2/oauth2/authorize",
            "scim_path": "/v2/scim",
        }),
        env,
    }
}

/// The vendor routes and the Help Scout control endpoints, before [`wrap`].
fn router(sh: Arc<Shared>) -> Router {
    let api: Router<Arc<Shared>> = Router::new()
        .route(
            "/v2/users",
            get(rest::list_users)
                .post(rest::users_method_not_allowed)
                .put(rest::users_method_not_allowed)
                .patch(rest::users_method_not_allowed)
                .delete(rest::users_method_not_allowed),
        )
        .route("/v2/users/me", get(rest::get_me))
        .route(
            "/v2/users/{id}",
            get(rest::get_user)
                .post(rest::users_method_not_allowed)
                .put(rest::users_method_not_allowed)
                .patch(rest::users_method_not_allowed)
                .delete(rest::users_method_not_allowed),
        )
        .route("/v2/teams", get(rest::list_teams))
        .route("/v2/teams/{id}/members", get(rest::team_members))
        .fallback(rest::fallback)
        .layer(middleware::from_fn_with_state(sh.clone(), rest::api_gate));
    let oauth: Router<Arc<Shared>> = Router::new()
        .route("/v2/oauth2/token", post(oauth::token))
        .route("/v2/auth/token", post(oauth::token))
        .route("/v2/oauth2/authorize", get(oauth::authorize))
        .route(
            "/authentication/authorizeClientApplication",
            get(oauth::authorize),
        );
    let control: Router<Arc<Shared>> = Router::new()
        .route("/_sim/state", get(sim_state))
        .route("/_sim/records/users/{id}", patch(sim_patch_user))
        .route("/_sim/records/users/{id}/deactivate", post(sim_deactivate))
        .route("/_sim/tokens/expire", post(sim_expire_tokens));
    let scim = scim_routes(Arc::new(HelpscoutScim(sh.clone())), sh.env.tls)
        .layer(middleware::from_fn_with_state(sh.clone(), scim_gate));
    api.merge(oauth)
        .merge(control)
        .with_state(sh)
        .nest("/v2/scim", scim)
}

/// The SCIM routes (`/Users`, `/Groups`, …) of the shared SCIM server over the Help Scout
/// backend, to be nested at `/v2/scim`.
fn scim_routes(backend: Arc<HelpscoutScim>, tls: bool) -> Router {
    crate::scim_server::router_with_tls(backend, tls)
}

/// Counts SCIM requests made with the SCIM token against the account's rate limit, with
/// Help Scout's headers; anything else goes on to the SCIM server's own 401.
async fn scim_gate(State(sh): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    if bearer_token(req.headers()).as_deref() != Some(sh.creds.scim_token.as_str()) {
        return next.run(req).await;
    }
    let d = sh
        .limit
        .check_cost(&sh.env.clock, rest::request_cost(req.method()));
    if !d.allowed {
        sh.env.counters.note_rate_limited();
        let mut r = crate::scim_server::ScimError::new(
            429,
            None,
            "Rate limit exceeded for this Help Scout account; retry after the time given in Retry-After",
        )
        .into_response();
        rest::rate_headers(r.headers_mut(), &d);
        rest::retry_headers(r.headers_mut(), d.reset_after_secs);
        return r;
    }
    let mut resp = next.run(req).await;
    rest::rate_headers(resp.headers_mut(), &d);
    resp
}

/// The 429 of fault injection: the same shape as the plan limit's.
fn injected_429(sh: &Shared) -> Response {
    let now = sh.env.clock.unix_f64();
    let reset_at = ((now / 60.0).floor() + 1.0) * 60.0;
    let d = Decision {
        allowed: false,
        limit: sh.limit.limit(),
        remaining: 0,
        reset_after_secs: ((reset_at - now).ceil() as u64).max(1),
        reset_at_unix: reset_at as i64,
    };
    rest::too_many(sh, &d)
}

fn state_user(u: &User) -> Value {
    let mut v = render_user(u, None);
    v["status"] = json!(u.status.as_str());
    v["active"] = json!(u.status == UserStatus::Active || u.status == UserStatus::Pending);
    if let Some(e) = &u.external_id {
        v["externalId"] = json!(e);
    }
    v
}

/// `GET /_sim/state`: every user (deactivated and deleted included, with `status`), every team
/// with `memberIds`, and the bot user.
async fn sim_state(State(sh): State<Arc<Shared>>) -> Response {
    let t = sh.tenant.lock();
    let users: Vec<Value> = t.users.values().map(state_user).collect();
    let teams: Vec<Value> = t
        .teams
        .values()
        .map(|team| {
            let mut v = render_team(team, None);
            v["memberIds"] = json!(team.members.iter().collect::<Vec<_>>());
            v
        })
        .collect();
    let body = json!({
        "app": "helpscout",
        "plan": sh.env.options.plan,
        "scim_enabled": sh.env.options.plan >= crate::common::PlanTier::Pro && sh.env.options.sso,
        "users": users,
        "teams": teams,
        "bot": render_user(&t.bot, None),
    });
    drop(t);
    Json(body).into_response()
}

/// A control-endpoint error as an early answer.
fn reject(status: StatusCode, msg: &str) -> rest::Reject {
    Box::new(control_error(status, msg))
}

fn user_id(raw: &str) -> Result<u64, rest::Reject> {
    raw.parse().map_err(|_| {
        reject(
            StatusCode::BAD_REQUEST,
            &format!("user id `{raw}` in the path is not a number"),
        )
    })
}

fn str_field(key: &str, v: &Value) -> Result<String, rest::Reject> {
    v.as_str().map(str::to_string).ok_or_else(|| {
        reject(
            StatusCode::BAD_REQUEST,
            &format!("field `{key}` must be a string"),
        )
    })
}

fn time_field(key: &str, v: &Value) -> Result<time::OffsetDateTime, rest::Reject> {
    let s = str_field(key, v)?;
    crate::clock::parse_timestamp(&s).ok_or_else(|| {
        reject(
            StatusCode::BAD_REQUEST,
            &format!("field `{key}`: `{s}` is not an ISO 8601 timestamp"),
        )
    })
}

/// Applies one control-endpoint field to a user.
fn apply_field(u: &mut User, key: &str, v: &Value) -> Result<(), rest::Reject> {
    match key {
        "firstName" => u.first_name = str_field(key, v)?,
        "lastName" => u.last_name = str_field(key, v)?,
        "email" => u.email = str_field(key, v)?,
        "role" => {
            let r = str_field(key, v)?.to_ascii_lowercase();
            if !matches!(r.as_str(), "owner" | "admin" | "user") {
                return Err(reject(
                    StatusCode::BAD_REQUEST,
                    &format!("field `role`: `{r}` is not owner, admin or user"),
                ));
            }
            u.role = r;
        }
        "timezone" => u.timezone = str_field(key, v)?,
        "photoUrl" => u.photo_url = str_field(key, v)?,
        "jobTitle" => u.job_title = str_field(key, v)?,
        "phone" => u.phone = str_field(key, v)?,
        "mention" => u.mention = str_field(key, v)?,
        "alternateEmails" => {
            let list = v.as_array().ok_or_else(|| {
                reject(
                    StatusCode::BAD_REQUEST,
                    "field `alternateEmails` must be an array of strings",
                )
            })?;
            u.alternate_emails = list
                .iter()
                .map(|e| str_field("alternateEmails[]", e))
                .collect::<Result<_, _>>()?;
        }
        "status" => {
            let s = str_field(key, v)?;
            u.status = UserStatus::parse(&s).ok_or_else(|| {
                reject(
                    StatusCode::BAD_REQUEST,
                    &format!("field `status`: `{s}` is not active, pending, inactive or deleted"),
                )
            })?;
        }
        "createdAt" => u.created_at = time_field(key, v)?,
        "updatedAt" => u.updated_at = time_field(key, v)?,
        other => {
            return Err(reject(
                StatusCode::BAD_REQUEST,
                &format!(
                    "unknown user field `{other}` (expected firstName, lastName, email, role, timezone, photoUrl, jobTitle, phone, mention, alternateEmails, status, createdAt, updatedAt)"
                ),
            ))
        }
    }
    Ok(())
}

/// `PATCH /_sim/records/users/{id}`: overwrites the given fields and bumps `updatedAt` (unless
/// the body sets `updatedAt` itself).
async fn sim_patch_user(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let id = match user_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    let fields = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(m)) => m,
        Ok(_) => {
            return control_error(
                StatusCode::BAD_REQUEST,
                "the body must be a JSON object of user fields",
            )
        }
        Err(e) => {
            return control_error(
                StatusCode::BAD_REQUEST,
                &format!("the body is not valid JSON: {e}"),
            )
        }
    };
    let now = sh.now();
    let mut t = sh.tenant.lock();
    let Some(u) = t.users.get_mut(&id) else {
        return control_error(
            StatusCode::NOT_FOUND,
            &format!("no Help Scout user with id {id}"),
        );
    };
    let mut updated = u.clone();
    updated.updated_at = now;
    for (k, v) in &fields {
        if let Err(r) = apply_field(&mut updated, k, v) {
            return *r;
        }
    }
    *u = updated;
    Json(state_user(u)).into_response()
}

/// `POST /_sim/records/users/{id}/deactivate`: as an admin deactivating the user in the UI.
async fn sim_deactivate(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let id = match user_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    let now = sh.now();
    let mut t = sh.tenant.lock();
    match t.users.get_mut(&id) {
        Some(u) => {
            u.status = UserStatus::Inactive;
            u.updated_at = now;
            Json(state_user(u)).into_response()
        }
        None => control_error(
            StatusCode::NOT_FOUND,
            &format!("no Help Scout user with id {id}"),
        ),
    }
}

/// `POST /_sim/tokens/expire`: every access token issued so far expires now (refresh tokens
/// stay good).
async fn sim_expire_tokens(State(sh): State<Arc<Shared>>) -> Response {
    let past = sh.now() - time::Duration::seconds(1);
    let mut t = sh.tenant.lock();
    let n = t.tokens.len();
    for tok in t.tokens.values_mut() {
        tok.expires_at = past;
    }
    drop(t);
    Json(json!({"expired": n})).into_response()
}
