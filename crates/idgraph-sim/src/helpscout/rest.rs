//! The Mailbox API v2 user endpoints: `GET /v2/users`, `/v2/users/{id}`, `/v2/users/me`,
//! `/v2/teams`, `/v2/teams/{id}/members`, the bearer-token gate with its 401s, and the
//! per-account rate limit with Help Scout's headers.
//!
//! Lists are HAL: `_embedded.<items>`, a `page` object and absolute `_links` (`self`, `first`,
//! `last`, `page` templated, `next` and `previous` when they exist), 50 per page. There is no
//! way to create or change a user over REST: `POST /v2/users` and writes on a user are 405.

use super::state::{render_team, render_user, Shared, Subject, PAGE_SIZE};
use crate::common::{bearer_token, origin, query_map, url_with_param};
use crate::ratelimit::Decision;
use axum::extract::{Path, RawQuery, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use serde_json::{json, Value};
use std::sync::Arc;

const ERRORS_DOC: &str = "https://developer.helpscout.net/mailbox-api/overview/errors";
/// An early answer of a handler's helper (boxed: a `Response` is large).
pub type Reject = Box<Response>;

pub const HAL_JSON: &str = "application/hal+json;charset=UTF-8";

/// A JSON response with Help Scout's content type.
pub fn hal(status: StatusCode, body: Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(HAL_JSON));
    r
}

/// Help Scout's unified error body: `logRef`, `message`, optional `_embedded.errors`, `_links`.
pub fn hs_error(sh: &Shared, status: StatusCode, message: &str, errors: Vec<Value>) -> Response {
    let mut body = json!({
        "logRef": sh.log_ref(),
        "message": message,
        "_links": {"about": {"href": ERRORS_DOC}},
    });
    if !errors.is_empty() {
        body["_embedded"] = json!({ "errors": errors });
    }
    hal(status, body)
}

/// One entry of `_embedded.errors`.
pub fn field_error(path: &str, message: &str, rejected: Option<&str>, code: &str) -> Value {
    let mut e = json!({
        "path": path,
        "message": message,
        "source": "URL",
        "_links": {"about": {"href": format!("{ERRORS_DOC}#{code}")}},
    });
    if let Some(r) = rejected {
        e["rejectedValue"] = json!(r);
    }
    e
}

/// 401 for a missing, unknown or expired access token: Help Scout's envelope plus the OAuth
/// resource-server fields (`error: invalid_token`) and a `WWW-Authenticate` challenge.
pub fn unauthorized(sh: &Shared, why: &str) -> Response {
    let body = json!({
        "logRef": sh.log_ref(),
        "message": why,
        "error": "invalid_token",
        "error_description": why,
        "_links": {"about": {"href": format!("{ERRORS_DOC}#AccessDenied")}},
    });
    let mut r = hal(StatusCode::UNAUTHORIZED, body);
    if let Ok(v) = HeaderValue::from_str(&format!(
        "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"{why}\""
    )) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

/// Sets the rate-limit headers: Help Scout's `X-RateLimit-*-Minute` and the guide's
/// `X-RateLimit-Limit`/`-Remaining`/`-Reset` (seconds until the window resets).
pub fn rate_headers(h: &mut HeaderMap, d: &Decision) {
    let pairs = [
        ("x-ratelimit-limit-minute", d.limit.to_string()),
        ("x-ratelimit-remaining-minute", d.remaining.to_string()),
        ("x-ratelimit-limit", d.limit.to_string()),
        ("x-ratelimit-remaining", d.remaining.to_string()),
        ("x-ratelimit-reset", d.reset_after_secs.to_string()),
    ];
    for (k, v) in pairs {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
}

/// Adds `Retry-After` and Help Scout's `X-RateLimit-Retry-After`, both in seconds.
pub fn retry_headers(h: &mut HeaderMap, secs: u64) {
    let v = HeaderValue::from(secs);
    h.insert(header::RETRY_AFTER, v.clone());
    h.insert("x-ratelimit-retry-after", v);
}

/// The REST 429: Help Scout's error envelope with the rate headers.
pub fn too_many(sh: &Shared, d: &Decision) -> Response {
    let mut r = hs_error(
        sh,
        StatusCode::TOO_MANY_REQUESTS,
        "Rate limit exceeded: too many requests for this account, retry after the time given in Retry-After",
        vec![],
    );
    rate_headers(r.headers_mut(), d);
    retry_headers(r.headers_mut(), d.reset_after_secs);
    r
}

/// Writes count twice against the limit (Help Scout's rule for POST, PUT, PATCH, DELETE).
pub fn request_cost(m: &Method) -> u32 {
    if matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS) {
        1
    } else {
        2
    }
}

/// Bearer check, then the account's rate limit; the token's subject goes into the request
/// extensions for `/v2/users/me`.
pub async fn api_gate(State(sh): State<Arc<Shared>>, mut req: Request, next: Next) -> Response {
    let Some(token) = bearer_token(req.headers()) else {
        return unauthorized(
            &sh,
            "Missing access token: send Authorization: Bearer <token> from POST /v2/oauth2/token",
        );
    };
    let subject = match sh.check_access_token(&token) {
        Ok(s) => s,
        Err(why) => return unauthorized(&sh, why),
    };
    let d = sh
        .limit
        .check_cost(&sh.env.clock, request_cost(req.method()));
    if !d.allowed {
        sh.env.counters.note_rate_limited();
        return too_many(&sh, &d);
    }
    req.extensions_mut().insert(subject);
    let mut resp = next.run(req).await;
    rate_headers(resp.headers_mut(), &d);
    resp
}

/// A validated `page` query parameter (1-based).
fn page_param(sh: &Shared, raw: Option<&str>) -> Result<u32, Reject> {
    let q = query_map(raw);
    match q.get("page") {
        None => Ok(1),
        Some(v) => match v.trim().parse::<u32>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(Box::new(hs_error(
                sh,
                StatusCode::BAD_REQUEST,
                "Bad request",
                vec![field_error(
                    "page",
                    "must be a number greater than or equal to 1",
                    Some(v),
                    "InvalidNumber",
                )],
            ))),
        },
    }
}

/// The index range of page `page` (1-based) in a result of `total` items.
fn page_range(total: usize, page: u32) -> std::ops::Range<usize> {
    let size = PAGE_SIZE as usize;
    let start = (page as usize)
        .saturating_sub(1)
        .saturating_mul(size)
        .min(total);
    start..(start + size).min(total)
}

/// Renders page `page` of `items` (only that page's items are rendered).
fn page_of<T>(items: &[T], page: u32, render: impl Fn(&T) -> Value) -> Vec<Value> {
    items[page_range(items.len(), page)]
        .iter()
        .map(render)
        .collect()
}

/// One HAL page under `_embedded.<key>`: `slice` is the page's items out of `total`.
fn hal_page(
    headers: &HeaderMap,
    uri: &Uri,
    tls: bool,
    key: &str,
    slice: Vec<Value>,
    total: usize,
    page: u32,
) -> Response {
    let size = PAGE_SIZE as usize;
    let total_pages = total.div_ceil(size);
    let link =
        |p: usize| json!({"href": url_with_param(headers, uri, tls, "page", &p.to_string())});
    let mut self_href = format!("{}{}", origin(headers, tls), uri.path());
    if let Some(q) = uri.query() {
        self_href.push('?');
        self_href.push_str(q);
    }
    let mut links = json!({
        "self": {"href": self_href},
        "first": link(1),
        "last": link(total_pages.max(1)),
        "page": {
            "href": format!("{}{}?page={{page}}", origin(headers, tls), uri.path()),
            "templated": true
        },
    });
    if (page as usize) < total_pages {
        links["next"] = link(page as usize + 1);
    }
    if page > 1 && (page as usize) <= total_pages.max(1) + 1 {
        links["previous"] = link(page as usize - 1);
    }
    hal(
        StatusCode::OK,
        json!({
            "_embedded": { key: slice },
            "_links": links,
            "page": {
                "size": PAGE_SIZE,
                "totalElements": total,
                "totalPages": total_pages,
                "number": page,
            },
        }),
    )
}

/// `GET /v2/users`: active and pending users, 50 a page. `email` filters by exact address
/// (case-insensitive), as the real API documents; the guide says no such filter exists, so a
/// connector written to the guide never sends it and pages through everyone.
pub async fn list_users(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let page = match page_param(&sh, raw.as_deref()) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let q = query_map(raw.as_deref());
    let email = q.get("email").map(|e| e.trim().to_ascii_lowercase());
    let o = origin(&headers, sh.env.tls);
    let (slice, total) = {
        let t = sh.tenant.lock();
        let visible: Vec<&super::state::User> = t
            .users
            .values()
            .filter(|u| u.status.rest_visible())
            .filter(|u| {
                email
                    .as_deref()
                    .is_none_or(|e| u.email.eq_ignore_ascii_case(e))
            })
            .collect();
        (
            page_of(&visible, page, |u| render_user(u, Some(&o))),
            visible.len(),
        )
    };
    hal_page(&headers, &uri, sh.env.tls, "users", slice, total, page)
}

fn parse_id(sh: &Shared, what: &str, raw: &str) -> Result<u64, Reject> {
    raw.parse::<u64>().map_err(|_| {
        Box::new(hs_error(
            sh,
            StatusCode::BAD_REQUEST,
            "Bad request",
            vec![field_error(
                what,
                "is not a valid identifier",
                Some(raw),
                "InvalidIdentifier",
            )],
        ))
    })
}

fn not_found(sh: &Shared, what: &str) -> Response {
    hs_error(
        sh,
        StatusCode::NOT_FOUND,
        &format!("{what} not found"),
        vec![],
    )
}

/// `GET /v2/users/{id}`: 404 for deactivated, deleted and unknown users.
pub async fn get_user(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let id = match parse_id(&sh, "userId", &id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    let o = origin(&headers, sh.env.tls);
    let found = sh
        .tenant
        .lock()
        .rest_user(id)
        .map(|u| render_user(u, Some(&o)));
    match found {
        Some(v) => hal(StatusCode::OK, v),
        None => not_found(&sh, &format!("User {id}")),
    }
}

/// `GET /v2/users/me`: the app's bot user for client-credentials tokens, the authorizing person
/// for authorization-code tokens.
pub async fn get_me(State(sh): State<Arc<Shared>>, req: Request) -> Response {
    let subject = req
        .extensions()
        .get::<Subject>()
        .copied()
        .unwrap_or(Subject::App);
    let o = origin(req.headers(), sh.env.tls);
    let t = sh.tenant.lock();
    let v = match subject {
        Subject::App => Some(render_user(&t.bot, Some(&o))),
        Subject::User(id) => t.rest_user(id).map(|u| render_user(u, Some(&o))),
    };
    drop(t);
    match v {
        Some(v) => hal(StatusCode::OK, v),
        None => unauthorized(
            &sh,
            "The user who authorized this token is no longer an active user of the account",
        ),
    }
}

/// `GET /v2/teams`.
pub async fn list_teams(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let page = match page_param(&sh, raw.as_deref()) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let o = origin(&headers, sh.env.tls);
    let (slice, total) = {
        let t = sh.tenant.lock();
        let teams: Vec<&super::state::Team> = t.teams.values().collect();
        (
            page_of(&teams, page, |team| render_team(team, Some(&o))),
            teams.len(),
        )
    };
    hal_page(&headers, &uri, sh.env.tls, "teams", slice, total, page)
}

/// `GET /v2/teams/{id}/members`: the team's visible users under `_embedded.users` (the real
/// API's key; the guide shows `members`).
pub async fn team_members(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let id = match parse_id(&sh, "teamId", &id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    let page = match page_param(&sh, raw.as_deref()) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let o = origin(&headers, sh.env.tls);
    let found = {
        let t = sh.tenant.lock();
        t.teams.get(&id).map(|team| {
            let members: Vec<&super::state::User> = team
                .members
                .iter()
                .filter_map(|uid| t.rest_user(*uid))
                .collect();
            (
                page_of(&members, page, |u| render_user(u, Some(&o))),
                members.len(),
            )
        })
    };
    match found {
        Some((slice, total)) => hal_page(&headers, &uri, sh.env.tls, "users", slice, total, page),
        None => not_found(&sh, &format!("Team {id}")),
    }
}

/// Writes on users do not exist in the Mailbox API: 405 with an `Allow` header.
pub async fn users_method_not_allowed(State(sh): State<Arc<Shared>>, method: Method) -> Response {
    let mut r = hs_error(
        &sh,
        StatusCode::METHOD_NOT_ALLOWED,
        &format!(
            "Request method '{method}' not supported: users cannot be created or changed through the Mailbox API; invite them in Help Scout or provision them over SCIM (/v2/scim/Users, Pro plan)"
        ),
        vec![],
    );
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET"));
    r
}

/// Any other path: Help Scout's 404.
pub async fn fallback(State(sh): State<Arc<Shared>>, method: Method, uri: Uri) -> Response {
    hs_error(
        &sh,
        StatusCode::NOT_FOUND,
        &format!(
            "The specified resource was not found: {method} '{}'",
            uri.path()
        ),
        vec![],
    )
}
