//! HTTP face of the simulated Freshservice tenant: the `/api/v2` routes with Basic auth and the
//! account's per-minute rate windows, Freshservice's error bodies, and the tenant's own `/_sim/`
//! control routes (state, record overwrite, deactivate, purge).

// Handlers bail out early with a finished response; boxing it buys nothing here.
#![allow(clippy::result_large_err)]

use super::model::{ApiError, Kind, ListQuery, Store};
use super::Tenant;
use crate::clock::{parse_timestamp, rfc3339};
use crate::common::{
    basic_auth, control_error, next_link, page_params, paginate, parse_bool, query_map, PageParams,
};
use crate::ratelimit::Decision;
use axum::extract::{Path, RawQuery, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Default and maximum `per_page`.
pub(crate) const DEFAULT_PER_PAGE: u32 = 30;
pub(crate) const MAX_PER_PAGE: u32 = 100;

type T = State<Arc<Tenant>>;

/// The vendor API (`/api/v2/…`), behind auth and rate limits.
pub(crate) fn api_router(t: Arc<Tenant>) -> Router {
    Router::new()
        .route("/api/v2/agents", get(list_agents).post(create_agent))
        .route(
            "/api/v2/agents/{id}",
            get(get_agent)
                .put(update_agent)
                .patch(update_agent)
                .delete(delete_agent),
        )
        .route("/api/v2/agents/{id}/reactivate", put(reactivate_agent))
        .route(
            "/api/v2/agents/{id}/forget",
            axum::routing::delete(forget_agent),
        )
        .route(
            "/api/v2/agents/{id}/convert_to_requester",
            put(convert_to_requester),
        )
        .route(
            "/api/v2/requesters",
            get(list_requesters).post(create_requester),
        )
        .route(
            "/api/v2/requesters/{id}",
            get(get_requester)
                .put(update_requester)
                .patch(update_requester)
                .delete(delete_requester),
        )
        .route(
            "/api/v2/requesters/{id}/reactivate",
            put(reactivate_requester),
        )
        .route(
            "/api/v2/requesters/{id}/forget",
            axum::routing::delete(forget_requester),
        )
        .route(
            "/api/v2/requesters/{id}/convert_to_agent",
            put(convert_to_agent),
        )
        .route("/api/v2/roles", get(list_roles))
        .route("/api/v2/roles/{id}", get(get_role))
        .route("/api/v2/groups", get(list_groups).post(create_group))
        .route(
            "/api/v2/groups/{id}",
            get(get_group).put(update_group).delete(delete_group),
        )
        .route("/api/v2/departments", get(list_departments))
        .route("/api/v2/departments/{id}", get(get_department))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(unknown_route)
        .layer(middleware::from_fn_with_state(t.clone(), guard))
        .with_state(t)
}

/// The tenant's control routes (no auth, no rate limit).
pub(crate) fn control_router(t: Arc<Tenant>) -> Router {
    Router::new()
        .route("/_sim/state", get(sim_state))
        .route("/_sim/webhooks", get(sim_webhooks))
        .route(
            "/_sim/records/{collection}/{id}",
            axum::routing::patch(sim_patch),
        )
        .route(
            "/_sim/records/{collection}/{id}/deactivate",
            post(sim_deactivate),
        )
        .route(
            "/_sim/records/{collection}/{id}/reactivate",
            post(sim_reactivate),
        )
        .route("/_sim/records/{collection}/{id}/purge", post(sim_purge))
        .with_state(t)
}

// ---------------------------------------------------------------- errors and headers

/// `{"code": …, "message": …}`, the shape of Freshservice's non-validation errors.
pub(crate) fn code_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"code": code, "message": message}))).into_response()
}

pub(crate) fn api_error(e: ApiError) -> Response {
    let body = |errors: Vec<Value>| json!({"description": "Validation failed", "errors": errors});
    let fe = |f: &super::model::FieldError| json!({"field": f.field, "message": f.message, "code": f.code});
    match e {
        ApiError::Invalid(errs) => (
            StatusCode::BAD_REQUEST,
            Json(body(errs.iter().map(fe).collect())),
        )
            .into_response(),
        ApiError::Duplicate(f) => (StatusCode::CONFLICT, Json(body(vec![fe(&f)]))).into_response(),
        ApiError::NotFound { what, id } => code_error(
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("There is no {what} with the id {id}"),
        ),
        ApiError::InvalidJson(detail) => code_error(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            &format!("Request body has invalid json format: {detail}"),
        ),
        ApiError::SeatLimit { limit } => (
            StatusCode::BAD_REQUEST,
            Json(body(vec![json!({
                "field": "agent_license",
                "message": format!(
                    "You have reached the maximum number of agents your subscription allows ({limit} full-time agent licenses are in use); purchase more licenses or deactivate an agent"
                ),
                "code": "invalid_value",
            })])),
        )
            .into_response(),
    }
}

fn rate_headers(h: &mut HeaderMap, d: &Decision) {
    for (k, v) in [
        ("x-ratelimit-total", d.limit.to_string()),
        ("x-ratelimit-remaining", d.remaining.to_string()),
        (
            "x-ratelimit-used-currentrequest",
            (if d.allowed { 1 } else { 0 }).to_string(),
        ),
    ] {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
}

/// Freshservice's 429: rate headers, `Retry-After` in seconds, a JSON body.
pub(crate) fn too_many(d: &Decision) -> Response {
    let mut resp = code_error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limit_exceeded",
        &format!(
            "You have exceeded the limit of {} requests per minute; retry after {} seconds",
            d.limit, d.reset_after_secs
        ),
    );
    rate_headers(resp.headers_mut(), d);
    if let Ok(v) = HeaderValue::from_str(&d.reset_after_secs.to_string()) {
        resp.headers_mut().insert(http::header::RETRY_AFTER, v);
    }
    resp
}

/// Basic auth (API key as user, any password), then the account window and, for the list
/// agents / list requesters endpoints on small plans, their own lower window.
async fn guard(State(t): T, req: Request, next: Next) -> Response {
    let authed = basic_auth(req.headers()).is_some_and(|(user, _)| t.api_keys.contains(&user));
    if !authed {
        return code_error(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "You have to be logged in to perform this action: send Authorization: Basic base64(<api key>:X)",
        );
    }
    let account = t.account.check(&t.clock);
    if !account.allowed {
        t.counters.note_rate_limited();
        return too_many(&account);
    }
    let path = req.uri().path().trim_end_matches('/');
    let is_list =
        req.method() == Method::GET && (path == "/api/v2/agents" || path == "/api/v2/requesters");
    let mut shown = account;
    if is_list {
        if let Some(list) = &t.list_limit {
            let d = list.check(&t.clock);
            if !d.allowed {
                t.counters.note_rate_limited();
                return too_many(&d);
            }
            if d.remaining < account.remaining {
                shown = d;
            }
        }
    }
    let mut resp = next.run(req).await;
    rate_headers(resp.headers_mut(), &shown);
    resp
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    code_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        &format!("{method} is not allowed on {}", uri.path()),
    )
}

async fn unknown_route(uri: Uri) -> Response {
    code_error(
        StatusCode::NOT_FOUND,
        "not_found",
        &format!("No route matches {}", uri.path()),
    )
}

// ---------------------------------------------------------------- helpers

fn parse_id(raw: &str, what: &'static str) -> Result<u64, Response> {
    raw.parse::<u64>().map_err(|_| {
        code_error(
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("There is no {what} with the id {raw}"),
        )
    })
}

/// A JSON object body (the Content-Type must say JSON, as Freshservice requires).
fn json_object(headers: &HeaderMap, body: &Bytes) -> Result<Map<String, Value>, Response> {
    let ct = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.to_ascii_lowercase().contains("json") {
        return Err(code_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_content_type",
            &format!("Content-Type header should be application/json (got {ct:?})"),
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(api_error(ApiError::InvalidJson(format!(
            "expected a JSON object, got {}",
            match other {
                Value::Array(_) => "an array",
                Value::Null => "null",
                _ => "a scalar",
            }
        )))),
        Err(e) => Err(api_error(ApiError::InvalidJson(e.to_string()))),
    }
}

fn pages(q: &std::collections::BTreeMap<String, String>) -> Result<PageParams, Response> {
    page_params(q, "page", "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE).map_err(|e| {
        api_error(ApiError::Invalid(vec![super::model::FieldError::new(
            e.field,
            e.message,
            "invalid_value",
        )]))
    })
}

fn list_response(
    t: &Tenant,
    key: &str,
    items: Vec<Value>,
    more: bool,
    p: PageParams,
    headers: &HeaderMap,
    uri: &Uri,
) -> Response {
    let mut resp = Json(json!({ key: items })).into_response();
    if more {
        if let Ok(v) = HeaderValue::from_str(&next_link(headers, uri, t.tls, p.page + 1)) {
            resp.headers_mut().insert(http::header::LINK, v);
        }
    }
    resp
}

fn one(kind: Kind, store: &Store, id: u64) -> Response {
    match store.get(kind, id) {
        Ok(u) => Json(json!({ kind.singular(): store.render(u) })).into_response(),
        Err(e) => api_error(e),
    }
}

// ---------------------------------------------------------------- agents and requesters

async fn list_users(
    kind: Kind,
    t: Arc<Tenant>,
    headers: HeaderMap,
    uri: Uri,
    raw: Option<String>,
) -> Response {
    let q = query_map(raw.as_deref());
    let p = match pages(&q) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let mut errs = Vec::new();
    let mut lq = ListQuery {
        active: true,
        ..ListQuery::default()
    };
    if let Some(v) = q.get("active") {
        match parse_bool(v) {
            Some(b) => lq.active = b,
            None => errs.push(super::model::FieldError::new(
                "active",
                format!("It should be one of these values: 'true,false' (got {v:?})"),
                "invalid_value",
            )),
        }
    }
    if let Some(v) = q.get("email") {
        lq.email = Some(v.clone());
    }
    if let Some(v) = q.get("updated_since") {
        match parse_timestamp(v.trim()) {
            Some(ts) => lq.updated_since = Some(ts),
            None => errs.push(super::model::FieldError::new(
                "updated_since",
                format!("It should be in the 'valid date time' format (got {v:?})"),
                "invalid_value",
            )),
        }
    }
    if kind == Kind::Agent {
        if let Some(v) = q.get("state") {
            match v.as_str() {
                "fulltime" => lq.occasional = Some(false),
                "occasional" => lq.occasional = Some(true),
                other => errs.push(super::model::FieldError::new(
                    "state",
                    format!(
                        "It should be one of these values: 'fulltime,occasional' (got {other:?})"
                    ),
                    "invalid_value",
                )),
            }
        }
    }
    if kind == Kind::Requester {
        if let Some(v) = q.get("include_agents") {
            match parse_bool(v) {
                Some(b) => lq.include_agents = b,
                None => errs.push(super::model::FieldError::new(
                    "include_agents",
                    format!("It should be one of these values: 'true,false' (got {v:?})"),
                    "invalid_value",
                )),
            }
        }
    }
    if !errs.is_empty() {
        return api_error(ApiError::Invalid(errs));
    }
    let store = t.store.read();
    let (users, more) = store.list(kind, &lq, p.offset(), p.per_page as usize);
    let items: Vec<Value> = users
        .into_iter()
        .map(|u| match kind {
            Kind::Agent => store.render_agent(u),
            Kind::Requester => store.render_requester(u),
        })
        .collect();
    list_response(&t, kind.collection(), items, more, p, &headers, &uri)
}

async fn list_agents(
    State(t): T,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    list_users(Kind::Agent, t, headers, uri, raw).await
}

async fn list_requesters(
    State(t): T,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    list_users(Kind::Requester, t, headers, uri, raw).await
}

fn create_user(kind: Kind, t: &Tenant, headers: &HeaderMap, body: &Bytes) -> Response {
    let obj = match json_object(headers, body) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let mut store = t.store.write();
    match store.create(kind, &obj, t.clock.now()) {
        Ok(id) => {
            let mut resp = one(kind, &store, id);
            *resp.status_mut() = StatusCode::CREATED;
            resp
        }
        Err(e) => api_error(e),
    }
}

async fn create_agent(State(t): T, headers: HeaderMap, body: Bytes) -> Response {
    create_user(Kind::Agent, &t, &headers, &body)
}

async fn create_requester(State(t): T, headers: HeaderMap, body: Bytes) -> Response {
    create_user(Kind::Requester, &t, &headers, &body)
}

fn get_user(kind: Kind, t: &Tenant, raw: &str) -> Response {
    match parse_id(raw, kind.singular()) {
        Ok(id) => one(kind, &t.store.read(), id),
        Err(r) => r,
    }
}

async fn get_agent(State(t): T, Path(id): Path<String>) -> Response {
    get_user(Kind::Agent, &t, &id)
}

async fn get_requester(State(t): T, Path(id): Path<String>) -> Response {
    get_user(Kind::Requester, &t, &id)
}

fn update_user(kind: Kind, t: &Tenant, raw: &str, headers: &HeaderMap, body: &Bytes) -> Response {
    let id = match parse_id(raw, kind.singular()) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let obj = match json_object(headers, body) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let mut store = t.store.write();
    match store.update(kind, id, &obj, t.clock.now(), false) {
        Ok(()) => one(kind, &store, id),
        Err(e) => api_error(e),
    }
}

async fn update_agent(
    State(t): T,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    update_user(Kind::Agent, &t, &id, &headers, &body)
}

async fn update_requester(
    State(t): T,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    update_user(Kind::Requester, &t, &id, &headers, &body)
}

/// The shared shape of DELETE, reactivate, convert and forget: an id, a store operation, and
/// either 204 or the record rendered as `as_kind`.
fn act(
    kind: Kind,
    t: &Tenant,
    raw: &str,
    op: impl FnOnce(&mut Store, u64) -> Result<(), ApiError>,
    render_as: Option<Kind>,
) -> Response {
    let id = match parse_id(raw, kind.singular()) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let mut store = t.store.write();
    match op(&mut store, id) {
        Ok(()) => match render_as {
            Some(k) => one(k, &store, id),
            None => StatusCode::NO_CONTENT.into_response(),
        },
        Err(e) => api_error(e),
    }
}

async fn delete_agent(State(t): T, Path(id): Path<String>) -> Response {
    let now = t.clock.now();
    act(
        Kind::Agent,
        &t,
        &id,
        |s, id| s.deactivate(Kind::Agent, id, now),
        None,
    )
}

async fn delete_requester(State(t): T, Path(id): Path<String>) -> Response {
    let now = t.clock.now();
    act(
        Kind::Requester,
        &t,
        &id,
        |s, id| s.deactivate(Kind::Requester, id, now),
        None,
    )
}

async fn forget_agent(State(t): T, Path(id): Path<String>) -> Response {
    let now = t.clock.now();
    act(
        Kind::Agent,
        &t,
        &id,
        |s, id| s.purge(Kind::Agent, id, now),
        None,
    )
}

async fn forget_requester(State(t): T, Path(id): Path<String>) -> Response {
    let now = t.clock.now();
    act(
        Kind::Requester,
        &t,
        &id,
        |s, id| s.purge(Kind::Requester, id, now),
        None,
    )
}

async fn reactivate_agent(State(t): T, Path(id): Path<String>) -> Response {
    let now = t.clock.now();
    act(
        Kind::Agent,
        &t,
        &id,
        |s, id| s.reactivate(Kind::Agent, id, now),
        Some(Kind::Agent),
    )
}

async fn reactivate_requester(State(t): T, Path(id): Path<String>) -> Response {
    let now = t.clock.now();
    act(
        Kind::Requester,
        &t,
        &id,
        |s, id| s.reactivate(Kind::Requester, id, now),
        Some(Kind::Requester),
    )
}

async fn convert_to_agent(State(t): T, Path(id): Path<String>) -> Response {
    let now = t.clock.now();
    act(
        Kind::Requester,
        &t,
        &id,
        |s, id| s.convert_to_agent(id, now),
        Some(Kind::Agent),
    )
}

async fn convert_to_requester(State(t): T, Path(id): Path<String>) -> Response {
    let now = t.clock.now();
    act(
        Kind::Agent,
        &t,
        &id,
        |s, id| s.convert_to_requester(id, now),
        Some(Kind::Requester),
    )
}

// ---------------------------------------------------------------- roles, groups, departments

fn simple_list(
    t: &Tenant,
    key: &str,
    items: Vec<Value>,
    headers: &HeaderMap,
    uri: &Uri,
    raw: Option<&str>,
) -> Response {
    let q = query_map(raw);
    let p = match pages(&q) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (page, more) = paginate(&items, p);
    list_response(t, key, page, more, p, headers, uri)
}

async fn list_roles(
    State(t): T,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let items: Vec<Value> = {
        let s = t.store.read();
        s.roles.values().map(|r| s.render_role(r)).collect()
    };
    simple_list(&t, "roles", items, &headers, &uri, raw.as_deref())
}

async fn get_role(State(t): T, Path(raw): Path<String>) -> Response {
    let id = match parse_id(&raw, "role") {
        Ok(id) => id,
        Err(r) => return r,
    };
    let s = t.store.read();
    match s.roles.get(&id) {
        Some(r) => Json(json!({"role": s.render_role(r)})).into_response(),
        None => api_error(ApiError::NotFound { what: "role", id }),
    }
}

async fn list_groups(
    State(t): T,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let items: Vec<Value> = {
        let s = t.store.read();
        s.groups.values().map(|g| s.render_group(g)).collect()
    };
    simple_list(&t, "groups", items, &headers, &uri, raw.as_deref())
}

fn one_group(s: &Store, id: u64) -> Response {
    match s.groups.get(&id) {
        Some(g) => Json(json!({"group": s.render_group(g)})).into_response(),
        None => api_error(ApiError::NotFound { what: "group", id }),
    }
}

async fn get_group(State(t): T, Path(raw): Path<String>) -> Response {
    match parse_id(&raw, "group") {
        Ok(id) => one_group(&t.store.read(), id),
        Err(r) => r,
    }
}

async fn create_group(State(t): T, headers: HeaderMap, body: Bytes) -> Response {
    let obj = match json_object(&headers, &body) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let mut s = t.store.write();
    match s.create_group(&obj, t.clock.now()) {
        Ok(id) => {
            let mut resp = one_group(&s, id);
            *resp.status_mut() = StatusCode::CREATED;
            resp
        }
        Err(e) => api_error(e),
    }
}

async fn update_group(
    State(t): T,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let id = match parse_id(&raw, "group") {
        Ok(id) => id,
        Err(r) => return r,
    };
    let obj = match json_object(&headers, &body) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let mut s = t.store.write();
    match s.update_group(id, &obj, t.clock.now()) {
        Ok(()) => one_group(&s, id),
        Err(e) => api_error(e),
    }
}

async fn delete_group(State(t): T, Path(raw): Path<String>) -> Response {
    let id = match parse_id(&raw, "group") {
        Ok(id) => id,
        Err(r) => return r,
    };
    match t.store.write().delete_group(id, t.clock.now()) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => api_error(e),
    }
}

async fn list_departments(
    State(t): T,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let items: Vec<Value> = {
        let s = t.store.read();
        s.departments
            .values()
            .map(|d| s.render_department(d))
            .collect()
    };
    simple_list(&t, "departments", items, &headers, &uri, raw.as_deref())
}

async fn get_department(State(t): T, Path(raw): Path<String>) -> Response {
    let id = match parse_id(&raw, "department") {
        Ok(id) => id,
        Err(r) => return r,
    };
    let s = t.store.read();
    match s.departments.get(&id) {
        Some(d) => Json(json!({"department": s.render_department(d)})).into_response(),
        None => api_error(ApiError::NotFound {
            what: "department",
            id,
        }),
    }
}

// ---------------------------------------------------------------- control

async fn sim_state(State(t): T) -> Response {
    let s = t.store.read();
    Json(json!({
        "agents": s.all(Some(Kind::Agent)).map(|u| s.render_agent(u)).collect::<Vec<_>>(),
        "requesters": s.all(Some(Kind::Requester)).map(|u| s.render_requester(u)).collect::<Vec<_>>(),
        "roles": s.roles.values().map(|r| s.render_role(r)).collect::<Vec<_>>(),
        "groups": s.groups.values().map(|g| s.render_group(g)).collect::<Vec<_>>(),
        "departments": s.departments.values().map(|d| s.render_department(d)).collect::<Vec<_>>(),
        "seats": {"limit": s.seat_limit, "used": s.seats_used()},
        "sso": s.sso,
        "plan": s.plan,
        "now": rfc3339(t.clock.now()),
    }))
    .into_response()
}

/// The webhook events an automator rule with an HTTP action would have sent.
async fn sim_webhooks(State(t): T) -> Response {
    let s = t.store.read();
    Json(json!({"events": s.events})).into_response()
}

fn control_target(collection: &str, raw: &str) -> Result<(Kind, u64), Response> {
    let kind = Kind::from_collection(collection).ok_or_else(|| {
        control_error(
            StatusCode::NOT_FOUND,
            &format!("unknown collection `{collection}` (expected agents or requesters)"),
        )
    })?;
    let id = raw.parse::<u64>().map_err(|_| {
        control_error(
            StatusCode::NOT_FOUND,
            &format!("`{raw}` is not a {} id", kind.singular()),
        )
    })?;
    Ok((kind, id))
}

/// Timestamps only the control PATCH may set (logins happen outside the API).
fn take_time(
    obj: &mut Map<String, Value>,
    key: &str,
) -> Result<Option<Option<time::OffsetDateTime>>, Response> {
    match obj.remove(key) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => parse_timestamp(&s).map(|t| Some(Some(t))).ok_or_else(|| {
            control_error(
                StatusCode::BAD_REQUEST,
                &format!("{key}: `{s}` is not a timestamp"),
            )
        }),
        Some(_) => Err(control_error(
            StatusCode::BAD_REQUEST,
            &format!("{key} must be an RFC 3339 string or null"),
        )),
    }
}

async fn sim_patch(
    State(t): T,
    Path((collection, raw)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let (kind, id) = match control_target(&collection, &raw) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut obj = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(m)) => m,
        Ok(_) => {
            return control_error(
                StatusCode::BAD_REQUEST,
                "body must be a JSON object of vendor fields",
            )
        }
        Err(e) => return control_error(StatusCode::BAD_REQUEST, &format!("body is not JSON: {e}")),
    };
    let login = match take_time(&mut obj, "last_login_at") {
        Ok(x) => x,
        Err(r) => return r,
    };
    let seen = match take_time(&mut obj, "last_active_at") {
        Ok(x) => x,
        Err(r) => return r,
    };
    let now = t.clock.now();
    let mut s = t.store.write();
    if let Err(e) = s.update(kind, id, &obj, now, true) {
        let status = match e {
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Duplicate(_) => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        };
        return control_error(status, &format!("{} {id}: {e}", kind.singular()));
    }
    if let Some(u) = s.users.get(&id).cloned() {
        let mut u = u;
        if let Some(l) = login {
            u.last_login_at = l;
        }
        if let Some(a) = seen {
            u.last_active_at = a;
        }
        s.insert(u);
    }
    one(kind, &s, id)
}

fn sim_op(
    t: &Tenant,
    collection: &str,
    raw: &str,
    op: impl FnOnce(&mut Store, Kind, u64) -> Result<(), ApiError>,
) -> Response {
    let (kind, id) = match control_target(collection, raw) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut s = t.store.write();
    match op(&mut s, kind, id) {
        Ok(()) => match s.get(kind, id) {
            Ok(u) => Json(json!({ kind.singular(): s.render(u) })).into_response(),
            Err(_) => StatusCode::NO_CONTENT.into_response(),
        },
        Err(e @ ApiError::NotFound { .. }) => control_error(StatusCode::NOT_FOUND, &e.to_string()),
        Err(e) => control_error(
            StatusCode::CONFLICT,
            &format!("{} {id}: {e}", kind.singular()),
        ),
    }
}

async fn sim_deactivate(State(t): T, Path((c, id)): Path<(String, String)>) -> Response {
    let now = t.clock.now();
    sim_op(&t, &c, &id, |s, k, id| s.deactivate(k, id, now))
}

async fn sim_reactivate(State(t): T, Path((c, id)): Path<(String, String)>) -> Response {
    let now = t.clock.now();
    sim_op(&t, &c, &id, |s, k, id| s.reactivate(k, id, now))
}

async fn sim_purge(State(t): T, Path((c, id)): Path<(String, String)>) -> Response {
    let now = t.clock.now();
    sim_op(&t, &c, &id, |s, k, id| s.purge(k, id, now))
}
