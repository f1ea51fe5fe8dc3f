//! The FreshBooks `/auth/api/v1` endpoints: the token owner's identity (`users/me`), business
//! members (list with `page`/`per_page`/`active`, role update, removal), invitations (create,
//! list pending, revoke) and the real API's `team_members` list.

use super::oauth::authenticate;
use super::state::{InvStatus, Invitation, Member, Tenant, ASSIGNABLE_ROLES};
use super::{
    fb_error, Reject, Sim, DEFAULT_PER_PAGE, MAX_PER_PAGE, SCOPE_ADMIN, SCOPE_PROFILE_READ,
    SCOPE_PROFILE_WRITE, SCOPE_TEAMS_READ,
};
use crate::common::{page_params, parse_bool, query_map, PageParams};
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

type Res = Result<Response, Reject>;

fn finish(r: Res) -> Response {
    r.unwrap_or_else(IntoResponse::into_response)
}

fn invalid(description: impl Into<String>) -> Reject {
    Reject::from(fb_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_resource",
        format!("Validation failed: {}", description.into()),
    ))
}

fn not_found(description: impl Into<String>) -> Reject {
    Reject::from(fb_error(
        StatusCode::NOT_FOUND,
        "not_found",
        format!(
            "Requested resource could not be found: {}",
            description.into()
        ),
    ))
}

/// Parses a JSON object body; `wrapper` (e.g. `member`) may hold the fields instead.
pub(crate) fn json_object(
    body: &Bytes,
    where_: &str,
    wrapper: &str,
) -> Result<Map<String, Value>, Reject> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        Reject::from(fb_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("{where_}: the request body is not valid JSON: {e}"),
        ))
    })?;
    match v {
        Value::Object(mut m) => match m.remove(wrapper) {
            Some(Value::Object(inner)) => Ok(inner),
            Some(other) => {
                m.insert(wrapper.to_string(), other);
                Ok(m)
            }
            None => Ok(m),
        },
        _ => Err(Reject::from(fb_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("{where_}: the request body must be a JSON object"),
        ))),
    }
}

/// Resolves `business_id` for the token owner: 404 for an unknown business, 403 when the token
/// owner is not an admin or owner of it.
fn admin_business(t: &Tenant, raw: &str) -> Result<u64, Reject> {
    let Some(id) = raw
        .parse::<u64>()
        .ok()
        .filter(|id| t.businesses.contains_key(id))
    else {
        return Err(not_found(format!("business `{raw}` does not exist")));
    };
    match t.owner_membership(id) {
        Some(m) if m.role == "owner" || m.role == "admin" => Ok(id),
        Some(m) => Err(Reject::from(fb_error(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "The token owner (identity {}) has role `{}` in business {id}; admin or owner is required to manage its team",
                t.owner_identity, m.role
            ),
        ))),
        None => Err(Reject::from(fb_error(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "The token owner (identity {}) is not a member of business {id}; admin or owner is required to manage its team",
                t.owner_identity
            ),
        ))),
    }
}

fn pages(q: &BTreeMap<String, String>) -> Result<PageParams, Reject> {
    page_params(q, "page", "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE).map_err(|e| {
        let errno = if e.field == "page" { 1014 } else { 1013 };
        Reject::from((
            StatusCode::BAD_REQUEST,
            Json(json!({
                "error": if e.field == "page" { "invalid_page" } else { "invalid_per_page" },
                "error_description": format!("The '{}' argument in the request was not a positive integer: {}", e.field, e.message),
                "errno": errno,
            })),
        )
            .into_response())
    })
}

fn active_filter(q: &BTreeMap<String, String>) -> Result<Option<bool>, Reject> {
    match q.get("active") {
        None => Ok(None),
        Some(v) => parse_bool(v).map(Some).ok_or_else(|| {
            Reject::from(fb_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("The 'active' filter must be true or false, got `{v}`"),
            ))
        }),
    }
}

fn page_of<T: Clone>(items: &[T], p: PageParams) -> (Vec<T>, Value) {
    let total = items.len() as u64;
    let per = u64::from(p.per_page);
    let (page, _) = crate::common::paginate(items, p);
    let meta = json!({
        "page": p.page,
        "pages": total.div_ceil(per),
        "per_page": p.per_page,
        "total": total,
    });
    (page, meta)
}

fn role_value(v: &Value, field: &str) -> Result<String, Reject> {
    match v.as_str() {
        Some(r) if ASSIGNABLE_ROLES.contains(&r) => Ok(r.to_string()),
        Some("owner") => Err(invalid(format!(
            "{field} `owner` cannot be given: a business has one owner, set at signup"
        ))),
        _ => Err(invalid(format!(
            "{field} {v} is not one of {}",
            ASSIGNABLE_ROLES.join(", ")
        ))),
    }
}

// ---- users/me ----

/// `GET /auth/api/v1/users/me`: the token owner only.
pub(crate) async fn me_get(State(sim): State<Arc<Sim>>, headers: HeaderMap) -> Response {
    let t = sim.tenant.lock();
    if let Err(r) = authenticate(&sim, &t, &headers, &[SCOPE_PROFILE_READ]) {
        return r.into_response();
    }
    match t.identities.get(&t.owner_identity) {
        Some(id) => Json(json!({ "response": t.identity_json(id) })).into_response(),
        None => not_found(format!("identity {} does not exist", t.owner_identity)).into_response(),
    }
}

/// `PUT /auth/api/v1/users/me`: updates the token owner's own profile. Read-only fields
/// (`id`, `confirmed`, `business_memberships`, …) are ignored, so an `id` of someone else
/// changes nothing but the owner.
pub(crate) async fn me_put(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut t = sim.tenant.lock();
    finish((|| {
        authenticate(&sim, &t, &headers, &[SCOPE_PROFILE_WRITE])?;
        let fields = json_object(&body, "PUT /auth/api/v1/users/me", "user")?;
        let owner = t.owner_identity;
        let Some(mut id) = t.identities.get(&owner).cloned() else {
            return Err(not_found(format!("identity {owner} does not exist")));
        };
        for (k, v) in &fields {
            let s = || {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| invalid(format!("user field `{k}` must be a string, got {v}")))
            };
            match k.as_str() {
                "first_name" => id.first_name = s()?,
                "last_name" => id.last_name = s()?,
                "language" => id.language = s()?,
                "timezone" => id.timezone = s()?,
                "email" => {
                    let e = s()?;
                    if !e.contains('@') {
                        return Err(invalid(format!("email `{e}` is not an email address")));
                    }
                    if let Some(other) = t.identity_by_email.get(&e.to_lowercase()) {
                        if *other != owner {
                            return Err(invalid(format!(
                                "email `{e}` is already used by another FreshBooks user (identity {other})"
                            )));
                        }
                    }
                    id.email = e;
                }
                "phone_numbers" if v.is_array() => id.phone_numbers = v.clone(),
                "profession" if v.is_object() => id.profession = v.clone(),
                "avatar" if v.is_string() || v.is_null() => id.avatar = v.clone(),
                "phone_numbers" | "profession" | "avatar" => {
                    return Err(invalid(format!("user field `{k}` has the wrong type: {v}")))
                }
                // Read-only or unknown fields are ignored, as FreshBooks does.
                _ => {}
            }
        }
        let now = sim.env.clock.now();
        id.updated_at = now;
        let old_email = t
            .identities
            .get(&owner)
            .map(|i| i.email.to_lowercase())
            .unwrap_or_default();
        t.identity_by_email.remove(&old_email);
        t.identity_by_email.insert(id.email.to_lowercase(), owner);
        for m in t.members.values_mut().filter(|m| m.identity_id == owner) {
            m.first_name = id.first_name.clone();
            m.last_name = id.last_name.clone();
            m.email = id.email.clone();
            m.updated_at = now;
        }
        let body = json!({ "response": t.identity_json(&id) });
        t.identities.insert(owner, id);
        Ok(Json(body).into_response())
    })())
}

// ---- members ----

/// `GET /auth/api/v1/business/{business_id}/members?page&per_page&active`.
pub(crate) async fn members_list(
    State(sim): State<Arc<Sim>>,
    Path(business): Path<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let t = sim.tenant.lock();
    finish((|| {
        authenticate(&sim, &t, &headers, &[SCOPE_ADMIN])?;
        let bid = admin_business(&t, &business)?;
        let q = query_map(q.as_deref());
        let p = pages(&q)?;
        let active = active_filter(&q)?;
        let all: Vec<&Member> = t
            .live_members(bid)
            .filter(|m| active.is_none_or(|a| m.active == a))
            .collect();
        let (page, meta) = page_of(&all, p);
        let members: Vec<Value> = page.iter().map(|m| t.member_json(m)).collect();
        Ok(Json(json!({ "response": { "members": members, "pages": meta } })).into_response())
    })())
}

/// The real API's `GET /auth/api/v1/businesses/{business_id}/team_members`: members plus
/// pending invitees (inactive, no identity), `{"response": [...], "meta": {...}}`.
pub(crate) async fn team_members(
    State(sim): State<Arc<Sim>>,
    Path(business): Path<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let t = sim.tenant.lock();
    finish((|| {
        authenticate(&sim, &t, &headers, &[SCOPE_ADMIN, SCOPE_TEAMS_READ])?;
        let bid = admin_business(&t, &business)?;
        let q = query_map(q.as_deref());
        let p = pages(&q)?;
        let active = active_filter(&q)?;
        let mut rows: Vec<Value> = t
            .live_members(bid)
            .filter(|m| active.is_none_or(|a| m.active == a))
            .map(|m| t.team_member_json(m))
            .collect();
        if active != Some(true) {
            rows.extend(
                t.invitations
                    .values()
                    .filter(|i| i.business_id == bid && i.status == InvStatus::Pending)
                    .map(|i| {
                        json!({
                            "uuid": super::state::uuid_like(t.seed, &format!("invitation:{}", i.id)),
                            "first_name": i.first_name,
                            "middle_name": null,
                            "last_name": i.last_name,
                            "email": i.email,
                            "job_title": null,
                            "street_1": null, "street_2": null, "city": null, "province": null,
                            "country": null, "postal_code": null, "phone_number": null,
                            "business_id": i.business_id,
                            "business_role_name": format!("business_{}", i.role),
                            "active": false,
                            "identity_id": null,
                            "invitation_date_accepted": null,
                            "created_at": crate::clock::rfc3339(i.created_at),
                            "updated_at": crate::clock::rfc3339(i.updated_at),
                        })
                    }),
            );
        }
        let (page, meta) = page_of(&rows, p);
        Ok(Json(json!({ "response": page, "meta": meta })).into_response())
    })())
}

fn live_member_of(t: &Tenant, bid: u64, raw: &str) -> Result<u64, Reject> {
    raw.parse::<u64>()
        .ok()
        .filter(|id| {
            t.members
                .get(id)
                .is_some_and(|m| m.business_id == bid && m.removed_at.is_none())
        })
        .ok_or_else(|| not_found(format!("member `{raw}` is not a member of business {bid}")))
}

/// `PUT /auth/api/v1/business/{business_id}/members/{member_id}`: role (and permissions)
/// change, effective at once.
pub(crate) async fn member_update(
    State(sim): State<Arc<Sim>>,
    Path((business, member)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut t = sim.tenant.lock();
    finish((|| {
        authenticate(&sim, &t, &headers, &[SCOPE_ADMIN])?;
        let bid = admin_business(&t, &business)?;
        let mid = live_member_of(&t, bid, &member)?;
        let where_ = format!("PUT /auth/api/v1/business/{bid}/members/{mid}");
        let fields = json_object(&body, &where_, "member")?;
        let role = fields
            .get("role")
            .map(|v| role_value(v, "role"))
            .transpose()?;
        let permissions = match fields.get("permissions") {
            None => None,
            Some(Value::Object(p)) => Some(p.clone()),
            Some(other) => {
                return Err(invalid(format!(
                    "permissions must be an object, got {other}"
                )))
            }
        };
        if role.is_none() && permissions.is_none() {
            return Err(invalid(format!(
                "{where_}: nothing to update; send `role` and/or `permissions`"
            )));
        }
        let now = sim.env.clock.now();
        let Some(m) = t.members.get_mut(&mid) else {
            return Err(not_found(format!("member {mid} does not exist")));
        };
        if m.role == "owner" && role.is_some() {
            return Err(invalid(format!(
                "member {mid} is the owner of business {bid}; the owner's role cannot be changed"
            )));
        }
        if let Some(r) = role {
            m.role = r;
        }
        if let Some(p) = permissions {
            if let Value::Object(existing) = &mut m.permissions {
                existing.extend(p);
            }
        }
        m.updated_at = now;
        let m = m.clone();
        Ok(Json(json!({ "response": { "member": t.member_json(&m) } })).into_response())
    })())
}

/// `DELETE /auth/api/v1/business/{business_id}/members/{member_id}`: removes the member from
/// the business; the FreshBooks user account (identity) lives on.
pub(crate) async fn member_remove(
    State(sim): State<Arc<Sim>>,
    Path((business, member)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut t = sim.tenant.lock();
    finish((|| {
        authenticate(&sim, &t, &headers, &[SCOPE_ADMIN])?;
        let bid = admin_business(&t, &business)?;
        let mid = live_member_of(&t, bid, &member)?;
        let now = sim.env.clock.now();
        let Some(m) = t.members.get_mut(&mid) else {
            return Err(not_found(format!("member {mid} does not exist")));
        };
        if m.role == "owner" {
            return Err(invalid(format!(
                "member {mid} is the owner of business {bid} and cannot be removed"
            )));
        }
        m.removed_at = Some(now);
        m.active = false;
        m.updated_at = now;
        Ok(StatusCode::NO_CONTENT.into_response())
    })())
}

// ---- invitations ----

/// `GET /auth/api/v1/business/{business_id}/invitations`: pending invitations only.
pub(crate) async fn invitations_list(
    State(sim): State<Arc<Sim>>,
    Path(business): Path<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let t = sim.tenant.lock();
    finish((|| {
        authenticate(&sim, &t, &headers, &[SCOPE_ADMIN])?;
        let bid = admin_business(&t, &business)?;
        let q = query_map(q.as_deref());
        let p = pages(&q)?;
        let all: Vec<&Invitation> = t
            .invitations
            .values()
            .filter(|i| i.business_id == bid && i.status == InvStatus::Pending)
            .collect();
        let (page, meta) = page_of(&all, p);
        let invitations: Vec<Value> = page.iter().map(|i| t.invitation_json(i)).collect();
        Ok(
            Json(json!({ "response": { "invitations": invitations, "pages": meta } }))
                .into_response(),
        )
    })())
}

/// `POST /auth/api/v1/business/{business_id}/invitations` `{"email", "role"}`: the invitee is
/// not a member until they accept (`POST /_sim/invitations/{id}/accept`).
pub(crate) async fn invitation_create(
    State(sim): State<Arc<Sim>>,
    Path(business): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut t = sim.tenant.lock();
    finish((|| {
        authenticate(&sim, &t, &headers, &[SCOPE_ADMIN])?;
        let bid = admin_business(&t, &business)?;
        let where_ = format!("POST /auth/api/v1/business/{bid}/invitations");
        let fields = json_object(&body, &where_, "invitation")?;
        let email = match fields.get("email").and_then(Value::as_str) {
            Some(e) if e.contains('@') && !e.trim().is_empty() => e.trim().to_string(),
            Some(e) => return Err(invalid(format!("email `{e}` is not an email address"))),
            None => return Err(invalid("email is required to invite a team member")),
        };
        let role = match fields.get("role") {
            Some(v) => role_value(v, "role")?,
            None => return Err(invalid("role is required to invite a team member")),
        };
        let lower = email.to_lowercase();
        if let Some(m) = t
            .live_members(bid)
            .find(|m| m.email.to_lowercase() == lower)
        {
            return Err(invalid(format!(
                "{email} is already a member of business {bid} (member {})",
                m.id
            )));
        }
        if let Some(i) = t.invitations.values().find(|i| {
            i.business_id == bid
                && i.status == InvStatus::Pending
                && i.email.to_lowercase() == lower
        }) {
            return Err(invalid(format!(
                "{email} already has a pending invitation to business {bid} (invitation {})",
                i.id
            )));
        }
        let name = |k: &str| fields.get(k).and_then(Value::as_str).map(str::to_string);
        let now = sim.env.clock.now();
        let id = t.next_invitation_id;
        t.next_invitation_id += 1;
        let inv = Invitation {
            id,
            business_id: bid,
            email,
            first_name: name("first_name"),
            last_name: name("last_name"),
            role,
            status: InvStatus::Pending,
            invited_by: Some(t.owner_identity),
            created_at: now,
            updated_at: now,
            accepted_at: None,
            revoked_at: None,
            member_id: None,
        };
        let body = json!({ "response": { "invitation": t.invitation_json(&inv) } });
        t.invitations.insert(id, inv);
        Ok((StatusCode::CREATED, Json(body)).into_response())
    })())
}

/// `DELETE /auth/api/v1/business/{business_id}/invitations/{invitation_id}`: revokes a
/// pending invitation; an accepted one cannot be revoked (422).
pub(crate) async fn invitation_revoke(
    State(sim): State<Arc<Sim>>,
    Path((business, invitation)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut t = sim.tenant.lock();
    finish((|| {
        authenticate(&sim, &t, &headers, &[SCOPE_ADMIN])?;
        let bid = admin_business(&t, &business)?;
        let now = sim.env.clock.now();
        let Some(inv) = invitation
            .parse::<u64>()
            .ok()
            .and_then(|id| t.invitations.get_mut(&id))
            .filter(|i| i.business_id == bid && i.status != InvStatus::Revoked)
        else {
            return Err(not_found(format!(
                "invitation `{invitation}` is not a pending invitation of business {bid}"
            )));
        };
        if inv.status == InvStatus::Accepted {
            return Err(invalid(format!(
                "invitation {} was already accepted (member {}) and cannot be revoked; remove the member instead",
                inv.id,
                inv.member_id.map(|m| m.to_string()).unwrap_or_else(|| "unknown".into())
            )));
        }
        inv.status = InvStatus::Revoked;
        inv.revoked_at = Some(now);
        inv.updated_at = now;
        Ok(StatusCode::NO_CONTENT.into_response())
    })())
}
