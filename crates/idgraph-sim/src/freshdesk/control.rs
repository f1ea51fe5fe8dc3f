//! Freshdesk's `/_sim/` control endpoints: the whole tenant as the vendor renders it, changing
//! or deactivating a record "between syncs", confirming an invited agent, the deep-pagination
//! cap and the custom fields defined in the admin UI.

use super::store::{AgentType, Store, User};
use super::Tenant;
use crate::clock::parse_timestamp;
use crate::common::control_error;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use http::StatusCode;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use time::OffsetDateTime;

type Shared = State<Arc<Tenant>>;

pub async fn state(State(t): Shared) -> Response {
    Json(t.store.read().state()).into_response()
}

/// A control-endpoint failure: status and message, rendered by [`fail`].
type ControlError = (StatusCode, String);

fn fail((status, msg): ControlError) -> Response {
    control_error(status, &msg)
}

fn parse_control_object(body: &Bytes) -> Result<Map<String, Value>, ControlError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err((
            StatusCode::BAD_REQUEST,
            "the body must be a JSON object".to_string(),
        )),
        Err(e) => Err((
            StatusCode::BAD_REQUEST,
            format!("the body is not valid JSON: {e}"),
        )),
    }
}

fn opt_str(key: &str, v: &Value) -> Result<Option<String>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(format!("`{key}` must be a string or null")),
    }
}

fn req_str(key: &str, v: &Value) -> Result<String, String> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("`{key}` must be a string"))
}

fn boolean(key: &str, v: &Value) -> Result<bool, String> {
    v.as_bool()
        .ok_or_else(|| format!("`{key}` must be a boolean"))
}

fn ids(key: &str, v: &Value) -> Result<Vec<u64>, String> {
    v.as_array()
        .and_then(|a| a.iter().map(Value::as_u64).collect::<Option<Vec<u64>>>())
        .ok_or_else(|| format!("`{key}` must be an array of integers"))
}

fn strings(key: &str, v: &Value) -> Result<Vec<String>, String> {
    v.as_array()
        .and_then(|a| {
            a.iter()
                .map(|s| s.as_str().map(str::to_string))
                .collect::<Option<Vec<String>>>()
        })
        .ok_or_else(|| format!("`{key}` must be an array of strings"))
}

fn timestamp(key: &str, v: &Value) -> Result<Option<OffsetDateTime>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => parse_timestamp(s)
            .map(Some)
            .ok_or_else(|| format!("`{key}` must be an ISO 8601 timestamp, not `{s}`")),
        _ => Err(format!("`{key}` must be a timestamp string or null")),
    }
}

/// A contact-level field shared by agents and contacts. `Ok(false)`: not such a field.
fn apply_user_field(u: &mut User, key: &str, v: &Value) -> Result<bool, String> {
    match key {
        "name" => u.name = req_str(key, v)?,
        "phone" => u.phone = opt_str(key, v)?,
        "mobile" => u.mobile = opt_str(key, v)?,
        "job_title" => u.job_title = opt_str(key, v)?,
        "language" => u.language = req_str(key, v)?,
        "time_zone" => u.time_zone = req_str(key, v)?,
        "active" => u.verified = boolean(key, v)?,
        "last_login_at" => u.last_login_at = timestamp(key, v)?,
        "created_at" => {
            if let Some(t) = timestamp(key, v)? {
                u.created_at = t;
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn apply_agent_field(u: &mut User, key: &str, v: &Value) -> Result<bool, String> {
    let Some(a) = u.agent.as_mut() else {
        return Ok(false);
    };
    match key {
        "ticket_scope" => {
            a.ticket_scope = v
                .as_u64()
                .filter(|n| (1..=3).contains(n))
                .ok_or("`ticket_scope` must be 1, 2 or 3")? as u8
        }
        "role_ids" => a.role_ids = ids(key, v)?,
        "group_ids" => a.group_ids = ids(key, v)?,
        "skill_ids" => a.skill_ids = ids(key, v)?,
        "type" => {
            a.kind = v
                .as_str()
                .and_then(AgentType::parse)
                .ok_or("`type` must be support_agent, field_agent or collaborator")?
        }
        "occasional" => a.occasional = boolean(key, v)?,
        "available" => a.available = boolean(key, v)?,
        "signature" => a.signature = opt_str(key, v)?,
        "focus_mode" => a.focus_mode = boolean(key, v)?,
        "deactivated" => a.deactivated = boolean(key, v)?,
        "last_active_at" => a.last_active_at = timestamp(key, v)?,
        "custom_fields" => {
            let m = v.as_object().ok_or("`custom_fields` must be an object")?;
            for (k, v) in m {
                a.custom_fields.insert(k.clone(), v.clone());
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn apply_contact_field(u: &mut User, key: &str, v: &Value) -> Result<bool, String> {
    match key {
        "twitter_id" => u.twitter_id = opt_str(key, v)?,
        "unique_external_id" => u.unique_external_id = opt_str(key, v)?,
        "address" => u.address = opt_str(key, v)?,
        "description" => u.description = opt_str(key, v)?,
        "company_id" => {
            u.company_id = match v {
                Value::Null => None,
                v => Some(
                    v.as_u64()
                        .ok_or("`company_id` must be an integer or null")?,
                ),
            }
        }
        "view_all_tickets" => u.view_all_tickets = boolean(key, v)?,
        "tags" => u.tags = strings(key, v)?,
        "other_emails" => u.other_emails = strings(key, v)?,
        "deleted" => u.deleted = boolean(key, v)?,
        "custom_fields" => {
            let m = v.as_object().ok_or("`custom_fields` must be an object")?;
            for (k, v) in m {
                u.custom_fields.insert(k.clone(), v.clone());
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Overwrites vendor fields of one record. Agents take agent fields and contact fields (at the
/// top level or under `contact`); `email` may change (drift), `updated_at` may be set, else it
/// is bumped to now.
pub fn patch_record(
    store: &mut Store,
    collection: &str,
    id: u64,
    obj: &Map<String, Value>,
    now: OffsetDateTime,
) -> Result<Value, (StatusCode, String)> {
    let bad = |m: String| (StatusCode::BAD_REQUEST, m);
    let Some(user) = store.users.get(&id) else {
        return Err((
            StatusCode::NOT_FOUND,
            format!("no Freshdesk {collection} record with id {id}"),
        ));
    };
    let is_agents = collection == "agents";
    if is_agents && user.agent.is_none() {
        return Err((StatusCode::NOT_FOUND, format!("user {id} is not an agent")));
    }
    if !is_agents && !user.is_contact() {
        return Err((
            StatusCode::NOT_FOUND,
            format!("user {id} is an agent: patch it under /_sim/records/agents/{id}"),
        ));
    }
    let mut u = user.clone();
    let mut flat: Vec<(String, Value)> = Vec::new();
    for (k, v) in obj {
        if is_agents && k == "contact" {
            let inner = v
                .as_object()
                .ok_or_else(|| bad("`contact` must be an object".to_string()))?;
            flat.extend(inner.iter().map(|(k, v)| (k.clone(), v.clone())));
        } else {
            flat.push((k.clone(), v.clone()));
        }
    }
    let mut updated_at = None;
    let mut new_email: Option<Option<String>> = None;
    for (k, v) in &flat {
        let handled = match k.as_str() {
            "updated_at" => {
                updated_at = timestamp(k, v).map_err(bad)?;
                true
            }
            "email" => {
                new_email = Some(opt_str(k, v).map_err(bad)?);
                true
            }
            _ => {
                apply_user_field(&mut u, k, v).map_err(bad)?
                    || if is_agents {
                        apply_agent_field(&mut u, k, v).map_err(bad)?
                    } else {
                        apply_contact_field(&mut u, k, v).map_err(bad)?
                    }
            }
        };
        if !handled {
            return Err(bad(format!(
                "`{k}` is not a field of a Freshdesk {} record",
                if is_agents { "agent" } else { "contact" }
            )));
        }
    }
    if let Some(email) = new_email {
        if let Some(e) = &email {
            if let Some(&other) = store.by_email.get(&e.to_ascii_lowercase()) {
                if other != id {
                    return Err((
                        StatusCode::CONFLICT,
                        format!("email {e} already belongs to user {other}"),
                    ));
                }
            }
        }
        if let Some(old) = &u.email {
            store.by_email.remove(&old.to_ascii_lowercase());
        }
        if let Some(e) = &email {
            store.by_email.insert(e.to_ascii_lowercase(), id);
        }
        u.email = email;
    }
    let stamp = updated_at.unwrap_or(now);
    u.updated_at = stamp;
    if let Some(a) = u.agent.as_mut() {
        a.updated_at = stamp;
    }
    let rendered = if is_agents {
        store.render_agent(&u)
    } else {
        store.render_contact(&u)
    };
    store.users.insert(id, u);
    Ok(rendered)
}

fn collection_ok(c: &str) -> Result<(), ControlError> {
    if c == "agents" || c == "contacts" {
        Ok(())
    } else {
        Err((
            StatusCode::NOT_FOUND,
            format!("unknown Freshdesk collection `{c}` (expected agents or contacts)"),
        ))
    }
}

fn control_id(raw: &str) -> Result<u64, ControlError> {
    raw.parse::<u64>().map_err(|_| {
        (
            StatusCode::NOT_FOUND,
            format!("`{raw}` is not a Freshdesk id"),
        )
    })
}

/// `PATCH /_sim/records/{collection}/{id}`.
pub async fn patch(
    State(t): Shared,
    Path((collection, raw)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if let Err(e) = collection_ok(&collection) {
        return fail(e);
    }
    let id = match control_id(&raw) {
        Ok(id) => id,
        Err(e) => return fail(e),
    };
    let obj = match parse_control_object(&body) {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    let now = t.env.clock.now();
    match patch_record(&mut t.store.write(), &collection, id, &obj, now) {
        Ok(v) => Json(v).into_response(),
        Err((status, msg)) => control_error(status, &msg),
    }
}

/// `POST /_sim/records/{collection}/{id}/deactivate`: deactivates an agent (as DELETE does) or
/// soft-deletes a contact.
pub async fn deactivate(
    State(t): Shared,
    Path((collection, raw)): Path<(String, String)>,
) -> Response {
    if let Err(e) = collection_ok(&collection) {
        return fail(e);
    }
    let id = match control_id(&raw) {
        Ok(id) => id,
        Err(e) => return fail(e),
    };
    let now = t.env.clock.now();
    let mut store = t.store.write();
    let result = if collection == "agents" {
        store.deactivate_agent(id, now).map(|()| {
            store
                .users
                .get(&id)
                .map(|u| store.render_agent(u))
                .unwrap_or(Value::Null)
        })
    } else {
        match store.users.get(&id) {
            Some(u) if u.is_contact() && u.deleted => Ok(store.render_contact(u)),
            _ => store.delete_contact(id, now).map(|()| {
                store
                    .users
                    .get(&id)
                    .map(|u| store.render_contact(u))
                    .unwrap_or(Value::Null)
            }),
        }
    };
    match result {
        Ok(v) => Json(v).into_response(),
        Err(_) => control_error(
            StatusCode::NOT_FOUND,
            &format!("no Freshdesk {collection} record with id {id}"),
        ),
    }
}

/// `POST /_sim/agents/{id}/confirm`: the invited agent accepts the invitation.
pub async fn confirm(State(t): Shared, Path(raw): Path<String>) -> Response {
    let id = match control_id(&raw) {
        Ok(id) => id,
        Err(e) => return fail(e),
    };
    let now = t.env.clock.now();
    let mut store = t.store.write();
    match store.confirm_agent(id, now) {
        Ok(()) => {
            let v = store.users.get(&id).map(|u| store.render_agent(u));
            Json(v.unwrap_or(Value::Null)).into_response()
        }
        Err(msg) => control_error(StatusCode::CONFLICT, &msg),
    }
}

/// `PUT /_sim/pagination {"max_page": N}`: the deep-pagination cap (default 500).
pub async fn set_pagination(State(t): Shared, body: Bytes) -> Response {
    let obj = match parse_control_object(&body) {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    match obj.get("max_page").and_then(Value::as_u64) {
        Some(n) if n >= 1 && obj.len() == 1 => {
            t.store.write().max_page = n.min(u64::from(u32::MAX)) as u32;
            Json(json!({"max_page": n})).into_response()
        }
        _ => control_error(
            StatusCode::BAD_REQUEST,
            "expected {\"max_page\": N} with N >= 1",
        ),
    }
}

/// `POST /_sim/custom_fields/{contacts|agents} {"name": "…"}`: an admin defines a custom field
/// in the UI (the API accepts only defined keys).
pub async fn define_custom_field(
    State(t): Shared,
    Path(collection): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(e) = collection_ok(&collection) {
        return fail(e);
    }
    let obj = match parse_control_object(&body) {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    let Some(name) = obj
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    else {
        return control_error(
            StatusCode::BAD_REQUEST,
            "expected {\"name\": \"field_name\"}",
        );
    };
    let mut store = t.store.write();
    let set = if collection == "agents" {
        &mut store.agent_fields
    } else {
        &mut store.contact_fields
    };
    set.insert(name.to_string());
    Json(json!({"collection": collection, "fields": set.iter().collect::<Vec<_>>()}))
        .into_response()
}
