//! Freshdesk records → core records, without I/O (design 002).
//!
//! - Agents are accounts in namespace `agent`, contacts in `contact` (one user id space).
//! - Agent status: `deactivated: true` → `inactive`; confirmed and not deactivated → `active`;
//!   listed under `active=false` but not deactivated → never confirmed → `pending` (docs/
//!   simulators.md "Unconfirmed vs deactivated agent"). An API version without `deactivated`
//!   is read through the embedded `contact.active` (verified): a verified agent in the
//!   inactive list was deactivated, an unverified one never confirmed.
//! - An agent takes a seat unless it is occasional, a field agent or a collaborator.
//! - `role_ids` and `group_ids` on the agent record become `role` and `group` grants.
//! - Contacts: `deleted: true` → `deleted`, else `active`; never a seat. Emails: `email`, then
//!   `other_emails`.
//! - `last_login_at` comes from the agent's `contact.last_login_at`.

use super::model::{Agent, Contact, Named};
use crate::common::parse_time;
use idgraph_core::{
    Account, AccountKey, AccountStatus, Entitlement, EntitlementKey, Grant, Record,
};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

pub const APP: &str = "freshdesk";

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

/// Whether a role of this name administers the app ("Account Administrator",
/// "Administrator", "… Owner").
pub fn is_privileged(role_name: &str) -> bool {
    let n = role_name.to_ascii_lowercase();
    n.contains("admin") || n.contains("owner")
}

/// A role or an agent group (`kind` = `role`, `group`).
pub fn entitlement(tenant: &str, kind: &str, raw: Value) -> Result<Entitlement, String> {
    let n: Named = from_raw(&raw)?;
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

/// The status of an agent listed in the default list (`listed_active`) or under `active=false`.
pub fn agent_status(a: &Agent, listed_active: bool) -> AccountStatus {
    if a.deactivated == Some(true) {
        return AccountStatus::Inactive;
    }
    if a.active == Some(true) || (listed_active && a.active.is_none()) {
        return AccountStatus::Active;
    }
    match a.deactivated {
        Some(_) => AccountStatus::Pending,
        // No `deactivated` flag: a verified person who is not active was deactivated.
        None if a.contact.as_ref().and_then(|c| c.active) == Some(true) => AccountStatus::Inactive,
        None => AccountStatus::Pending,
    }
}

/// An agent and its role and group grants, from one item of an agent list.
pub fn agent(tenant: &str, raw: Value, listed_active: bool) -> Result<Vec<Record>, String> {
    let a: Agent = from_raw(&raw)?;
    let key = account_key(tenant, "agent", a.id);
    let contact = a.contact.clone().unwrap_or_default();
    let occasional = a.occasional.unwrap_or(false);
    let kind = a.kind.clone().filter(|k| !k.trim().is_empty());
    let mut attributes = Map::new();
    if let Some(t) = non_empty(&a.job_title).or(non_empty(&contact.job_title)) {
        attributes.insert("job_title".into(), json!(t));
    }
    attributes.insert("occasional".into(), json!(occasional));
    if let Some(k) = &kind {
        attributes.insert("type".into(), json!(k));
    }
    if let Some(s) = a.ticket_scope {
        attributes.insert("ticket_scope".into(), json!(s));
    }
    let field_or_collaborator = matches!(kind.as_deref(), Some("field_agent" | "collaborator"));

    let mut out = Vec::new();
    for (kind, ids) in [("role", &a.role_ids), ("group", &a.group_ids)] {
        let mut seen: Vec<u64> = Vec::new();
        for id in ids {
            if !seen.contains(id) {
                seen.push(*id);
                out.push(Record::Grant(Grant {
                    account: key.clone(),
                    entitlement: entitlement_key(tenant, kind, *id),
                    attributes: Map::new(),
                }));
            }
        }
    }
    let account = Account {
        emails: emails([a.email.as_deref(), contact.email.as_deref()], &[]),
        display_name: non_empty(&a.name)
            .or(non_empty(&contact.name))
            .map(str::to_string),
        status: agent_status(&a, listed_active),
        seat_consuming: !occasional && !field_or_collaborator,
        attributes,
        created_at: parse_time(raw.get("created_at")),
        updated_at: parse_time(raw.get("updated_at")),
        last_login_at: parse_time(raw.get("contact").and_then(|c| c.get("last_login_at"))),
        key,
        raw,
    };
    out.insert(0, Record::Account(account));
    Ok(out)
}

/// A contact, from one item of a contact list (`listed_deleted`: the `deleted=true` list).
pub fn contact(tenant: &str, raw: Value, listed_deleted: bool) -> Result<Account, String> {
    let c: Contact = from_raw(&raw)?;
    let mut attributes = Map::new();
    if let Some(t) = non_empty(&c.job_title) {
        attributes.insert("job_title".into(), json!(t));
    }
    let status = if c.deleted.unwrap_or(listed_deleted) {
        AccountStatus::Deleted
    } else {
        AccountStatus::Active
    };
    Ok(Account {
        key: account_key(tenant, "contact", c.id),
        emails: emails([c.email.as_deref()], &c.other_emails),
        display_name: non_empty(&c.name).map(str::to_string),
        status,
        seat_consuming: false,
        attributes,
        created_at: parse_time(raw.get("created_at")),
        updated_at: parse_time(raw.get("updated_at")),
        last_login_at: parse_time(raw.get("last_login_at")),
        raw,
    })
}

/// A list item's `id` and `created_at`, read leniently (for paging decisions, before mapping).
pub fn id_and_created(raw: &Value) -> (Option<u64>, Option<OffsetDateTime>) {
    (
        raw.get("id").and_then(Value::as_u64),
        parse_time(raw.get("created_at")),
    )
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
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

/// The typed view of a kept `raw` item; errors name the record.
fn from_raw<T: serde::de::DeserializeOwned>(raw: &Value) -> Result<T, String> {
    if !raw.is_object() {
        // serde would read a struct from an array too.
        let s = raw.to_string();
        let s = match s.char_indices().nth(80) {
            Some((i, _)) => format!("{}…", &s[..i]),
            None => s,
        };
        return Err(format!("an item is not a JSON object: {s}"));
    }
    T::deserialize(raw).map_err(|e| match raw.get("id") {
        Some(id) => format!("record {id}: {e}"),
        None => format!("record without an id: {e}"),
    })
}
