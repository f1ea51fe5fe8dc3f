//! The Freshsales REST API (`/crm/sales/api`, and `/api` as older `{domain}.freshsales.io`
//! accounts spell it): API-key auth (`Authorization: Token token=KEY` or Basic), the
//! account-wide hourly rate limit shared with SCIM, and the user-management read endpoints
//! `selector/owners`, `selector/roles` and `settings/profile`.

use super::store::Status;
use super::Tenant;
use crate::common::{basic_auth, bearer_token, page_params, query_map};
use crate::ratelimit::Decision;
use axum::extract::{RawQuery, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

/// Default page size of `selector/owners`.
pub const DEFAULT_PER_PAGE: u32 = 25;
/// Largest honoured `per_page`.
pub const MAX_PER_PAGE: u32 = 100;

/// The CRM id of the user whose API key authenticated the request.
#[derive(Clone, Copy, Debug)]
pub struct KeyOwner(pub u64);

/// Freshsales' body for a missing, wrong or revoked API key.
pub fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"login": "failed", "message": "Incorrect or expired API key"})),
    )
        .into_response()
}

/// Freshsales' error body: `{"errors": {"code": N, "message": ["…"]}}`.
pub fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"errors": {"code": status.as_u16(), "message": [message]}})),
    )
        .into_response()
}

/// The 429 body (no `Retry-After`: Freshsales sends none).
pub fn too_many_body() -> Response {
    error(
        StatusCode::TOO_MANY_REQUESTS,
        "You have exceeded the limit of 1000 API requests per hour for this account. Try again after the time in X-RateLimit-Reset.",
    )
}

/// The API key of a request: `Token token=KEY` (quotes tolerated), or Basic with the key as
/// user and any password, or Basic `X-API-KEY:KEY` as the guide spells it.
pub fn api_key(headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    if let Some((scheme, rest)) = value.split_once(' ') {
        if scheme.eq_ignore_ascii_case("token") {
            let rest = rest.trim();
            let key = rest
                .strip_prefix("token=")
                .or_else(|| rest.strip_prefix("Token="))?;
            return Some(key.trim().trim_matches('"').to_string());
        }
    }
    let (user, password) = basic_auth(headers)?;
    if user.eq_ignore_ascii_case("X-API-KEY") && !password.is_empty() {
        return Some(password);
    }
    Some(user)
}

pub fn set_rate_headers(headers: &mut HeaderMap, d: &Decision) {
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

/// Authentication and the account's hourly window, for REST and SCIM alike. REST requests
/// without a valid key get Freshsales' 401 here; SCIM requests are counted when their bearer
/// token is the tenant's and otherwise left to the SCIM server to refuse.
pub async fn gate(State(t): State<Arc<Tenant>>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.starts_with("/_sim") {
        return next.run(req).await;
    }
    let scim = path.starts_with("/scim/");
    if scim {
        match bearer_token(req.headers()) {
            Some(tok) if tok == t.scim_token => {}
            _ => return next.run(req).await,
        }
    } else {
        let Some(key) = api_key(req.headers()) else {
            return unauthorized();
        };
        let Some(owner) = t.keys.iter().find(|k| k.key == key).map(|k| k.crm_id) else {
            return unauthorized();
        };
        // A deactivated user's API key stops working.
        let active = t
            .store
            .read()
            .by_crm(owner)
            .is_some_and(|u| u.status == Status::Active);
        if !active {
            return unauthorized();
        }
        req.extensions_mut().insert(KeyOwner(owner));
    }
    let d = t.limit.check(&t.env.clock);
    if !d.allowed {
        t.env.counters.note_rate_limited();
        let mut resp = too_many_body();
        set_rate_headers(resp.headers_mut(), &d);
        return resp;
    }
    let mut resp = next.run(req).await;
    set_rate_headers(resp.headers_mut(), &d);
    resp
}

/// `GET selector/owners`: active, owner-eligible users, `page` (1-based) and `per_page`
/// (default 25, at most 100). A page past the end is an empty array.
pub async fn owners(State(t): State<Arc<Tenant>>, RawQuery(q): RawQuery) -> Response {
    let q = query_map(q.as_deref());
    let p = match page_params(&q, "page", "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE) {
        Ok(p) => p,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!(
                    "{}: {} (query parameter of selector/owners)",
                    e.field, e.message
                ),
            )
        }
    };
    let store = t.store.read();
    let users: Vec<Value> = store
        .owners()
        .into_iter()
        .skip(p.offset())
        .take(p.per_page as usize)
        .map(|u| store.rest_user(u))
        .collect();
    Json(json!({ "users": users })).into_response()
}

/// `GET selector/roles`.
pub async fn roles(State(t): State<Arc<Tenant>>) -> Response {
    let store = t.store.read();
    let roles: Vec<Value> = store.roles.iter().map(|r| store.rest_role(r)).collect();
    Json(json!({ "roles": roles })).into_response()
}

/// `GET settings/profile`: the API key owner's own profile, nobody else's.
pub async fn profile(
    State(t): State<Arc<Tenant>>,
    Extension(owner): Extension<KeyOwner>,
) -> Response {
    let store = t.store.read();
    match store.by_crm(owner.0) {
        Some(u) => Json(json!({ "user": store.rest_user(u) })).into_response(),
        None => unauthorized(),
    }
}

/// A known path with an unsupported method (the REST API has no user create/update/delete).
pub async fn method_not_allowed(req: Request) -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!(
            "{} is not supported on {} (users are created and deactivated over SCIM or in the UI)",
            req.method(),
            req.uri().path()
        ),
    )
}

/// Unknown REST paths.
pub async fn not_found(req: Request) -> Response {
    error(
        StatusCode::NOT_FOUND,
        &format!("No route matches {} {}", req.method(), req.uri().path()),
    )
}
