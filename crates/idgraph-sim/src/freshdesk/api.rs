//! The Freshdesk REST handlers under `/api/v2`: agents, contacts (with `make_agent` and
//! `restore`), roles and groups, with the vendor's pagination (`page`/`per_page`, a
//! `Link: <…>; rel="next"` header, no total count, a deep-page cap) and error bodies.

use super::fields::{agent_fields, contact_fields, parse_object};
use super::store::{self, AgentState, ApiError, FieldError, Store, User};
use super::Tenant;
use crate::clock::parse_timestamp;
use crate::common::{next_link, page_params, parse_bool, query_map, PageParams};
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, Uri};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

type Shared = State<Arc<Tenant>>;

/// Renders an [`ApiError`] in Freshdesk's shapes.
pub fn error_response(e: ApiError) -> Response {
    let validation = |errs: Vec<FieldError>| {
        let errors: Vec<Value> = errs
            .into_iter()
            .map(|e| {
                let mut v = json!({"field": e.field, "message": e.message, "code": e.code});
                if let Some(info) = e.additional_info {
                    v["additional_info"] = info;
                }
                v
            })
            .collect();
        json!({"description": "Validation failed", "errors": errors})
    };
    match e {
        ApiError::NotFound { what, id } => (
            StatusCode::NOT_FOUND,
            Json(json!({
                "code": "not_found",
                "message": format!("There is no {what} with id {id} in this account"),
            })),
        )
            .into_response(),
        ApiError::Validation(errs) => {
            (StatusCode::BAD_REQUEST, Json(validation(errs))).into_response()
        }
        ApiError::Conflict(errs) => (StatusCode::CONFLICT, Json(validation(errs))).into_response(),
        ApiError::MethodNotAllowed(m) => (
            StatusCode::METHOD_NOT_ALLOWED,
            Json(json!({"code": "method_not_allowed", "message": m})),
        )
            .into_response(),
        ApiError::InvalidJson(m) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"code": "invalid_json", "message": m})),
        )
            .into_response(),
        ApiError::UnsupportedContentType(ct) => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Json(json!({
                "code": "invalid_content_type",
                "message": format!("Content-Type header is set to {ct}. It should be set to application/json"),
            })),
        )
            .into_response(),
    }
}

fn not_found(what: &'static str, id: &str) -> Response {
    error_response(ApiError::NotFound {
        what,
        id: id.to_string(),
    })
}

/// Reads a JSON object body after checking `Content-Type: application/json` (415 otherwise).
fn read_body(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<serde_json::Map<String, Value>, ApiError> {
    if !body.iter().all(u8::is_ascii_whitespace) {
        let ct = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !ct.to_ascii_lowercase().starts_with("application/json") {
            return Err(ApiError::UnsupportedContentType(ct.to_string()));
        }
    }
    parse_object(body)
}

fn parse_id(raw: &str) -> Option<u64> {
    raw.parse::<u64>().ok()
}

/// Checks the query keys and the page parameters of a list request.
fn list_params(
    t: &Tenant,
    q: &BTreeMap<String, String>,
    allowed: &[&str],
) -> Result<PageParams, ApiError> {
    let errors: Vec<FieldError> = q
        .keys()
        .filter(|k| !allowed.contains(&k.as_str()) && *k != "page" && *k != "per_page")
        .map(|k| FieldError::new(k, "Unexpected/invalid field in request", "invalid_field"))
        .collect();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let p = page_params(q, "page", "per_page", 30, 100)
        .map_err(|e| ApiError::field(e.field, e.message, "invalid_value"))?;
    let max_page = t.store.read().max_page;
    if p.page > max_page {
        return Err(ApiError::field(
            "page",
            format!(
                "Value must be less than or equal to {max_page}. Deep pagination is not supported: narrow the request with the _updated_since filter instead"
            ),
            "invalid_value",
        ));
    }
    Ok(p)
}

/// One page out of a filtered scan: skips `offset`, takes `per_page` and peeks one more to
/// know whether a next page exists (no total is computed, none is sent).
fn page_of<'a>(
    iter: impl Iterator<Item = &'a User>,
    p: PageParams,
    render: impl Fn(&User) -> Value,
) -> (Vec<Value>, bool) {
    let mut it = iter.skip(p.offset());
    let items: Vec<Value> = it.by_ref().take(p.per_page as usize).map(render).collect();
    let more = it.next().is_some();
    (items, more)
}

fn list_response(
    t: &Tenant,
    headers: &HeaderMap,
    uri: &Uri,
    p: PageParams,
    items: Vec<Value>,
    more: bool,
) -> Response {
    let mut resp = Json(Value::Array(items)).into_response();
    if more {
        if let Ok(v) = HeaderValue::from_str(&next_link(headers, uri, t.env.tls, p.page + 1)) {
            resp.headers_mut().insert(http::header::LINK, v);
        }
    }
    resp
}

fn matches_opt(field: &Option<String>, want: Option<&String>) -> bool {
    match want {
        None => true,
        Some(w) => field.as_deref().is_some_and(|f| f.eq_ignore_ascii_case(w)),
    }
}

fn bool_param(q: &BTreeMap<String, String>, key: &str) -> Result<Option<bool>, ApiError> {
    match q.get(key) {
        None => Ok(None),
        Some(v) => parse_bool(v).map(Some).ok_or_else(|| {
            ApiError::field(
                key,
                "It should be one of these values: 'true,false'",
                "invalid_value",
            )
        }),
    }
}

/// `GET /api/v2/agents`: active agents by default; `active=false` gives the deactivated and the
/// unconfirmed ones. Filters `email`, `mobile`, `phone`, `state` (`fulltime`/`occasional`).
pub async fn list_agents(
    State(t): Shared,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query_map(raw.as_deref());
    let p = match list_params(&t, &q, &["email", "mobile", "phone", "state", "active"]) {
        Ok(p) => p,
        Err(e) => return error_response(e),
    };
    let active = match bool_param(&q, "active") {
        Ok(a) => a.unwrap_or(true),
        Err(e) => return error_response(e),
    };
    let occasional = match q.get("state").map(String::as_str) {
        None => None,
        Some("fulltime") => Some(false),
        Some("occasional") => Some(true),
        Some(_) => {
            return error_response(ApiError::field(
                "state",
                "It should be one of these values: 'fulltime,occasional'",
                "invalid_value",
            ))
        }
    };
    let store = t.store.read();
    let keep = |u: &&User| {
        let Some(a) = &u.agent else { return false };
        (u.agent_state() == Some(AgentState::Active)) == active
            && occasional.is_none_or(|o| a.occasional == o)
            && matches_opt(&u.mobile, q.get("mobile"))
            && matches_opt(&u.phone, q.get("phone"))
    };
    let render = |u: &User| store.render_agent(u);
    let (items, more) = match q.get("email") {
        Some(e) => page_of(store.user_by_email(e).into_iter().filter(keep), p, render),
        None => page_of(store.users.values().filter(keep), p, render),
    };
    drop(store);
    list_response(&t, &headers, &uri, p, items, more)
}

/// The agent the API key belongs to (`GET /api/v2/agents/me`): the first active account
/// administrator, else the first active agent.
fn me(store: &Store) -> Option<&User> {
    let admin = store
        .roles
        .iter()
        .find(|r| r.name == "Account Administrator")
        .map(|r| r.id);
    let active = || {
        store
            .users
            .values()
            .filter(|u| u.agent_state() == Some(AgentState::Active))
    };
    active()
        .find(|u| {
            admin.is_some_and(|id| u.agent.as_ref().is_some_and(|a| a.role_ids.contains(&id)))
        })
        .or_else(|| active().next())
}

pub async fn get_agent(State(t): Shared, Path(raw): Path<String>) -> Response {
    let store = t.store.read();
    let user = if raw == "me" {
        me(&store)
    } else {
        parse_id(&raw).and_then(|id| store.users.get(&id))
    };
    match user.filter(|u| u.agent.is_some()) {
        Some(u) => Json(store.render_agent(u)).into_response(),
        None => not_found("agent", &raw),
    }
}

pub async fn create_agent(State(t): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let obj = match read_body(&headers, &body) {
        Ok(o) => o,
        Err(e) => return error_response(e),
    };
    let f = match agent_fields(&obj, false) {
        Ok(f) => f,
        Err(e) => return error_response(e),
    };
    let now = t.env.clock.now();
    let mut store = t.store.write();
    match store.create_agent(f, now) {
        Ok(id) => {
            let v = store.users.get(&id).map(|u| store.render_agent(u));
            (StatusCode::CREATED, Json(v.unwrap_or(Value::Null))).into_response()
        }
        Err(e) => error_response(e),
    }
}

pub async fn update_agent(
    State(t): Shared,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(id) = parse_id(&raw) else {
        return not_found("agent", &raw);
    };
    let obj = match read_body(&headers, &body) {
        Ok(o) => o,
        Err(e) => return error_response(e),
    };
    let f = match agent_fields(&obj, false) {
        Ok(f) => f,
        Err(e) => return error_response(e),
    };
    let now = t.env.clock.now();
    let mut store = t.store.write();
    match store.update_agent(id, f, now) {
        Ok(()) => {
            let v = store.users.get(&id).map(|u| store.render_agent(u));
            Json(v.unwrap_or(Value::Null)).into_response()
        }
        Err(e) => error_response(e),
    }
}

pub async fn delete_agent(State(t): Shared, Path(raw): Path<String>) -> Response {
    let Some(id) = parse_id(&raw) else {
        return not_found("agent", &raw);
    };
    let now = t.env.clock.now();
    match t.store.write().deactivate_agent(id, now) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error_response(e),
    }
}

/// `GET /api/v2/contacts`: filters `email`, `mobile`, `phone`, `company_id`,
/// `_updated_since` / `updated_since` (inclusive), `state`
/// (`verified`/`unverified`/`deleted`/`blocked`), `deleted=true`.
pub async fn list_contacts(
    State(t): Shared,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query_map(raw.as_deref());
    let p = match list_params(
        &t,
        &q,
        &[
            "email",
            "mobile",
            "phone",
            "company_id",
            "_updated_since",
            "updated_since",
            "state",
            "deleted",
        ],
    ) {
        Ok(p) => p,
        Err(e) => return error_response(e),
    };
    let deleted_flag = match bool_param(&q, "deleted") {
        Ok(d) => d.unwrap_or(false),
        Err(e) => return error_response(e),
    };
    let state = q.get("state").map(String::as_str);
    if let Some(s) = state {
        if !["verified", "unverified", "deleted", "blocked"].contains(&s) {
            return error_response(ApiError::field(
                "state",
                "It should be one of these values: 'blocked,deleted,unverified,verified'",
                "invalid_value",
            ));
        }
    }
    let want_deleted = deleted_flag || state == Some("deleted");
    let since_raw = q.get("_updated_since").or_else(|| q.get("updated_since"));
    let since = match since_raw {
        None => None,
        Some(s) => match parse_timestamp(s) {
            Some(t) => Some(t),
            None => {
                let key = if q.contains_key("_updated_since") {
                    "_updated_since"
                } else {
                    "updated_since"
                };
                return error_response(ApiError::field(
                    key,
                    "It should be in the 'YYYY-MM-DDTHH:MM:SSZ' (UTC ISO 8601) format",
                    "invalid_value",
                ));
            }
        },
    };
    let company = match q.get("company_id") {
        None => None,
        Some(c) => match c.parse::<u64>() {
            Ok(c) => Some(c),
            Err(_) => {
                return error_response(ApiError::field(
                    "company_id",
                    "It should be a/an Positive Integer",
                    "datatype_mismatch",
                ))
            }
        },
    };
    let store = t.store.read();
    let keep = |u: &&User| {
        u.is_contact()
            && u.deleted == want_deleted
            && state != Some("blocked")
            && match state {
                Some("verified") => u.verified,
                Some("unverified") => !u.verified,
                _ => true,
            }
            && since.is_none_or(|s| u.updated_at >= s)
            && company.is_none_or(|c| u.company_id == Some(c))
            && matches_opt(&u.mobile, q.get("mobile"))
            && matches_opt(&u.phone, q.get("phone"))
    };
    let render = |u: &User| store.render_contact(u);
    let (items, more) = match q.get("email") {
        Some(e) => page_of(store.user_by_email(e).into_iter().filter(keep), p, render),
        None => page_of(store.users.values().filter(keep), p, render),
    };
    drop(store);
    list_response(&t, &headers, &uri, p, items, more)
}

pub async fn get_contact(State(t): Shared, Path(raw): Path<String>) -> Response {
    let store = t.store.read();
    match parse_id(&raw)
        .and_then(|id| store.users.get(&id))
        .filter(|u| u.is_contact())
    {
        Some(u) => Json(store.render_contact(u)).into_response(),
        None => not_found("contact", &raw),
    }
}

pub async fn create_contact(State(t): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let obj = match read_body(&headers, &body) {
        Ok(o) => o,
        Err(e) => return error_response(e),
    };
    let f = match contact_fields(&obj) {
        Ok(f) => f,
        Err(e) => return error_response(e),
    };
    let now = t.env.clock.now();
    let mut store = t.store.write();
    match store.create_contact(f, now) {
        Ok(id) => {
            let v = store.users.get(&id).map(|u| store.render_contact(u));
            (StatusCode::CREATED, Json(v.unwrap_or(Value::Null))).into_response()
        }
        Err(e) => error_response(e),
    }
}

pub async fn update_contact(
    State(t): Shared,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(id) = parse_id(&raw) else {
        return not_found("contact", &raw);
    };
    let obj = match read_body(&headers, &body) {
        Ok(o) => o,
        Err(e) => return error_response(e),
    };
    let f = match contact_fields(&obj) {
        Ok(f) => f,
        Err(e) => return error_response(e),
    };
    let now = t.env.clock.now();
    let mut store = t.store.write();
    match store.update_contact(id, f, now) {
        Ok(()) => {
            let v = store.users.get(&id).map(|u| store.render_contact(u));
            Json(v.unwrap_or(Value::Null)).into_response()
        }
        Err(e) => error_response(e),
    }
}

pub async fn delete_contact(State(t): Shared, Path(raw): Path<String>) -> Response {
    let Some(id) = parse_id(&raw) else {
        return not_found("contact", &raw);
    };
    let now = t.env.clock.now();
    match t.store.write().delete_contact(id, now) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error_response(e),
    }
}

pub async fn restore_contact(State(t): Shared, Path(raw): Path<String>) -> Response {
    let Some(id) = parse_id(&raw) else {
        return not_found("contact", &raw);
    };
    let now = t.env.clock.now();
    match t.store.write().restore_contact(id, now) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error_response(e),
    }
}

/// `PUT /api/v2/contacts/{id}/make_agent`.
pub async fn make_agent(
    State(t): Shared,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(id) = parse_id(&raw) else {
        return not_found("contact", &raw);
    };
    let obj = match read_body(&headers, &body) {
        Ok(o) => o,
        Err(e) => return error_response(e),
    };
    let f = match agent_fields(&obj, true) {
        Ok(f) => f,
        Err(e) => return error_response(e),
    };
    let now = t.env.clock.now();
    let mut store = t.store.write();
    match store.make_agent(id, f, now) {
        Ok(()) => {
            let v = store.users.get(&id).map(|u| store.render_agent(u));
            Json(v.unwrap_or(Value::Null)).into_response()
        }
        Err(e) => error_response(e),
    }
}

fn slice_page(
    all: Vec<Value>,
    q: &BTreeMap<String, String>,
    t: &Tenant,
    headers: &HeaderMap,
    uri: &Uri,
) -> Response {
    let p = match list_params(t, q, &[]) {
        Ok(p) => p,
        Err(e) => return error_response(e),
    };
    let (items, more) = crate::common::paginate(&all, p);
    list_response(t, headers, uri, p, items, more)
}

pub async fn list_roles(
    State(t): Shared,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query_map(raw.as_deref());
    let all: Vec<Value> = {
        let store = t.store.read();
        store.roles.iter().map(|r| store.render_role(r)).collect()
    };
    slice_page(all, &q, &t, &headers, &uri)
}

pub async fn get_role(State(t): Shared, Path(raw): Path<String>) -> Response {
    let store = t.store.read();
    match parse_id(&raw).and_then(|id| store.roles.iter().find(|r| r.id == id)) {
        Some(r) => Json(store.render_role(r)).into_response(),
        None => not_found("role", &raw),
    }
}

pub async fn list_groups(
    State(t): Shared,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query_map(raw.as_deref());
    let all: Vec<Value> = {
        let store = t.store.read();
        let members = store.group_members();
        store
            .groups
            .iter()
            .map(|g| store.render_group(g, &members))
            .collect()
    };
    slice_page(all, &q, &t, &headers, &uri)
}

pub async fn get_group(State(t): Shared, Path(raw): Path<String>) -> Response {
    let store = t.store.read();
    match parse_id(&raw).and_then(|id| store.groups.iter().find(|g| g.id == id)) {
        Some(g) => Json(store.render_group(g, &store.group_members())).into_response(),
        None => not_found("group", &raw),
    }
}

pub async fn list_companies(
    State(t): Shared,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query_map(raw.as_deref());
    let all: Vec<Value> = {
        let store = t.store.read();
        let mut v: Vec<(u64, &String)> = store.companies.iter().map(|(d, id)| (*id, d)).collect();
        v.sort();
        v.into_iter()
            .map(|(id, d)| store.render_company(d, id))
            .collect()
    };
    slice_page(all, &q, &t, &headers, &uri)
}

pub async fn get_company(State(t): Shared, Path(raw): Path<String>) -> Response {
    let store = t.store.read();
    let found = parse_id(&raw).and_then(|id| store.companies.iter().find(|(_, cid)| **cid == id));
    match found {
        Some((d, id)) => Json(store.render_company(d, *id)).into_response(),
        None => not_found("company", &raw),
    }
}

/// `GET /api/v2/account`: the account and its licence usage (`total_agents`). Freshdesk does
/// not publish the seat limit itself; the simulator shows it under `/_sim/state`.
pub async fn get_account(State(t): Shared) -> Response {
    let store = t.store.read();
    let tier = match t.env.options.plan {
        crate::common::PlanTier::Starter => "Sprout",
        crate::common::PlanTier::Growth => "Garden",
        crate::common::PlanTier::Pro => "Estate",
        crate::common::PlanTier::Enterprise => "Forest",
    };
    let name = t.domain.split('.').next().unwrap_or_default();
    Json(json!({
        "account_id": 1_000_000 + t.env.seed % 1_000_000,
        "account_name": name,
        "account_domain": t.domain,
        "tier_type": tier,
        "timezone": store::DEFAULT_TIME_ZONE,
        "data_center": "US",
        "total_agents": store.agent_totals(),
        "created_at": crate::clock::rfc3339(store.seeded_at),
    }))
    .into_response()
}

/// Unknown `/api/…` paths: Freshdesk's JSON 404.
pub async fn api_not_found(uri: Uri) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"code": "not_found", "message": format!("No such API path: {}", uri.path())})),
    )
        .into_response()
}

/// A known path with the wrong verb: Freshdesk's JSON 405.
pub async fn api_method_not_allowed(method: http::Method, uri: Uri) -> Response {
    error_response(ApiError::MethodNotAllowed(format!(
        "{method} method is not allowed on {}",
        uri.path()
    )))
}
