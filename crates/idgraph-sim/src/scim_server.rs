//! One SCIM 2.0 (RFC 7643/7644) server shared by every simulated app that offers SCIM
//! (Freshservice, Freshdesk, Freshsales, Help Scout).
//!
//! The generic part (this module) does the protocol: ListResponse with `startIndex`/`count`,
//! filters, PATCH, error bodies, bearer-token check and plan/SSO gating. Each app supplies a
//! [`ScimBackend`] over its own records, so a SCIM change shows in the app's REST API and back.

use serde_json::Value;

/// A SCIM error: rendered as an RFC 7644 §3.12 error body with this status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScimError {
    pub status: u16,
    /// RFC 7644 `scimType` (`uniqueness`, `invalidFilter`, `invalidValue`, `mutability`, …).
    pub scim_type: Option<String>,
    pub detail: String,
}

impl ScimError {
    pub fn new(status: u16, scim_type: Option<&str>, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type: scim_type.map(str::to_string),
            detail: detail.into(),
        }
    }

    pub fn not_found(id: &str) -> Self {
        Self::new(404, None, format!("Resource {id} not found"))
    }
}

/// An app's user and group store as SCIM sees it. Resources are SCIM JSON objects
/// (`schemas`, `id`, `userName`, `name`, `emails`, `active`, `externalId`, `groups`, `meta`…).
/// PATCH is applied by the generic server as get → apply → replace.
pub trait ScimBackend: Send + Sync + 'static {
    /// `Ok` when SCIM is offered to this tenant (plan and SSO); otherwise the vendor's refusal.
    fn availability(&self) -> Result<(), ScimError>;
    /// Whether `token` is this tenant's SCIM bearer token (separate from the REST key).
    fn check_token(&self, token: &str) -> bool;

    fn list_users(&self) -> Vec<Value>;
    /// Users `skip..skip + take` of [`ScimBackend::list_users`] and how many there are in
    /// all: an unfiltered page renders only its own users. The default renders every user;
    /// backends override it so that paging 10,000 users is not quadratic.
    fn users_page(&self, skip: usize, take: usize) -> (Vec<Value>, usize) {
        let all = self.list_users();
        let total = all.len();
        (all.into_iter().skip(skip).take(take).collect(), total)
    }
    /// Calls `f` with each user of [`ScimBackend::list_users`], in order, one at a time, so that
    /// a filtered listing need not hold every rendered user at once. The default renders them
    /// all first; backends with many users override it.
    fn each_user(&self, f: &mut dyn FnMut(Value)) {
        for v in self.list_users() {
            f(v);
        }
    }
    fn get_user(&self, id: &str) -> Option<Value>;
    fn create_user(&self, resource: Value) -> Result<Value, ScimError>;
    fn replace_user(&self, id: &str, resource: Value) -> Result<Value, ScimError>;
    /// DELETE /Users/{id}: the apps deactivate rather than delete.
    fn delete_user(&self, id: &str) -> Result<(), ScimError>;

    fn list_groups(&self) -> Vec<Value>;
    fn get_group(&self, id: &str) -> Option<Value>;
    fn create_group(&self, resource: Value) -> Result<Value, ScimError>;
    fn replace_group(&self, id: &str, resource: Value) -> Result<Value, ScimError>;
    fn delete_group(&self, id: &str) -> Result<(), ScimError>;
}

// ---------------------------------------------------------------------------------------------
// The generic router.
// ---------------------------------------------------------------------------------------------

use crate::common::{bearer_token, origin, query_map};
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, OriginalUri, Path, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::request::Parts;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use idgraph_scim::filter::get_ci;
use idgraph_scim::{AttrPath, Filter, ListResponse, PatchOp};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;

/// Page size of a list without `count`, and the most one page holds: a larger `count` is
/// served as 100 (RFC 7644 §3.4.2.4 lets the server return fewer than asked).
pub const MAX_COUNT: usize = 100;

impl ScimError {
    /// The RFC 7644 §3.12 error body.
    pub fn body(&self) -> Value {
        let mut body = serde_json::json!({
            "schemas": [idgraph_scim::ERROR_SCHEMA],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let Some(t) = &self.scim_type {
            body["scimType"] = Value::String(t.clone());
        }
        body
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = scim_response(status, &self.body());
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"SCIM\""),
            );
        }
        resp
    }
}

/// A JSON body with `Content-Type: application/scim+json`.
fn scim_response(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut resp = (status, Body::from(bytes)).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(idgraph_scim::MEDIA_TYPE),
    );
    resp
}

#[derive(Clone)]
struct ServerState {
    backend: Arc<dyn ScimBackend>,
    tls: bool,
}

/// The generic SCIM 2.0 router over `backend`, to be nested at the app's SCIM base path
/// (`/scim/v2`). Absolute URLs (`meta.location`, `Location`) use plain `http` unless the request
/// says `X-Forwarded-Proto: https`; see [`router_with_tls`].
pub fn router(backend: Arc<dyn ScimBackend>) -> Router {
    router_with_tls(backend, false)
}

/// [`router`] for an app served over HTTPS (`tls`), so absolute URLs say `https`.
pub fn router_with_tls(backend: Arc<dyn ScimBackend>, tls: bool) -> Router {
    let state = ServerState { backend, tls };
    Router::new()
        .route("/Users", get(list_users).post(create_user))
        .route(
            "/Users/{id}",
            get(get_user)
                .put(replace_user)
                .patch(patch_user)
                .delete(delete_user),
        )
        .route("/Groups", get(list_groups).post(create_group))
        .route(
            "/Groups/{id}",
            get(get_group)
                .put(replace_group)
                .patch(patch_group)
                .delete(delete_group),
        )
        .route("/ServiceProviderConfig", get(service_provider_config))
        .route("/ResourceTypes", get(resource_types))
        .route("/ResourceTypes/{id}", get(resource_type))
        .route("/Schemas", get(schemas))
        .route("/Schemas/{id}", get(schema))
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), gate))
        .with_state(state)
}

/// Availability (plan, SSO) first, then the SCIM bearer token.
async fn gate(State(s): State<ServerState>, req: Request, next: Next) -> Response {
    if let Err(e) = s.backend.availability() {
        return e.into_response();
    }
    match bearer_token(req.headers()) {
        Some(token) if s.backend.check_token(&token) => next.run(req).await,
        Some(_) => ScimError::new(
            401,
            None,
            "The bearer token is not this account's SCIM token (the REST API key is not accepted)",
        )
        .into_response(),
        None => ScimError::new(
            401,
            None,
            "Authentication required: send `Authorization: Bearer <SCIM token>`",
        )
        .into_response(),
    }
}

async fn no_route(OriginalUri(uri): OriginalUri) -> Response {
    ScimError::new(404, None, format!("No SCIM endpoint at {}", uri.path())).into_response()
}

async fn method_not_allowed(method: Method, OriginalUri(uri): OriginalUri) -> Response {
    ScimError::new(
        405,
        None,
        format!("{method} is not supported on {}", uri.path()),
    )
    .into_response()
}

/// What every handler needs from the request line: the absolute base URL of the SCIM service
/// (origin plus the path it is nested at) and the query parameters.
struct ReqInfo {
    base: String,
    query: BTreeMap<String, String>,
}

impl FromRequestParts<ServerState> for ReqInfo {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ServerState,
    ) -> Result<Self, Self::Rejection> {
        let inner = parts.uri.path().to_string();
        let full = parts
            .extensions
            .get::<OriginalUri>()
            .map(|o| o.0.path().to_string())
            .unwrap_or_else(|| inner.clone());
        let prefix = full.strip_suffix(&inner).unwrap_or("");
        Ok(ReqInfo {
            base: format!(
                "{}{}",
                origin(&parts.headers, state.tls),
                prefix.trim_end_matches('/')
            ),
            query: query_map(parts.uri.query()),
        })
    }
}

/// The `{id}` path segment; an undecodable one is a SCIM 400, never axum's plain-text rejection.
struct Id(String);

impl FromRequestParts<ServerState> for Id {
    type Rejection = ScimError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ServerState,
    ) -> Result<Self, Self::Rejection> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(id)| Id(id))
            .map_err(|e| {
                ScimError::new(
                    400,
                    Some("invalidValue"),
                    format!(
                        "The resource id in the path is not valid: {}",
                        e.body_text()
                    ),
                )
            })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    User,
    Group,
}

impl Kind {
    fn endpoint(self) -> &'static str {
        match self {
            Kind::User => "Users",
            Kind::Group => "Groups",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
        }
    }

    fn schema(self) -> &'static str {
        match self {
            Kind::User => idgraph_scim::USER_SCHEMA,
            Kind::Group => idgraph_scim::GROUP_SCHEMA,
        }
    }

    /// The attribute a create or replace must carry.
    fn required(self) -> &'static str {
        match self {
            Kind::User => "userName",
            Kind::Group => "displayName",
        }
    }

    fn list(self, b: &dyn ScimBackend) -> Vec<Value> {
        match self {
            Kind::User => b.list_users(),
            Kind::Group => b.list_groups(),
        }
    }

    fn get(self, b: &dyn ScimBackend, id: &str) -> Option<Value> {
        match self {
            Kind::User => b.get_user(id),
            Kind::Group => b.get_group(id),
        }
    }

    fn create(self, b: &dyn ScimBackend, v: Value) -> Result<Value, ScimError> {
        match self {
            Kind::User => b.create_user(v),
            Kind::Group => b.create_group(v),
        }
    }

    fn replace(self, b: &dyn ScimBackend, id: &str, v: Value) -> Result<Value, ScimError> {
        match self {
            Kind::User => b.replace_user(id, v),
            Kind::Group => b.replace_group(id, v),
        }
    }

    fn delete(self, b: &dyn ScimBackend, id: &str) -> Result<(), ScimError> {
        match self {
            Kind::User => b.delete_user(id),
            Kind::Group => b.delete_group(id),
        }
    }

    fn not_found(self, id: &str) -> ScimError {
        ScimError::new(404, None, format!("{} {id} not found", self.name()))
    }
}

/// Fills what the backend may leave out: `schemas`, `meta.resourceType`, `meta.location`.
fn finish(kind: Kind, mut v: Value, base: &str) -> Value {
    if let Value::Object(obj) = &mut v {
        let no_schemas = obj
            .get("schemas")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty);
        if no_schemas {
            obj.insert("schemas".into(), serde_json::json!([kind.schema()]));
        }
        let id = obj
            .get("id")
            .map(|id| match id {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default();
        let meta = obj
            .entry("meta")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if !meta.is_object() {
            *meta = Value::Object(serde_json::Map::new());
        }
        if let Value::Object(m) = meta {
            if m.get("resourceType")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                m.insert("resourceType".into(), Value::String(kind.name().into()));
            }
            if m.get("location")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                m.insert(
                    "location".into(),
                    Value::String(format!("{base}/{}/{id}", kind.endpoint())),
                );
            }
        }
    }
    v
}

/// Parses a request body: JSON object, `application/json` or `application/scim+json`.
fn parse_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, ScimError> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
        let mime = ct.split(';').next().unwrap_or("").trim().to_string();
        if mime != "application/json" && mime != idgraph_scim::MEDIA_TYPE {
            return Err(ScimError::new(
                415,
                None,
                format!(
                    "Content-Type `{ct}` is not accepted: send application/scim+json or application/json"
                ),
            ));
        }
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        ScimError::new(
            400,
            Some("invalidSyntax"),
            format!("The request body is not valid JSON: {e}"),
        )
    })?;
    if !v.is_object() {
        return Err(ScimError::new(
            400,
            Some("invalidSyntax"),
            "The request body must be a JSON object",
        ));
    }
    Ok(v)
}

/// Checks the required attribute and turns `"active": "True"/"False"` into a boolean.
fn validate_resource(kind: Kind, v: &mut Value) -> Result<(), ScimError> {
    let required = kind.required();
    let present = get_ci(v, required)
        .and_then(Value::as_str)
        .is_some_and(|s| !s.trim().is_empty());
    if !present {
        return Err(ScimError::new(
            400,
            Some("invalidValue"),
            format!(
                "`{required}` is required on a {} and must be a non-empty string",
                kind.name()
            ),
        ));
    }
    if let Value::Object(obj) = v {
        if let Some((k, active)) = obj
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("active"))
            .map(|(k, a)| (k.clone(), a.clone()))
        {
            match idgraph_scim::types::lenient_bool(&active) {
                Some(b) => {
                    obj.insert(k, Value::Bool(b));
                }
                None if active.is_null() => {}
                None => {
                    return Err(ScimError::new(
                        400,
                        Some("invalidValue"),
                        format!("`active` must be true or false, found {active}"),
                    ))
                }
            }
        }
    }
    Ok(())
}

fn parse_int(query: &BTreeMap<String, String>, key: &str) -> Result<Option<i64>, ScimError> {
    match query.get(key) {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => Ok(None),
        Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
            ScimError::new(
                400,
                Some("invalidValue"),
                format!("Query parameter `{key}` must be an integer, found `{v}`"),
            )
        }),
    }
}

/// The attribute paths of `attributes` / `excludedAttributes` (comma-separated).
fn attr_list(
    query: &BTreeMap<String, String>,
    key: &str,
) -> Result<Option<Vec<String>>, ScimError> {
    let Some(raw) = query.get(key) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        AttrPath::parse(item).map_err(|e| {
            ScimError::new(
                400,
                Some("invalidValue"),
                format!("`{key}` names an invalid attribute `{item}`: {e}"),
            )
        })?;
        out.push(item.to_string());
    }
    Ok(Some(out))
}

fn key_ci(obj: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    obj.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

/// Applies `attributes` (keep only those, plus `id`, `schemas` and `meta`) and
/// `excludedAttributes` (drop those; `id` and `schemas` are always returned) — RFC 7644 §3.9.
fn project(v: Value, attributes: Option<&[String]>, excluded: Option<&[String]>) -> Value {
    let Value::Object(mut obj) = v else { return v };
    if let Some(attrs) = attributes {
        let mut out = serde_json::Map::new();
        for always in ["schemas", "id", "meta"] {
            if let Some(val) = obj.get(always) {
                out.insert(always.to_string(), val.clone());
            }
        }
        for item in attrs {
            // A whole extension object, or any key spelled exactly so.
            if let Some(k) = key_ci(&obj, item) {
                out.insert(k.clone(), obj[&k].clone());
                continue;
            }
            let Ok(path) = AttrPath::parse(item) else {
                continue;
            };
            let (src, dst): (&serde_json::Map<String, Value>, Option<String>) = match &path.urn {
                Some(urn) if !path.is_core() => match key_ci(&obj, urn) {
                    Some(k) => match obj[&k].as_object() {
                        Some(ext) => (ext, Some(k)),
                        None => continue,
                    },
                    None => continue,
                },
                _ => (&obj, None),
            };
            let Some(k) = key_ci(src, &path.name) else {
                continue;
            };
            let picked = match &path.sub_attr {
                None => src[&k].clone(),
                Some(sub) => pick_sub(&src[&k], sub),
            };
            let target = match dst {
                Some(ext) => {
                    let slot = out
                        .entry(ext)
                        .or_insert_with(|| Value::Object(serde_json::Map::new()));
                    match slot.as_object_mut() {
                        Some(m) => m,
                        None => continue,
                    }
                }
                None => &mut out,
            };
            merge_picked(target, k, picked);
        }
        obj = out;
    }
    if let Some(excl) = excluded {
        for item in excl {
            if let Some(k) = key_ci(&obj, item) {
                if k != "id" && k != "schemas" {
                    obj.remove(&k);
                }
                continue;
            }
            let Ok(path) = AttrPath::parse(item) else {
                continue;
            };
            let container = match &path.urn {
                Some(urn) if !path.is_core() => match key_ci(&obj, urn) {
                    Some(k) => match obj.get_mut(&k).and_then(Value::as_object_mut) {
                        Some(m) => m,
                        None => continue,
                    },
                    None => continue,
                },
                _ => &mut obj,
            };
            let Some(k) = key_ci(container, &path.name) else {
                continue;
            };
            match &path.sub_attr {
                None => {
                    if !(path.is_core() && (k == "id" || k == "schemas")) {
                        container.remove(&k);
                    }
                }
                Some(sub) => match container.get_mut(&k) {
                    Some(Value::Object(m)) => {
                        if let Some(sk) = key_ci(m, sub) {
                            m.remove(&sk);
                        }
                    }
                    Some(Value::Array(items)) => {
                        for m in items.iter_mut().filter_map(Value::as_object_mut) {
                            if let Some(sk) = key_ci(m, sub) {
                                m.remove(&sk);
                            }
                        }
                    }
                    _ => {}
                },
            }
        }
    }
    Value::Object(obj)
}

/// `name.sub` of a complex value or of each value of a multi-valued one.
fn pick_sub(v: &Value, sub: &str) -> Value {
    let one = |m: &serde_json::Map<String, Value>| {
        let mut o = serde_json::Map::new();
        if let Some(k) = key_ci(m, sub) {
            o.insert(k.clone(), m[&k].clone());
        }
        Value::Object(o)
    };
    match v {
        Value::Object(m) => one(m),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| i.as_object().map_or_else(|| i.clone(), one))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Adds a picked attribute, merging sub-attributes picked separately (`name.givenName` and
/// `name.familyName`).
fn merge_picked(target: &mut serde_json::Map<String, Value>, key: String, picked: Value) {
    match (target.get_mut(&key), picked) {
        (Some(Value::Object(have)), Value::Object(new)) => have.extend(new),
        (Some(Value::Array(have)), Value::Array(new)) if have.len() == new.len() => {
            for (h, n) in have.iter_mut().zip(new) {
                if let (Value::Object(h), Value::Object(n)) = (h, n) {
                    h.extend(n);
                }
            }
        }
        (_, picked) => {
            target.insert(key, picked);
        }
    }
}

/// Projection parameters of a request, validated.
struct Projection {
    attributes: Option<Vec<String>>,
    excluded: Option<Vec<String>>,
}

impl Projection {
    fn from_query(query: &BTreeMap<String, String>) -> Result<Self, ScimError> {
        Ok(Self {
            attributes: attr_list(query, "attributes")?,
            excluded: attr_list(query, "excludedAttributes")?,
        })
    }

    fn apply(&self, v: Value) -> Value {
        project(v, self.attributes.as_deref(), self.excluded.as_deref())
    }
}

fn list(s: &ServerState, kind: Kind, info: &ReqInfo) -> Result<Response, ScimError> {
    let filter = match info.query.get("filter").map(|f| f.trim()) {
        Some(f) if !f.is_empty() => Some(Filter::parse(f).map_err(|e| {
            ScimError::new(
                400,
                Some("invalidFilter"),
                format!("The filter `{f}` is invalid {e}"),
            )
        })?),
        _ => None,
    };
    let start = parse_int(&info.query, "startIndex")?.unwrap_or(1).max(1) as usize;
    let count = parse_int(&info.query, "count")?
        .map(|c| c.clamp(0, MAX_COUNT as i64) as usize)
        .unwrap_or(MAX_COUNT);
    let projection = Projection::from_query(&info.query)?;
    let (page, total) = match (&filter, kind) {
        (None, Kind::User) => {
            let (users, total) = s.backend.users_page(start - 1, count);
            let page = users
                .into_iter()
                .map(|v| projection.apply(finish(kind, v, &info.base)))
                .collect::<Vec<_>>();
            (page, total)
        }
        (Some(filter), Kind::User) => {
            // One user at a time: count the matches, keep the page's.
            let (mut page, mut total) = (Vec::new(), 0usize);
            s.backend.each_user(&mut |v| {
                let v = finish(kind, v, &info.base);
                if filter.matches(&v) {
                    if total >= start - 1 && page.len() < count {
                        page.push(projection.apply(v));
                    }
                    total += 1;
                }
            });
            (page, total)
        }
        _ => {
            let matched: Vec<Value> = kind
                .list(s.backend.as_ref())
                .into_iter()
                .map(|v| finish(kind, v, &info.base))
                .filter(|v| filter.as_ref().is_none_or(|f| f.matches(v)))
                .collect();
            let total = matched.len();
            let page: Vec<Value> = matched
                .into_iter()
                .skip(start - 1)
                .take(count)
                .map(|v| projection.apply(v))
                .collect();
            (page, total)
        }
    };
    let body = ListResponse::new(page, total as u64, start as u64);
    let body = serde_json::to_value(body).unwrap_or_default();
    Ok(scim_response(StatusCode::OK, &body))
}

fn get_one(s: &ServerState, kind: Kind, id: &str, info: &ReqInfo) -> Result<Response, ScimError> {
    let projection = Projection::from_query(&info.query)?;
    let v = kind
        .get(s.backend.as_ref(), id)
        .ok_or_else(|| kind.not_found(id))?;
    let v = projection.apply(finish(kind, v, &info.base));
    Ok(scim_response(StatusCode::OK, &v))
}

fn create(
    s: &ServerState,
    kind: Kind,
    info: &ReqInfo,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, ScimError> {
    let projection = Projection::from_query(&info.query)?;
    let mut v = parse_body(headers, body)?;
    validate_resource(kind, &mut v)?;
    let created = finish(kind, kind.create(s.backend.as_ref(), v)?, &info.base);
    let location = created
        .pointer("/meta/location")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut resp = scim_response(StatusCode::CREATED, &projection.apply(created));
    if let Ok(h) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, h);
    }
    Ok(resp)
}

fn replace(
    s: &ServerState,
    kind: Kind,
    id: &str,
    info: &ReqInfo,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, ScimError> {
    let projection = Projection::from_query(&info.query)?;
    let mut v = parse_body(headers, body)?;
    validate_resource(kind, &mut v)?;
    if kind.get(s.backend.as_ref(), id).is_none() {
        return Err(kind.not_found(id));
    }
    // `id` is readOnly: a value in the body is ignored (RFC 7644 §3.5.1).
    if let Value::Object(obj) = &mut v {
        if let Some(k) = key_ci(obj, "id") {
            obj.remove(&k);
        }
        obj.insert("id".into(), Value::String(id.to_string()));
    }
    let out = finish(kind, kind.replace(s.backend.as_ref(), id, v)?, &info.base);
    Ok(scim_response(StatusCode::OK, &projection.apply(out)))
}

fn patch(
    s: &ServerState,
    kind: Kind,
    id: &str,
    info: &ReqInfo,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, ScimError> {
    let projection = Projection::from_query(&info.query)?;
    let v = parse_body(headers, body)?;
    let op: PatchOp = serde_json::from_value(v).map_err(|e| {
        ScimError::new(
            400,
            Some("invalidSyntax"),
            format!("The body is not a PatchOp request (`Operations` of add/remove/replace): {e}"),
        )
    })?;
    let mut current = kind
        .get(s.backend.as_ref(), id)
        .ok_or_else(|| kind.not_found(id))?;
    idgraph_scim::apply_patch(&mut current, &op)
        .map_err(|e| ScimError::new(e.status(), Some(e.scim_type()), e.detail))?;
    let out = finish(
        kind,
        kind.replace(s.backend.as_ref(), id, current)?,
        &info.base,
    );
    Ok(scim_response(StatusCode::OK, &projection.apply(out)))
}

fn delete(s: &ServerState, kind: Kind, id: &str) -> Result<Response, ScimError> {
    if kind.get(s.backend.as_ref(), id).is_none() {
        return Err(kind.not_found(id));
    }
    kind.delete(s.backend.as_ref(), id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn respond(r: Result<Response, ScimError>) -> Response {
    r.unwrap_or_else(IntoResponse::into_response)
}

async fn list_users(State(s): State<ServerState>, info: ReqInfo) -> Response {
    respond(list(&s, Kind::User, &info))
}

async fn list_groups(State(s): State<ServerState>, info: ReqInfo) -> Response {
    respond(list(&s, Kind::Group, &info))
}

async fn get_user(State(s): State<ServerState>, Id(id): Id, info: ReqInfo) -> Response {
    respond(get_one(&s, Kind::User, &id, &info))
}

async fn get_group(State(s): State<ServerState>, Id(id): Id, info: ReqInfo) -> Response {
    respond(get_one(&s, Kind::Group, &id, &info))
}

async fn create_user(
    State(s): State<ServerState>,
    info: ReqInfo,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(create(&s, Kind::User, &info, &headers, &body))
}

async fn create_group(
    State(s): State<ServerState>,
    info: ReqInfo,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(create(&s, Kind::Group, &info, &headers, &body))
}

async fn replace_user(
    State(s): State<ServerState>,
    Id(id): Id,
    info: ReqInfo,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(replace(&s, Kind::User, &id, &info, &headers, &body))
}

async fn replace_group(
    State(s): State<ServerState>,
    Id(id): Id,
    info: ReqInfo,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(replace(&s, Kind::Group, &id, &info, &headers, &body))
}

async fn patch_user(
    State(s): State<ServerState>,
    Id(id): Id,
    info: ReqInfo,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(patch(&s, Kind::User, &id, &info, &headers, &body))
}

async fn patch_group(
    State(s): State<ServerState>,
    Id(id): Id,
    info: ReqInfo,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(patch(&s, Kind::Group, &id, &info, &headers, &body))
}

async fn delete_user(State(s): State<ServerState>, Id(id): Id) -> Response {
    respond(delete(&s, Kind::User, &id))
}

async fn delete_group(State(s): State<ServerState>, Id(id): Id) -> Response {
    respond(delete(&s, Kind::Group, &id))
}

// --- Discovery (RFC 7644 §4, RFC 7643 §5–7) --------------------------------------------------

async fn service_provider_config(info: ReqInfo) -> Response {
    let body = serde_json::json!({
        "schemas": [idgraph_scim::SERVICE_PROVIDER_CONFIG_SCHEMA],
        "documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_COUNT},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "The account's SCIM token (separate from the REST API key) as `Authorization: Bearer`",
            "specUri": "https://datatracker.ietf.org/doc/html/rfc6750",
            "primary": true
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{}/ServiceProviderConfig", info.base)
        }
    });
    scim_response(StatusCode::OK, &body)
}

fn resource_type_doc(kind: Kind, base: &str) -> Value {
    let mut v = serde_json::json!({
        "schemas": [idgraph_scim::RESOURCE_TYPE_SCHEMA],
        "id": kind.name(),
        "name": kind.name(),
        "endpoint": format!("/{}", kind.endpoint()),
        "description": match kind { Kind::User => "User Account", Kind::Group => "Group" },
        "schema": kind.schema(),
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{base}/ResourceTypes/{}", kind.name())
        }
    });
    if kind == Kind::User {
        v["schemaExtensions"] = serde_json::json!([
            {"schema": idgraph_scim::ENTERPRISE_USER_SCHEMA, "required": false}
        ]);
    }
    v
}

fn list_of(items: Vec<Value>) -> Response {
    let total = items.len() as u64;
    let body = serde_json::to_value(ListResponse::new(items, total, 1)).unwrap_or_default();
    scim_response(StatusCode::OK, &body)
}

async fn resource_types(info: ReqInfo) -> Response {
    list_of(vec![
        resource_type_doc(Kind::User, &info.base),
        resource_type_doc(Kind::Group, &info.base),
    ])
}

async fn resource_type(Id(id): Id, info: ReqInfo) -> Response {
    match [Kind::User, Kind::Group]
        .into_iter()
        .find(|k| k.name().eq_ignore_ascii_case(&id))
    {
        Some(kind) => scim_response(StatusCode::OK, &resource_type_doc(kind, &info.base)),
        None => ScimError::new(
            404,
            None,
            format!("ResourceType {id} not found (User, Group)"),
        )
        .into_response(),
    }
}

/// An attribute definition of a schema document (RFC 7643 §7).
fn attr_def(
    name: &str,
    ty: &str,
    multi: bool,
    required: bool,
    mutability: &str,
    sub: Vec<Value>,
) -> Value {
    let case_exact = matches!(name, "id" | "externalId" | "$ref");
    let mut v = serde_json::json!({
        "name": name,
        "type": ty,
        "multiValued": multi,
        "required": required,
        "caseExact": case_exact,
        "mutability": mutability,
        "returned": if name == "id" { "always" } else { "default" },
        "uniqueness": if name == "userName" || name == "id" { "server" } else { "none" },
    });
    if !sub.is_empty() {
        v["subAttributes"] = Value::Array(sub);
    }
    v
}

fn schema_doc(kind: Kind, base: &str) -> Value {
    let s = |n: &str| attr_def(n, "string", false, false, "readWrite", vec![]);
    let reference = |n: &str, m: &str| {
        vec![
            attr_def("value", "string", false, false, m, vec![]),
            attr_def("display", "string", false, false, m, vec![]),
            attr_def("$ref", "reference", false, false, m, vec![]),
            attr_def("type", "string", false, false, m, vec![]),
        ]
        .into_iter()
        .map(|mut v| {
            v["description"] = Value::String(format!("Sub-attribute of `{n}`"));
            v
        })
        .collect::<Vec<_>>()
    };
    let attributes = match kind {
        Kind::User => vec![
            attr_def("userName", "string", false, true, "readWrite", vec![]),
            attr_def(
                "name",
                "complex",
                false,
                false,
                "readWrite",
                vec![s("formatted"), s("familyName"), s("givenName")],
            ),
            s("displayName"),
            attr_def("active", "boolean", false, false, "readWrite", vec![]),
            attr_def(
                "emails",
                "complex",
                true,
                false,
                "readWrite",
                vec![
                    s("value"),
                    s("type"),
                    attr_def("primary", "boolean", false, false, "readWrite", vec![]),
                ],
            ),
            attr_def(
                "groups",
                "complex",
                true,
                false,
                "readOnly",
                reference("groups", "readOnly"),
            ),
        ],
        Kind::Group => vec![
            attr_def("displayName", "string", false, true, "readWrite", vec![]),
            attr_def(
                "members",
                "complex",
                true,
                false,
                "readWrite",
                reference("members", "immutable"),
            ),
        ],
    };
    serde_json::json!({
        "schemas": [idgraph_scim::SCHEMA_SCHEMA],
        "id": kind.schema(),
        "name": kind.name(),
        "description": match kind { Kind::User => "User Account", Kind::Group => "Group" },
        "attributes": attributes,
        "meta": {
            "resourceType": "Schema",
            "location": format!("{base}/Schemas/{}", kind.schema())
        }
    })
}

async fn schemas(info: ReqInfo) -> Response {
    list_of(vec![
        schema_doc(Kind::User, &info.base),
        schema_doc(Kind::Group, &info.base),
    ])
}

async fn schema(Id(id): Id, info: ReqInfo) -> Response {
    match [Kind::User, Kind::Group]
        .into_iter()
        .find(|k| k.schema().eq_ignore_ascii_case(&id))
    {
        Some(kind) => scim_response(StatusCode::OK, &schema_doc(kind, &info.base)),
        None => ScimError::new(404, None, format!("Schema {id} not found")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Mutex;
    use serde_json::json;
    use tower::ServiceExt;

    const TOKEN: &str = "scim-token-123";

    /// An in-memory tenant: users are deactivated on delete, groups removed.
    struct TestBackend {
        users: Mutex<Vec<Value>>,
        groups: Mutex<Vec<Value>>,
        availability: Mutex<Result<(), ScimError>>,
        next_id: Mutex<u32>,
    }

    impl TestBackend {
        fn new() -> Arc<Self> {
            Arc::new(Self {
                users: Mutex::new(Vec::new()),
                groups: Mutex::new(Vec::new()),
                availability: Mutex::new(Ok(())),
                next_id: Mutex::new(0),
            })
        }

        fn id(&self, prefix: &str) -> String {
            let mut n = self.next_id.lock();
            *n += 1;
            format!("{prefix}{n}")
        }

        fn seed_user(&self, user_name: &str, email_type: &str) -> String {
            let id = self.id("u");
            self.users.lock().push(json!({
                "id": id, "userName": user_name, "active": true,
                "name": {"givenName": "G", "familyName": "F"},
                "emails": [{"value": user_name, "type": email_type, "primary": true}],
                "externalId": format!("EXT-{id}")
            }));
            id
        }

        fn user(&self, id: &str) -> Value {
            self.get_user(id).unwrap()
        }
    }

    impl ScimBackend for TestBackend {
        fn availability(&self) -> Result<(), ScimError> {
            self.availability.lock().clone()
        }
        fn check_token(&self, token: &str) -> bool {
            token == TOKEN
        }
        fn list_users(&self) -> Vec<Value> {
            self.users.lock().clone()
        }
        fn get_user(&self, id: &str) -> Option<Value> {
            self.users.lock().iter().find(|u| u["id"] == id).cloned()
        }
        fn create_user(&self, mut resource: Value) -> Result<Value, ScimError> {
            let name = resource["userName"].as_str().unwrap_or("").to_lowercase();
            if self
                .users
                .lock()
                .iter()
                .any(|u| u["userName"].as_str().unwrap_or("").to_lowercase() == name)
            {
                return Err(ScimError::new(
                    409,
                    Some("uniqueness"),
                    format!("userName {name} is taken"),
                ));
            }
            resource["id"] = json!(self.id("u"));
            resource["meta"] = json!({"created": "2024-01-01T00:00:00Z"});
            self.users.lock().push(resource.clone());
            Ok(resource)
        }
        fn replace_user(&self, id: &str, resource: Value) -> Result<Value, ScimError> {
            let mut users = self.users.lock();
            let slot = users
                .iter_mut()
                .find(|u| u["id"] == id)
                .ok_or_else(|| ScimError::not_found(id))?;
            *slot = resource.clone();
            Ok(resource)
        }
        fn delete_user(&self, id: &str) -> Result<(), ScimError> {
            let mut users = self.users.lock();
            let u = users
                .iter_mut()
                .find(|u| u["id"] == id)
                .ok_or_else(|| ScimError::not_found(id))?;
            u["active"] = json!(false);
            Ok(())
        }
        fn list_groups(&self) -> Vec<Value> {
            self.groups.lock().clone()
        }
        fn get_group(&self, id: &str) -> Option<Value> {
            self.groups.lock().iter().find(|g| g["id"] == id).cloned()
        }
        fn create_group(&self, mut resource: Value) -> Result<Value, ScimError> {
            resource["id"] = json!(self.id("g"));
            self.groups.lock().push(resource.clone());
            Ok(resource)
        }
        fn replace_group(&self, id: &str, resource: Value) -> Result<Value, ScimError> {
            let mut groups = self.groups.lock();
            let slot = groups
                .iter_mut()
                .find(|g| g["id"] == id)
                .ok_or_else(|| ScimError::not_found(id))?;
            *slot = resource.clone();
            Ok(resource)
        }
        fn delete_group(&self, id: &str) -> Result<(), ScimError> {
            self.groups.lock().retain(|g| g["id"] != id);
            Ok(())
        }
    }

    fn app(b: &Arc<TestBackend>) -> Router {
        Router::new().nest("/scim/v2", router(b.clone()))
    }

    struct Resp {
        status: StatusCode,
        headers: HeaderMap,
        body: Value,
    }

    async fn send(app: &Router, req: http::Request<Body>) -> Resp {
        let resp = app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
        };
        Resp {
            status,
            headers,
            body,
        }
    }

    fn req(method: &str, uri: &str, body: Option<&str>) -> http::Request<Body> {
        let mut b = http::Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, "sim.test:8080")
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
        if body.is_some() {
            b = b.header(header::CONTENT_TYPE, "application/scim+json");
        }
        b.body(Body::from(body.unwrap_or("").to_string())).unwrap()
    }

    async fn call(app: &Router, method: &str, uri: &str, body: Option<Value>) -> Resp {
        let body = body.map(|b| b.to_string());
        send(app, req(method, uri, body.as_deref())).await
    }

    fn assert_scim_error(r: &Resp, status: u16, scim_type: Option<&str>) {
        assert_eq!(r.status.as_u16(), status, "{}", r.body);
        assert_eq!(r.headers[header::CONTENT_TYPE], idgraph_scim::MEDIA_TYPE);
        assert_eq!(r.body["schemas"], json!([idgraph_scim::ERROR_SCHEMA]));
        assert_eq!(
            r.body["status"],
            json!(status.to_string()),
            "status is a string"
        );
        assert_eq!(
            r.body.get("scimType").and_then(Value::as_str),
            scim_type,
            "{}",
            r.body
        );
        assert!(r.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }

    fn ids(r: &Resp) -> Vec<String> {
        r.body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_string())
            .collect()
    }

    #[tokio::test]
    async fn availability_is_checked_before_the_token() {
        let b = TestBackend::new();
        *b.availability.lock() = Err(ScimError::new(
            403,
            None,
            "SCIM needs the Enterprise plan and SSO",
        ));
        let app = app(&b);
        let mut r = req("GET", "/scim/v2/Users", None);
        r.headers_mut().remove(header::AUTHORIZATION);
        let r = send(&app, r).await;
        assert_scim_error(&r, 403, None);
        assert_eq!(r.body["detail"], "SCIM needs the Enterprise plan and SSO");
        let r = call(&app, "GET", "/scim/v2/ServiceProviderConfig", None).await;
        assert_scim_error(&r, 403, None);
    }

    #[tokio::test]
    async fn bearer_token_required() {
        let b = TestBackend::new();
        b.seed_user("a@x", "work");
        let app = app(&b);
        let mut r = req("GET", "/scim/v2/Users", None);
        r.headers_mut().remove(header::AUTHORIZATION);
        let r = send(&app, r).await;
        assert_scim_error(&r, 401, None);
        assert!(r.headers.contains_key(header::WWW_AUTHENTICATE));
        assert!(r.body["detail"].as_str().unwrap().contains("Bearer"));
        let mut r = req("GET", "/scim/v2/Users", None);
        r.headers_mut().insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer rest-api-key"),
        );
        assert_scim_error(&send(&app, r).await, 401, None);
        let mut r = req("DELETE", "/scim/v2/Users/u1", None);
        r.headers_mut().insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic c2NpbS10b2tlbi0xMjM6WA=="),
        );
        assert_scim_error(&send(&app, r).await, 401, None);
        assert_eq!(
            b.user("u1")["active"],
            json!(true),
            "refused requests change nothing"
        );
        let r = call(&app, "GET", "/scim/v2/Users", None).await;
        assert_eq!(r.status, StatusCode::OK);
    }

    #[tokio::test]
    async fn list_users_pages_in_backend_order() {
        let b = TestBackend::new();
        for i in 1..=5 {
            b.seed_user(&format!("user{i}@x"), "work");
        }
        let app = app(&b);
        let r = call(&app, "GET", "/scim/v2/Users?startIndex=2&count=2", None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.headers[header::CONTENT_TYPE], idgraph_scim::MEDIA_TYPE);
        assert_eq!(
            r.body["schemas"],
            json!([idgraph_scim::LIST_RESPONSE_SCHEMA])
        );
        assert_eq!(r.body["totalResults"], 5);
        assert_eq!(r.body["startIndex"], 2);
        assert_eq!(r.body["itemsPerPage"], 2);
        assert_eq!(ids(&r), ["u2", "u3"]);
        // startIndex < 1 is 1.
        let r = call(&app, "GET", "/scim/v2/Users?startIndex=0&count=1", None).await;
        assert_eq!(
            (ids(&r), r.body["startIndex"].clone()),
            (vec!["u1".to_string()], json!(1))
        );
        let r = call(&app, "GET", "/scim/v2/Users?startIndex=-4", None).await;
        assert_eq!(ids(&r).len(), 5);
        // count=0: the total only.
        let r = call(&app, "GET", "/scim/v2/Users?count=0", None).await;
        assert_eq!(
            (
                r.body["totalResults"].clone(),
                r.body["itemsPerPage"].clone()
            ),
            (json!(5), json!(0))
        );
        assert_eq!(r.body["Resources"], json!([]));
        let r = call(&app, "GET", "/scim/v2/Users?count=-1", None).await;
        assert_eq!(r.body["itemsPerPage"], 0);
        // Past the end: empty page, same total.
        let r = call(&app, "GET", "/scim/v2/Users?startIndex=9", None).await;
        assert_eq!(
            (ids(&r).len(), r.body["totalResults"].clone()),
            (0, json!(5))
        );
        let r = call(&app, "GET", "/scim/v2/Users?startIndex=two", None).await;
        assert_scim_error(&r, 400, Some("invalidValue"));
        assert!(r.body["detail"].as_str().unwrap().contains("startIndex"));
        let r = call(&app, "GET", "/scim/v2/Users?count=many", None).await;
        assert_scim_error(&r, 400, Some("invalidValue"));
    }

    #[tokio::test]
    async fn count_defaults_to_and_caps_at_100() {
        let b = TestBackend::new();
        for i in 1..=130 {
            b.seed_user(&format!("user{i}@x"), "work");
        }
        let app = app(&b);
        let r = call(&app, "GET", "/scim/v2/Users", None).await;
        assert_eq!(
            (
                r.body["totalResults"].clone(),
                r.body["itemsPerPage"].clone()
            ),
            (json!(130), json!(100))
        );
        let r = call(&app, "GET", "/scim/v2/Users?count=500", None).await;
        assert_eq!(r.body["itemsPerPage"], 100);
        let r = call(&app, "GET", "/scim/v2/Users?startIndex=101&count=100", None).await;
        assert_eq!(ids(&r).len(), 30);
        assert_eq!(ids(&r)[0], "u101");
    }

    #[tokio::test]
    async fn list_filters() {
        let b = TestBackend::new();
        b.seed_user("Jane@Example.com", "work");
        b.seed_user("bob@example.com", "home");
        b.seed_user("jim@example.com", "work");
        let app = app(&b);
        let f = |q: &str| {
            format!(
                "/scim/v2/Users?filter={}",
                url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
            )
        };
        let r = call(&app, "GET", &f(r#"userName eq "jane@example.COM""#), None).await;
        assert_eq!(ids(&r), ["u1"]);
        assert_eq!(r.body["totalResults"], 1);
        let r = call(&app, "GET", &f(r#"emails[type eq "work"]"#), None).await;
        assert_eq!(ids(&r), ["u1", "u3"]);
        let r = call(
            &app,
            "GET",
            &f(r#"userName sw "j" and not (emails.type eq "home")"#),
            None,
        )
        .await;
        assert_eq!(ids(&r), ["u1", "u3"]);
        let r = call(&app, "GET", &f(r#"externalId eq "ext-u2""#), None).await;
        assert_eq!(ids(&r).len(), 0, "externalId is caseExact");
        let r = call(
            &app,
            "GET",
            &f(r#"meta.location ew "/scim/v2/Users/u2""#),
            None,
        )
        .await;
        assert_eq!(ids(&r), ["u2"], "filters see the filled-in meta.location");
        let r = call(
            &app,
            "GET",
            &f(r#"userName eq "jane@example.com" or userName eq "bob@example.com""#),
            None,
        )
        .await;
        assert_eq!(ids(&r), ["u1", "u2"], "backend order, not filter order");
        let r = call(
            &app,
            "GET",
            &format!("{}&count=0", f(r#"userName ew "example.com""#)),
            None,
        )
        .await;
        assert_eq!(r.body["totalResults"], 3);
        assert_eq!(r.body["Resources"], json!([]));
        let r = call(&app, "GET", &f(r#"userName equals "x""#), None).await;
        assert_scim_error(&r, 400, Some("invalidFilter"));
        let detail = r.body["detail"].as_str().unwrap();
        assert!(
            detail.contains("position 9") && detail.contains("`equals`"),
            "{detail}"
        );
        let r = call(
            &app,
            "GET",
            &f(r#"displayName eq "Ops""#).replace("Users", "Groups"),
            None,
        )
        .await;
        assert_eq!(r.body["totalResults"], 0);
    }

    #[tokio::test]
    async fn attributes_and_excluded_attributes() {
        let b = TestBackend::new();
        b.seed_user("a@x", "work");
        let app = app(&b);
        let r = call(
            &app,
            "GET",
            "/scim/v2/Users?attributes=userName,name.givenName,emails.value",
            None,
        )
        .await;
        let u = &r.body["Resources"][0];
        let mut keys: Vec<&str> = u.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["emails", "id", "meta", "name", "schemas", "userName"]
        );
        assert_eq!(u["name"], json!({"givenName": "G"}));
        assert_eq!(u["emails"], json!([{"value": "a@x"}]));
        let r = call(
            &app,
            "GET",
            "/scim/v2/Users/u1?excludedAttributes=emails,name.familyName,id",
            None,
        )
        .await;
        assert!(r.body.get("emails").is_none());
        assert_eq!(r.body["name"], json!({"givenName": "G"}));
        assert_eq!(r.body["id"], "u1", "id is always returned");
        let r = call(&app, "GET", "/scim/v2/Users?attributes=user%20name", None).await;
        assert_scim_error(&r, 400, Some("invalidValue"));
    }

    #[tokio::test]
    async fn get_user_fills_meta_location_from_host() {
        let b = TestBackend::new();
        b.seed_user("a@x", "work");
        let app = app(&b);
        let r = call(&app, "GET", "/scim/v2/Users/u1", None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.headers[header::CONTENT_TYPE], idgraph_scim::MEDIA_TYPE);
        assert_eq!(
            r.body["meta"]["location"],
            "http://sim.test:8080/scim/v2/Users/u1"
        );
        assert_eq!(r.body["meta"]["resourceType"], "User");
        assert_eq!(r.body["schemas"], json!([idgraph_scim::USER_SCHEMA]));
        let mut rq = req("GET", "/scim/v2/Users/u1", None);
        rq.headers_mut()
            .insert("x-forwarded-proto", HeaderValue::from_static("https"));
        let r = send(&app, rq).await;
        assert_eq!(
            r.body["meta"]["location"],
            "https://sim.test:8080/scim/v2/Users/u1"
        );
        // A location the backend set is kept.
        b.users.lock()[0]["meta"] = json!({"location": "https://vendor/scim/v2/Users/u1"});
        let r = call(&app, "GET", "/scim/v2/Users/u1", None).await;
        assert_eq!(
            r.body["meta"]["location"],
            "https://vendor/scim/v2/Users/u1"
        );
        let r = call(&app, "GET", "/scim/v2/Users/nope", None).await;
        assert_scim_error(&r, 404, None);
        assert!(r.body["detail"].as_str().unwrap().contains("nope"));
        // Not nested: the base is the origin alone.
        let plain = router(b.clone());
        let r = call(&plain, "GET", "/Groups", None).await;
        assert_eq!(r.status, StatusCode::OK);
        b.create_group(json!({"displayName": "G"})).unwrap();
        let r = call(&plain, "GET", "/Groups/g2", None).await;
        assert_eq!(r.body["meta"]["location"], "http://sim.test:8080/Groups/g2");
    }

    #[tokio::test]
    async fn create_user() {
        let b = TestBackend::new();
        let app = app(&b);
        let body = json!({"schemas": [idgraph_scim::USER_SCHEMA], "userName": "jane@x",
                          "name": {"givenName": "Jane"}, "active": "True"});
        let r = call(&app, "POST", "/scim/v2/Users", Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.headers[header::CONTENT_TYPE], idgraph_scim::MEDIA_TYPE);
        assert_eq!(
            r.headers[header::LOCATION],
            "http://sim.test:8080/scim/v2/Users/u1"
        );
        assert_eq!(
            r.body["meta"]["location"],
            "http://sim.test:8080/scim/v2/Users/u1"
        );
        assert_eq!(r.body["active"], json!(true), "\"True\" is read as true");
        assert_eq!(b.user("u1")["active"], json!(true));
        // Backend refusals pass through.
        let r = call(&app, "POST", "/scim/v2/Users", Some(body)).await;
        assert_scim_error(&r, 409, Some("uniqueness"));
        // application/json is accepted too.
        let mut rq = req("POST", "/scim/v2/Users", Some(r#"{"userName": "b@x"}"#));
        rq.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        assert_eq!(send(&app, rq).await.status, StatusCode::CREATED);
        let mut rq = req("POST", "/scim/v2/Users", Some(r#"{"userName": "c@x"}"#));
        rq.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert_scim_error(&send(&app, rq).await, 415, None);
        let r = send(
            &app,
            req("POST", "/scim/v2/Users", Some(r#"{"userName": "#)),
        )
        .await;
        assert_scim_error(&r, 400, Some("invalidSyntax"));
        assert!(r.body["detail"]
            .as_str()
            .unwrap()
            .contains("not valid JSON"));
        let r = send(&app, req("POST", "/scim/v2/Users", Some("[1]"))).await;
        assert_scim_error(&r, 400, Some("invalidSyntax"));
        let r = call(
            &app,
            "POST",
            "/scim/v2/Users",
            Some(json!({"name": {"givenName": "x"}})),
        )
        .await;
        assert_scim_error(&r, 400, Some("invalidValue"));
        assert!(r.body["detail"].as_str().unwrap().contains("userName"));
        let r = call(
            &app,
            "POST",
            "/scim/v2/Users",
            Some(json!({"userName": "d@x", "active": "maybe"})),
        )
        .await;
        assert_scim_error(&r, 400, Some("invalidValue"));
        assert_eq!(b.users.lock().len(), 2);
    }

    #[tokio::test]
    async fn replace_user() {
        let b = TestBackend::new();
        b.seed_user("a@x", "work");
        let app = app(&b);
        let r = call(
            &app,
            "PUT",
            "/scim/v2/Users/u1",
            Some(json!({"id": "other", "userName": "a@x", "active": false})),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["id"], "u1", "a body id is ignored");
        assert_eq!(
            b.user("u1"),
            json!({"id": "u1", "userName": "a@x", "active": false})
        );
        let r = call(
            &app,
            "PUT",
            "/scim/v2/Users/u9",
            Some(json!({"userName": "a@x"})),
        )
        .await;
        assert_scim_error(&r, 404, None);
        let r = call(
            &app,
            "PUT",
            "/scim/v2/Users/u1",
            Some(json!({"active": true})),
        )
        .await;
        assert_scim_error(&r, 400, Some("invalidValue"));
    }

    #[tokio::test]
    async fn patch_user() {
        let b = TestBackend::new();
        b.seed_user("a@x", "work");
        let app = app(&b);
        // Entra ID style.
        let body = json!({"schemas": [idgraph_scim::PATCH_OP_SCHEMA], "Operations": [
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Replace", "value": {"name.givenName": "Janet", "displayName": "Janet F"}},
            {"op": "Add", "path": "emails[type eq \"home\"].value", "value": "h@x"}
        ]});
        let r = call(&app, "PATCH", "/scim/v2/Users/u1", Some(body)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(
            r.body["meta"]["location"],
            "http://sim.test:8080/scim/v2/Users/u1"
        );
        let u = b.user("u1");
        assert_eq!(u["active"], json!(false));
        assert_eq!(u["name"]["givenName"], "Janet");
        assert_eq!(u["displayName"], "Janet F");
        assert_eq!(u["emails"][1], json!({"type": "home", "value": "h@x"}));
        // Okta style.
        let body = json!({"schemas": [idgraph_scim::PATCH_OP_SCHEMA],
                          "Operations": [{"op": "replace", "value": {"active": true}}]});
        call(&app, "PATCH", "/scim/v2/Users/u1", Some(body)).await;
        assert_eq!(b.user("u1")["active"], json!(true));
        let before = b.user("u1");
        let ops = |ops: Value| Some(json!({"Operations": ops}));
        let r = call(
            &app,
            "PATCH",
            "/scim/v2/Users/u1",
            ops(
                json!([{"op": "replace", "path": "emails[type eq \"other\"].value", "value": "x"}]),
            ),
        )
        .await;
        assert_scim_error(&r, 400, Some("noTarget"));
        let r = call(
            &app,
            "PATCH",
            "/scim/v2/Users/u1",
            ops(json!([{"op": "replace", "path": "emails[type", "value": "x"}])),
        )
        .await;
        assert_scim_error(&r, 400, Some("invalidPath"));
        let r = call(
            &app,
            "PATCH",
            "/scim/v2/Users/u1",
            ops(json!([{"op": "replace", "path": "id", "value": "x"}])),
        )
        .await;
        assert_scim_error(&r, 400, Some("mutability"));
        let r = call(
            &app,
            "PATCH",
            "/scim/v2/Users/u1",
            ops(json!([{"op": "replace", "path": "active", "value": "perhaps"}])),
        )
        .await;
        assert_scim_error(&r, 400, Some("invalidValue"));
        let r = call(
            &app,
            "PATCH",
            "/scim/v2/Users/u1",
            ops(json!([{"op": "move", "path": "x"}])),
        )
        .await;
        assert_scim_error(&r, 400, Some("invalidSyntax"));
        assert!(r.body["detail"].as_str().unwrap().contains("`move`"));
        let r = call(
            &app,
            "PATCH",
            "/scim/v2/Users/u1",
            Some(json!({"op": "replace"})),
        )
        .await;
        assert_scim_error(&r, 400, Some("invalidSyntax"));
        assert_eq!(b.user("u1"), before, "failed PATCHes change nothing");
        let r = call(
            &app,
            "PATCH",
            "/scim/v2/Users/u9",
            ops(json!([{"op": "remove", "path": "title"}])),
        )
        .await;
        assert_scim_error(&r, 404, None);
    }

    #[tokio::test]
    async fn delete_user_deactivates() {
        let b = TestBackend::new();
        b.seed_user("a@x", "work");
        let app = app(&b);
        let r = call(&app, "DELETE", "/scim/v2/Users/u1", None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_eq!(r.body, Value::Null);
        let r = call(&app, "GET", "/scim/v2/Users/u1", None).await;
        assert_eq!(r.body["active"], json!(false));
        let r = call(&app, "DELETE", "/scim/v2/Users/u9", None).await;
        assert_scim_error(&r, 404, None);
    }

    #[tokio::test]
    async fn groups_crud_and_membership_patch() {
        let b = TestBackend::new();
        b.seed_user("a@x", "work");
        b.seed_user("b@x", "work");
        let app = app(&b);
        let r = call(
            &app,
            "POST",
            "/scim/v2/Groups",
            Some(json!({"displayName": "Admins", "members": [{"value": "u1"}]})),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(
            r.headers[header::LOCATION],
            "http://sim.test:8080/scim/v2/Groups/g3"
        );
        assert_eq!(r.body["schemas"], json!([idgraph_scim::GROUP_SCHEMA]));
        assert_eq!(r.body["meta"]["resourceType"], "Group");
        let r = call(
            &app,
            "POST",
            "/scim/v2/Groups",
            Some(json!({"members": []})),
        )
        .await;
        assert_scim_error(&r, 400, Some("invalidValue"));
        assert!(r.body["detail"].as_str().unwrap().contains("displayName"));
        let r = call(
            &app,
            "PATCH",
            "/scim/v2/Groups/g3",
            Some(json!({"Operations": [
                {"op": "add", "path": "members", "value": [{"value": "u2", "display": "b"}]}
            ]})),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(
            b.get_group("g3").unwrap()["members"],
            json!([{"value": "u1"}, {"value": "u2", "display": "b"}])
        );
        call(
            &app,
            "PATCH",
            "/scim/v2/Groups/g3",
            Some(json!({"Operations": [
                {"op": "remove", "path": "members[value eq \"u1\"]"}
            ]})),
        )
        .await;
        assert_eq!(
            b.get_group("g3").unwrap()["members"],
            json!([{"value": "u2", "display": "b"}])
        );
        // Entra ID's member removal.
        call(
            &app,
            "PATCH",
            "/scim/v2/Groups/g3",
            Some(json!({"Operations": [
                {"op": "Remove", "path": "members", "value": [{"value": "u2"}]}
            ]})),
        )
        .await;
        assert!(b.get_group("g3").unwrap().get("members").is_none());
        let r = call(
            &app,
            "GET",
            "/scim/v2/Groups?filter=displayName%20eq%20%22admins%22",
            None,
        )
        .await;
        assert_eq!(ids(&r), ["g3"]);
        let r = call(
            &app,
            "PUT",
            "/scim/v2/Groups/g3",
            Some(json!({"displayName": "Ops", "members": []})),
        )
        .await;
        assert_eq!(
            (r.status, r.body["displayName"].clone()),
            (StatusCode::OK, json!("Ops"))
        );
        let r = call(&app, "DELETE", "/scim/v2/Groups/g3", None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_scim_error(
            &call(&app, "GET", "/scim/v2/Groups/g3", None).await,
            404,
            None,
        );
        assert_scim_error(
            &call(
                &app,
                "PATCH",
                "/scim/v2/Groups/g3",
                Some(json!({"Operations": []})),
            )
            .await,
            404,
            None,
        );
    }

    #[tokio::test]
    async fn discovery_endpoints() {
        let b = TestBackend::new();
        let app = app(&b);
        let r = call(&app, "GET", "/scim/v2/ServiceProviderConfig", None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.headers[header::CONTENT_TYPE], idgraph_scim::MEDIA_TYPE);
        assert_eq!(r.body["patch"]["supported"], json!(true));
        assert_eq!(
            r.body["filter"],
            json!({"supported": true, "maxResults": 100})
        );
        assert_eq!(r.body["bulk"]["supported"], json!(false));
        assert_eq!(
            r.body["authenticationSchemes"][0]["type"],
            "oauthbearertoken"
        );
        let r = call(&app, "GET", "/scim/v2/ResourceTypes", None).await;
        assert_eq!(r.body["totalResults"], 2);
        assert_eq!(r.body["Resources"][0]["endpoint"], "/Users");
        assert_eq!(r.body["Resources"][1]["schema"], idgraph_scim::GROUP_SCHEMA);
        let r = call(&app, "GET", "/scim/v2/ResourceTypes/User", None).await;
        assert_eq!(
            r.body["meta"]["location"],
            "http://sim.test:8080/scim/v2/ResourceTypes/User"
        );
        let r = call(&app, "GET", "/scim/v2/Schemas", None).await;
        assert_eq!(r.body["totalResults"], 2);
        let names: Vec<&str> = r.body["Resources"][0]["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert!(
            names.contains(&"userName") && names.contains(&"emails"),
            "{names:?}"
        );
        let r = call(
            &app,
            "GET",
            &format!("/scim/v2/Schemas/{}", idgraph_scim::GROUP_SCHEMA),
            None,
        )
        .await;
        assert_eq!(r.body["id"], idgraph_scim::GROUP_SCHEMA);
        assert_scim_error(
            &call(&app, "GET", "/scim/v2/Schemas/urn:x", None).await,
            404,
            None,
        );
        assert_scim_error(
            &call(&app, "GET", "/scim/v2/ResourceTypes/Device", None).await,
            404,
            None,
        );
    }

    #[tokio::test]
    async fn unknown_routes_and_methods_are_scim_errors() {
        let b = TestBackend::new();
        let app = app(&b);
        let r = call(&app, "GET", "/scim/v2/Devices", None).await;
        assert_scim_error(&r, 404, None);
        let r = call(&app, "DELETE", "/scim/v2/Users", None).await;
        assert_scim_error(&r, 405, None);
        assert!(r.body["detail"].as_str().unwrap().contains("DELETE"));
        let r = call(&app, "GET", "/scim/v2/Users/%FF", None).await;
        assert_scim_error(&r, 400, Some("invalidValue"));
    }
}
