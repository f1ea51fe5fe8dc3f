//! Freshservice records → core records, without I/O (design 002).
//!
//! - Agents are accounts in namespace `agent`, requesters in `requester` (one id space: a
//!   converted requester keeps its id). `active: false` → `inactive`; nothing else exists in
//!   Freshservice (no invitation state).
//! - An agent takes a seat unless it is occasional; requesters never do.
//! - The agent list carries everything needed for grants: each `roles` entry becomes a grant of
//!   that role with `assignment_scope` and the scoped `groups` (ids) as grant attributes;
//!   `member_of`/`group_ids` become `group` grants (`membership: member`), `observer_of` group
//!   grants with `membership: observer`; `department_ids` (agents and requesters) become
//!   `department` grants.
//! - One person's agent and requester records are not merged here: each carries its emails
//!   (requesters also their `secondary_emails`), and correlation links them.

use super::model::{Agent, AgentRole, Named, Requester};
use crate::common::parse_time;
use idgraph_core::{
    Account, AccountKey, AccountStatus, Entitlement, EntitlementKey, Grant, Record,
};
use serde_json::{json, Map, Value};

pub const APP: &str = "freshservice";

pub fn account_key(tenant: &str, namespace: &str, id: u64) -> AccountKey {
    AccountKey {
        app: APP.to_string(),
        tenant: tenant.to_string(),
        namespace: namespace.to_string(),
        native_id: id.to_string(),
    }
}

pub fn entitlement_key(tenant: &str, kind: &str, id: u64) -> EntitlementKey {
    EntitlementKey {
        app: APP.to_string(),
        tenant: tenant.to_string(),
        kind: kind.to_string(),
        native_id: id.to_string(),
    }
}

/// Whether a role of this name administers the app ("Account Admin", "Admin", "… Owner").
pub fn is_privileged(role_name: &str) -> bool {
    let n = role_name.to_ascii_lowercase();
    n.contains("admin") || n.contains("owner")
}

/// A role, agent group or department (`kind` = `role`, `group`, `department`).
pub fn entitlement(tenant: &str, kind: &str, raw: Value) -> Result<Entitlement, String> {
    let n = Named::deserialize_from(&raw)?;
    let name = n
        .name
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| format!("{kind} {}", n.id));
    Ok(Entitlement {
        key: entitlement_key(tenant, kind, n.id),
        privileged: kind == "role" && is_privileged(&name),
        name,
        raw,
    })
}

/// An agent and its grants (roles, groups, departments), from one item of the agent list.
/// `listed_active` is the pass it came from (the default list or `active=false`), used only
/// when the record has no `active` field.
pub fn agent(tenant: &str, raw: Value, listed_active: bool) -> Result<Vec<Record>, String> {
    let a = Agent::deserialize_from(&raw)?;
    let key = account_key(tenant, "agent", a.id);
    let mut attributes = Map::new();
    if let Some(t) = non_empty(&a.job_title) {
        attributes.insert("job_title".into(), json!(t));
    }
    let occasional = a.occasional.unwrap_or(false);
    attributes.insert("occasional".into(), json!(occasional));

    let mut out = Vec::new();
    for r in role_entries(&a) {
        let mut attrs = Map::new();
        if let Some(scope) = &r.assignment_scope {
            attrs.insert("assignment_scope".into(), json!(scope));
        }
        if !r.groups.is_empty() {
            attrs.insert("groups".into(), json!(r.groups));
        }
        out.push(grant(
            &key,
            entitlement_key(tenant, "role", r.role_id),
            attrs,
        ));
    }
    let mut members: Vec<u64> = Vec::new();
    for g in a.member_of.iter().chain(&a.group_ids) {
        if !members.contains(g) {
            members.push(*g);
        }
    }
    for g in &members {
        let attrs = Map::from_iter([("membership".to_string(), json!("member"))]);
        out.push(grant(&key, entitlement_key(tenant, "group", *g), attrs));
    }
    let mut observed: Vec<u64> = Vec::new();
    for g in &a.observer_of {
        if !members.contains(g) && !observed.contains(g) {
            observed.push(*g);
            let attrs = Map::from_iter([("membership".to_string(), json!("observer"))]);
            out.push(grant(&key, entitlement_key(tenant, "group", *g), attrs));
        }
    }
    out.extend(department_grants(tenant, &key, &a.department_ids));

    let account = Account {
        key,
        emails: emails([a.email.as_deref()], &[]),
        display_name: display_name(&a.first_name, &a.last_name),
        status: status(a.active, listed_active),
        seat_consuming: !occasional,
        attributes,
        created_at: parse_time(raw.get("created_at")),
        updated_at: parse_time(raw.get("updated_at")),
        last_login_at: parse_time(raw.get("last_login_at")),
        raw,
    };
    out.insert(0, Record::Account(account));
    Ok(out)
}

/// A requester and its department grants, from one item of the requester list.
pub fn requester(tenant: &str, raw: Value, listed_active: bool) -> Result<Vec<Record>, String> {
    let r = Requester::deserialize_from(&raw)?;
    let key = account_key(tenant, "requester", r.id);
    let mut attributes = Map::new();
    if let Some(t) = non_empty(&r.job_title) {
        attributes.insert("job_title".into(), json!(t));
    }
    let departments: Vec<&str> = r
        .department_names
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if !departments.is_empty() {
        attributes.insert("department".into(), json!(departments.join(", ")));
    }
    attributes.insert("is_agent".into(), json!(r.is_agent.unwrap_or(false)));

    let mut out = vec![];
    out.extend(department_grants(tenant, &key, &r.department_ids));
    let account = Account {
        emails: emails(
            [r.primary_email.as_deref(), r.email.as_deref()],
            &r.secondary_emails,
        ),
        key,
        display_name: display_name(&r.first_name, &r.last_name),
        status: status(r.active, listed_active),
        seat_consuming: false,
        attributes,
        created_at: parse_time(raw.get("created_at")),
        updated_at: parse_time(raw.get("updated_at")),
        last_login_at: parse_time(raw.get("last_login_at")),
        raw,
    };
    out.insert(0, Record::Account(account));
    Ok(out)
}

/// `roles` with scopes when present, else `role_ids` without; each role once.
fn role_entries(a: &Agent) -> Vec<AgentRole> {
    let mut out: Vec<AgentRole> = Vec::new();
    if a.roles.is_empty() {
        for id in &a.role_ids {
            if !out.iter().any(|r| r.role_id == *id) {
                out.push(AgentRole {
                    role_id: *id,
                    ..AgentRole::default()
                });
            }
        }
    } else {
        for r in &a.roles {
            if !out.iter().any(|x| x.role_id == r.role_id) {
                out.push(r.clone());
            }
        }
    }
    out
}

fn department_grants(tenant: &str, key: &AccountKey, ids: &[u64]) -> Vec<Record> {
    let mut seen: Vec<u64> = Vec::new();
    ids.iter()
        .filter(|d| {
            let new = !seen.contains(d);
            seen.push(**d);
            new
        })
        .map(|d| grant(key, entitlement_key(tenant, "department", *d), Map::new()))
        .collect()
}

fn grant(
    account: &AccountKey,
    entitlement: EntitlementKey,
    attributes: Map<String, Value>,
) -> Record {
    Record::Grant(Grant {
        account: account.clone(),
        entitlement,
        attributes,
    })
}

fn status(active: Option<bool>, listed_active: bool) -> AccountStatus {
    if active.unwrap_or(listed_active) {
        AccountStatus::Active
    } else {
        AccountStatus::Inactive
    }
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn display_name(first: &Option<String>, last: &Option<String>) -> Option<String> {
    let parts: Vec<&str> = [non_empty(first), non_empty(last)]
        .into_iter()
        .flatten()
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// Primary candidates (the first non-empty wins), then alternates; each address once
/// (compared case-insensitively), spelled as the vendor sent it.
fn emails<'a>(primary: impl IntoIterator<Item = Option<&'a str>>, more: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |e: &str| {
        let e = e.trim();
        if !e.is_empty() && !out.iter().any(|x| x.eq_ignore_ascii_case(e)) {
            out.push(e.to_string());
        }
    };
    if let Some(p) = primary.into_iter().flatten().find(|e| !e.trim().is_empty()) {
        push(p);
    }
    for e in more {
        push(e);
    }
    out
}

/// Typed views are read from the kept `raw` value.
trait FromRaw: Sized {
    fn deserialize_from(raw: &Value) -> Result<Self, String>;
}

impl<T: serde::de::DeserializeOwned> FromRaw for T {
    fn deserialize_from(raw: &Value) -> Result<Self, String> {
        if !raw.is_object() {
            // serde would read a struct from an array too.
            return Err(format!("an item is not a JSON object: {}", excerpt(raw)));
        }
        T::deserialize(raw).map_err(|e| {
            let id = raw.get("id").map(|v| v.to_string());
            match id {
                Some(id) => format!("record {id}: {e}"),
                None => format!("record without an id: {e}"),
            }
        })
    }
}

fn excerpt(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}
