//! FreshBooks records → core [`Account`]s, [`Entitlement`]s and [`Grant`]s (pure, no I/O),
//! per `docs/design/002-connector-contract.md`:
//!
//! - tenant = the business id: a member or invitation belongs to one business;
//! - namespaces `member` (member ids) and `invitation` (invitation ids);
//! - status: member `active: true` → active; `active: false` and never confirmed → pending
//!   (invited, not yet accepted); `active: false` otherwise → inactive; pending invitations →
//!   pending;
//! - every member and invitation holds a seat (team members are billed per seat);
//! - roles are strings on the membership: entitlements of kind `business_role` per business,
//!   `native_id` = the role name, `owner` and `admin` privileged.

use super::model::{Invitation, Me, Member};
use crate::common::parse_time;
use idgraph_core::{
    Account, AccountKey, AccountStatus, Entitlement, EntitlementKey, Grant, Record,
};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use time::OffsetDateTime;

pub const APP: &str = "freshbooks";
pub const MEMBER: &str = "member";
pub const INVITATION: &str = "invitation";
pub const BUSINESS_ROLE: &str = "business_role";

/// The roles a FreshBooks business knows (the owner plus the assignable ones).
pub const ROLES: [&str; 6] = [
    "owner",
    "admin",
    "manager",
    "employee",
    "contractor",
    "accountant",
];

/// A business the token owner administers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Business {
    pub id: String,
    pub name: Option<String>,
    /// The token owner's role there (`owner` or `admin`).
    pub role: String,
}

/// Whether a role administers the business.
pub fn is_privileged(role: &str) -> bool {
    let r = role.to_ascii_lowercase();
    r.contains("owner") || r.contains("admin")
}

/// The businesses of `users/me` where the token owner is owner or admin (only those let the
/// token list members), each once, in the order FreshBooks lists them.
pub fn administered_businesses(me: &Me) -> Vec<Business> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for m in &me.business_memberships {
        let Some(id) = m.business_id() else { continue };
        let role = m.role.clone().unwrap_or_default().to_ascii_lowercase();
        if !(role == "owner" || role == "admin") {
            tracing::debug!(business = id, role = %role, "FreshBooks: token owner does not administer this business; skipped");
            continue;
        }
        if seen.insert(id.to_string()) {
            out.push(Business {
                id: id.to_string(),
                name: m.business.as_ref().and_then(|b| b.name.clone()),
                role,
            });
        }
    }
    out
}

/// A vendor timestamp: RFC 3339, or FreshBooks' `YYYY-MM-DD HH:MM:SS` (read as UTC).
pub fn vendor_time(v: Option<&Value>) -> Option<OffsetDateTime> {
    if let Some(t) = parse_time(v) {
        return Some(t);
    }
    let s = v?.as_str()?;
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::PrimitiveDateTime::parse(s.trim(), &fmt)
        .ok()
        .map(|t| t.assume_utc())
}

fn display_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let name = format!(
        "{} {}",
        first.unwrap_or("").trim(),
        last.unwrap_or("").trim()
    );
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_string())
}

fn role_key(business_id: &str, role: &str) -> EntitlementKey {
    EntitlementKey {
        app: APP.to_string(),
        tenant: business_id.to_string(),
        kind: BUSINESS_ROLE.to_string(),
        native_id: role.to_string(),
    }
}

/// The `business_role` entitlement `role` of a business. FreshBooks has no role object: the
/// raw record names the business and the role.
pub fn role_entitlement(business_id: &str, business_name: Option<&str>, role: &str) -> Entitlement {
    Entitlement {
        key: role_key(business_id, role),
        name: role.to_string(),
        privileged: is_privileged(role),
        raw: json!({ "business_id": business_id, "business_name": business_name, "role": role }),
    }
}

/// The role entitlements of a business: the known roles.
pub fn business_roles(business: &Business) -> Vec<Record> {
    ROLES
        .iter()
        .map(|r| Record::Entitlement(role_entitlement(&business.id, business.name.as_deref(), r)))
        .collect()
}

/// A member's status (see the module doc).
pub fn member_status(m: &Member) -> AccountStatus {
    match (m.active.unwrap_or(true), m.confirmed.unwrap_or(true)) {
        (true, _) => AccountStatus::Active,
        (false, false) => AccountStatus::Pending,
        (false, true) => AccountStatus::Inactive,
    }
}

fn role_of(role: Option<&str>) -> Option<String> {
    role.map(|r| r.trim().to_string()).filter(|r| !r.is_empty())
}

/// A member as an account.
pub fn member_account(business_id: &str, m: &Member, raw: Value) -> Account {
    let mut attributes = Map::new();
    if let Some(r) = role_of(m.role.as_deref()) {
        attributes.insert("role".into(), json!(r));
    }
    if let Some(t) = m.job_title.as_deref().filter(|t| !t.trim().is_empty()) {
        attributes.insert("job_title".into(), json!(t));
    }
    if let Some(i) = &m.identity_id {
        attributes.insert("identity_id".into(), json!(i));
    }
    Account {
        key: AccountKey {
            app: APP.to_string(),
            tenant: business_id.to_string(),
            namespace: MEMBER.to_string(),
            native_id: m.id.clone(),
        },
        emails: m
            .email
            .iter()
            .filter(|e| !e.trim().is_empty())
            .cloned()
            .collect(),
        display_name: display_name(m.first_name.as_deref(), m.last_name.as_deref()),
        status: member_status(m),
        seat_consuming: true,
        attributes,
        created_at: vendor_time(m.created_at.as_ref()),
        updated_at: vendor_time(m.updated_at.as_ref()),
        last_login_at: None,
        raw,
    }
}

/// A pending invitation as an account (`created_at` = when it was sent).
pub fn invitation_account(business_id: &str, i: &Invitation, raw: Value) -> Account {
    let mut attributes = Map::new();
    if let Some(r) = role_of(i.role.as_deref()) {
        attributes.insert("role".into(), json!(r));
    }
    Account {
        key: AccountKey {
            app: APP.to_string(),
            tenant: business_id.to_string(),
            namespace: INVITATION.to_string(),
            native_id: i.id.clone(),
        },
        emails: vec![i.email.clone()],
        display_name: display_name(i.first_name.as_deref(), i.last_name.as_deref()),
        status: AccountStatus::Pending,
        seat_consuming: true,
        attributes,
        created_at: vendor_time(i.created_at.as_ref()),
        updated_at: vendor_time(i.updated_at.as_ref()),
        last_login_at: None,
        raw,
    }
}

/// Builds one page's records: for each account its role grant; roles outside [`ROLES`] (which
/// the `roles` resource does not list) also come as entitlements, once per page, first.
fn with_role_grants(business_id: &str, items: Vec<(Account, Option<String>)>) -> Vec<Record> {
    let mut unknown: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::with_capacity(items.len() * 2);
    for (_, role) in &items {
        if let Some(r) = role {
            if !ROLES.contains(&r.as_str()) && unknown.insert(r.clone()) {
                out.push(Record::Entitlement(role_entitlement(business_id, None, r)));
            }
        }
    }
    for (account, role) in items {
        let key = account.key.clone();
        out.push(Record::Account(account));
        if let Some(r) = role {
            out.push(Record::Grant(Grant {
                account: key,
                entitlement: role_key(business_id, &r),
                attributes: Map::new(),
            }));
        }
    }
    out
}

/// One page of members (raw JSON items) → records. An item that is not a member names its
/// position and what is wrong.
pub fn member_records(business_id: &str, items: Vec<Value>) -> Result<Vec<Record>, String> {
    let mut accounts = Vec::with_capacity(items.len());
    for (n, raw) in items.into_iter().enumerate() {
        let m: Member = serde_json::from_value(raw.clone())
            .map_err(|e| format!("member {n} of the page: {e}"))?;
        let role = role_of(m.role.as_deref());
        accounts.push((member_account(business_id, &m, raw), role));
    }
    Ok(with_role_grants(business_id, accounts))
}

/// One page of invitations (raw JSON items) → records; only pending ones are listed (the API
/// shows no others; anything else would already be a member or revoked).
pub fn invitation_records(business_id: &str, items: Vec<Value>) -> Result<Vec<Record>, String> {
    let mut accounts = Vec::with_capacity(items.len());
    for (n, raw) in items.into_iter().enumerate() {
        let i: Invitation = serde_json::from_value(raw.clone())
            .map_err(|e| format!("invitation {n} of the page: {e}"))?;
        let pending = i
            .status
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case("pending"));
        if !pending {
            tracing::debug!(business = %business_id, invitation = %i.id, status = ?i.status, "FreshBooks: invitation not pending; skipped");
            continue;
        }
        let role = role_of(i.role.as_deref());
        accounts.push((invitation_account(business_id, &i, raw), role));
    }
    Ok(with_role_grants(business_id, accounts))
}
