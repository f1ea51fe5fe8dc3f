//! FreshBooks-specific control endpoints under `/_sim/`: the full state (removed members and
//! revoked or accepted invitations included), record overwrites, deactivation, an invitee
//! accepting their invitation, and expiring every access token at once.

use super::state::{InvStatus, Member};
use super::Sim;
use crate::common::control_error;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use bytes::Bytes;
use http::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;

/// Fields `PATCH /_sim/records/members/{id}` may overwrite.
const MEMBER_FIELDS: [&str; 8] = [
    "email",
    "first_name",
    "last_name",
    "job_title",
    "role",
    "active",
    "confirmed",
    "permissions",
];

pub(crate) fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .route("/_sim/state", get(state))
        .route("/_sim/records/members/{id}", patch(patch_member))
        .route("/_sim/records/members/{id}/deactivate", post(deactivate))
        .route("/_sim/invitations/{id}/accept", post(accept))
        .route("/_sim/tokens/expire", post(expire_tokens))
        .with_state(sim)
}

async fn state(State(sim): State<Arc<Sim>>) -> Response {
    Json(sim.tenant.lock().state_json()).into_response()
}

fn member_state(t: &super::state::Tenant, m: &Member) -> Value {
    let mut v = t.member_json(m);
    v["removed"] = Value::Bool(m.removed_at.is_some());
    v
}

fn apply(m: &mut Member, k: &str, v: &Value) -> Result<(), String> {
    let string = || {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("member field `{k}` must be a string, got {v}"))
    };
    let boolean = || {
        v.as_bool()
            .ok_or_else(|| format!("member field `{k}` must be a boolean, got {v}"))
    };
    match k {
        "email" => m.email = string()?,
        "first_name" => m.first_name = string()?,
        "last_name" => m.last_name = string()?,
        "job_title" => m.job_title = if v.is_null() { None } else { Some(string()?) },
        "role" => m.role = string()?,
        "active" => m.active = boolean()?,
        "confirmed" => m.confirmed = boolean()?,
        "permissions" if v.is_object() => m.permissions = v.clone(),
        "permissions" => {
            return Err(format!(
                "member field `permissions` must be an object, got {v}"
            ))
        }
        other => {
            return Err(format!(
                "unknown member field `{other}` (expected one of {})",
                MEMBER_FIELDS.join(", ")
            ))
        }
    }
    Ok(())
}

/// `PATCH /_sim/records/members/{id}` with a JSON object of fields to overwrite.
async fn patch_member(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let fields: serde_json::Map<String, Value> = match serde_json::from_slice(&body) {
        Ok(Value::Object(m)) => m,
        Ok(_) => {
            return control_error(
                StatusCode::BAD_REQUEST,
                "PATCH /_sim/records/members: the body must be a JSON object",
            )
        }
        Err(e) => {
            return control_error(
                StatusCode::BAD_REQUEST,
                &format!("PATCH /_sim/records/members: the body is not valid JSON: {e}"),
            )
        }
    };
    let mut t = sim.tenant.lock();
    let Some(mut m) = id
        .parse::<u64>()
        .ok()
        .and_then(|i| t.members.get(&i).cloned())
    else {
        return control_error(
            StatusCode::NOT_FOUND,
            &format!("no FreshBooks member with id `{id}`"),
        );
    };
    for (k, v) in &fields {
        if let Err(e) = apply(&mut m, k, v) {
            return control_error(StatusCode::BAD_REQUEST, &format!("member {id}: {e}"));
        }
    }
    m.updated_at = sim.env.clock.now();
    let v = member_state(&t, &m);
    t.members.insert(m.id, m);
    Json(v).into_response()
}

/// `POST /_sim/records/members/{id}/deactivate`: the member stays listed with `active: false`.
async fn deactivate(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    let mut t = sim.tenant.lock();
    let now = sim.env.clock.now();
    let Some(m) = id.parse::<u64>().ok().and_then(|i| t.members.get_mut(&i)) else {
        return control_error(
            StatusCode::NOT_FOUND,
            &format!("no FreshBooks member with id `{id}`"),
        );
    };
    m.active = false;
    m.updated_at = now;
    let m = m.clone();
    Json(member_state(&t, &m)).into_response()
}

/// `POST /_sim/invitations/{id}/accept`: the invitee accepts and becomes an active member.
async fn accept(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    let mut t = sim.tenant.lock();
    let now = sim.env.clock.now();
    let Some(inv) = id
        .parse::<u64>()
        .ok()
        .and_then(|i| t.invitations.get(&i).cloned())
    else {
        return control_error(
            StatusCode::NOT_FOUND,
            &format!("no FreshBooks invitation with id `{id}`"),
        );
    };
    if inv.status != InvStatus::Pending {
        return control_error(
            StatusCode::CONFLICT,
            &format!(
                "invitation {id} is {}, only a pending invitation can be accepted",
                inv.status.as_str()
            ),
        );
    }
    let first = inv.first_name.clone().unwrap_or_default();
    let last = inv.last_name.clone().unwrap_or_default();
    let identity_id = t.identity_for(&inv.email, &first, &last, now);
    let member_id = t.next_member_id;
    t.next_member_id += 1;
    let member = Member {
        id: member_id,
        uuid: super::state::uuid_like(t.seed, &format!("member:{member_id}")),
        business_id: inv.business_id,
        identity_id,
        email: inv.email.clone(),
        first_name: first,
        last_name: last,
        job_title: None,
        role: inv.role.clone(),
        active: true,
        confirmed: true,
        permissions: json!({}),
        created_at: now,
        updated_at: now,
        invitation_date_accepted: Some(now),
        removed_at: None,
    };
    let mut inv = inv;
    inv.status = InvStatus::Accepted;
    inv.accepted_at = Some(now);
    inv.updated_at = now;
    inv.member_id = Some(member_id);
    let body = json!({
        "member": member_state(&t, &member),
        "invitation": t.invitation_json(&inv),
    });
    t.members.insert(member_id, member);
    t.invitations.insert(inv.id, inv);
    Json(body).into_response()
}

/// `POST /_sim/tokens/expire`: every access token issued so far expires now.
async fn expire_tokens(State(sim): State<Arc<Sim>>) -> Response {
    let mut t = sim.tenant.lock();
    let now = sim.env.clock.now();
    let mut n = 0u64;
    for a in t.oauth.access.values_mut() {
        if a.expires_at > now {
            a.expires_at = now;
            n += 1;
        }
    }
    Json(json!({ "expired": n })).into_response()
}
