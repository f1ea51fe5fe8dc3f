//! Help Scout records → core [`Account`]s, [`Entitlement`]s and [`Grant`]s (pure, no I/O),
//! per `docs/design/002-connector-contract.md`, and the local [`EmailIndex`].
//!
//! - tenant = the configured account name; one namespace, `user` (the REST id).
//! - status: every user `GET /v2/users` lists is `active`. The list includes invited users who
//!   have not accepted yet, but neither the v2 API nor the simulator marks them (the user
//!   object has no invitation field), so they cannot be told apart. Deactivated and deleted
//!   users are never listed (no tombstone): the sync engine marks them missing, since the
//!   `users` resource declares the `user` namespace. With SCIM configured, deactivated users
//!   also come from SCIM as `inactive`, same namespace and id.
//! - seat: users hold a seat unless `type` is `virtual` or the role is a (free) light user.
//! - role (`owner`/`admin`/`user`) is a string on the user: an entitlement of kind `role`
//!   (`owner`, `admin` privileged) emitted with the users holding it; teams are entitlements of
//!   kind `team` whose memberships come from `GET /v2/teams/{id}/members`.

use super::model::{Team, User};
use crate::common::parse_time;
use idgraph_core::{
    normalize_email, Account, AccountKey, AccountStatus, Entitlement, EntitlementKey, Grant, Record,
};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

pub const APP: &str = "helpscout";
pub const USER: &str = "user";
pub const ROLE: &str = "role";
pub const TEAM: &str = "team";

/// Whether a role administers the account (`owner`, `admin`).
pub fn is_privileged(role: &str) -> bool {
    let r = role.to_ascii_lowercase();
    r.contains("owner") || r.contains("admin")
}

/// Whether a user takes a paid seat: not a `virtual` user, not a light user.
pub fn seat_consuming(u: &User) -> bool {
    let virtual_user = u
        .kind
        .as_deref()
        .is_some_and(|k| k.eq_ignore_ascii_case("virtual"));
    let light = u.role.as_deref().is_some_and(|r| {
        let r: String = r
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        r == "lightuser"
    });
    !virtual_user && !light
}

/// The key of user `id`.
pub fn user_key(tenant: &str, id: &str) -> AccountKey {
    AccountKey {
        app: APP.to_string(),
        tenant: tenant.to_string(),
        namespace: USER.to_string(),
        native_id: id.to_string(),
    }
}

fn ent_key(tenant: &str, kind: &str, id: &str) -> EntitlementKey {
    EntitlementKey {
        app: APP.to_string(),
        tenant: tenant.to_string(),
        kind: kind.to_string(),
        native_id: id.to_string(),
    }
}

/// Primary email first, then the alternates, as spelled, without repeats.
pub fn emails_of(u: &User) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in u.email.iter().chain(u.alternate_emails.iter()) {
        let e = e.trim();
        if !e.is_empty() && !out.iter().any(|x| x.eq_ignore_ascii_case(e)) {
            out.push(e.to_string());
        }
    }
    out
}

fn role_of(u: &User) -> Option<String> {
    u.role
        .as_deref()
        .map(|r| r.trim().to_ascii_lowercase())
        .filter(|r| !r.is_empty())
}

/// A listed user as an account.
pub fn user_account(tenant: &str, u: &User, raw: Value) -> Account {
    let mut attributes = Map::new();
    if let Some(r) = role_of(u) {
        attributes.insert("role".into(), json!(r));
    }
    if let Some(k) = u.kind.as_deref().filter(|k| !k.is_empty()) {
        attributes.insert("type".into(), json!(k));
    }
    if let Some(t) = u.job_title.as_deref().filter(|t| !t.trim().is_empty()) {
        attributes.insert("job_title".into(), json!(t));
    }
    let name = format!(
        "{} {}",
        u.first_name.as_deref().unwrap_or("").trim(),
        u.last_name.as_deref().unwrap_or("").trim()
    );
    Account {
        key: user_key(tenant, &u.id),
        emails: emails_of(u),
        display_name: Some(name.trim().to_string()).filter(|n| !n.is_empty()),
        status: AccountStatus::Active,
        seat_consuming: seat_consuming(u),
        attributes,
        created_at: parse_time(u.created_at.as_ref()),
        updated_at: parse_time(u.updated_at.as_ref()),
        last_login_at: None,
        raw,
    }
}

/// The `role` entitlement `role` (Help Scout has no role object: the raw record names it).
pub fn role_entitlement(tenant: &str, role: &str) -> Entitlement {
    Entitlement {
        key: ent_key(tenant, ROLE, role),
        name: role.to_string(),
        privileged: is_privileged(role),
        raw: json!({ "role": role }),
    }
}

/// One page of users (raw JSON items) → the role entitlements held on the page (once each,
/// first), then each user's account and role grant.
pub fn user_records(tenant: &str, items: Vec<Value>) -> Result<Vec<Record>, String> {
    let mut users = Vec::with_capacity(items.len());
    for (n, raw) in items.into_iter().enumerate() {
        let u: User = serde_json::from_value(raw.clone())
            .map_err(|e| format!("user {n} of the page: {e}"))?;
        users.push((u, raw));
    }
    let roles: BTreeSet<String> = users.iter().filter_map(|(u, _)| role_of(u)).collect();
    let mut out: Vec<Record> = roles
        .iter()
        .map(|r| Record::Entitlement(role_entitlement(tenant, r)))
        .collect();
    for (u, raw) in users {
        let account = user_account(tenant, &u, raw);
        let key = account.key.clone();
        out.push(Record::Account(account));
        if let Some(r) = role_of(&u) {
            out.push(Record::Grant(Grant {
                account: key,
                entitlement: ent_key(tenant, ROLE, &r),
                attributes: Map::new(),
            }));
        }
    }
    Ok(out)
}

/// One page of teams (raw JSON items) → team entitlements, and their ids.
pub fn team_records(tenant: &str, items: Vec<Value>) -> Result<(Vec<Record>, Vec<String>), String> {
    let mut out = Vec::with_capacity(items.len());
    let mut ids = Vec::with_capacity(items.len());
    for (n, raw) in items.into_iter().enumerate() {
        let t: Team = serde_json::from_value(raw.clone())
            .map_err(|e| format!("team {n} of the page: {e}"))?;
        ids.push(t.id.clone());
        out.push(Record::Entitlement(Entitlement {
            key: ent_key(tenant, TEAM, &t.id),
            name: t.name.clone().unwrap_or_else(|| t.id.clone()),
            privileged: false,
            raw,
        }));
    }
    Ok((out, ids))
}

/// Members of team `team_id` (their user ids) → membership grants.
pub fn membership_grants(tenant: &str, team_id: &str, member_ids: &[String]) -> Vec<Record> {
    member_ids
        .iter()
        .map(|id| {
            Record::Grant(Grant {
                account: user_key(tenant, id),
                entitlement: ent_key(tenant, TEAM, team_id),
                attributes: Map::new(),
            })
        })
        .collect()
}

/// Email → user id(s), built locally from listed users: the API has no email filter (guide:
/// "filtering must be done client-side after fetching all pages"). Case-insensitive (emails
/// are normalised with [`normalize_email`]); alternate emails are indexed too. An email held by
/// two users (an alias on one, the login of another) maps to both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailIndex {
    by_email: BTreeMap<String, Vec<String>>,
}

impl EmailIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that user `id` has `email`.
    pub fn insert(&mut self, id: &str, email: &str) {
        let key = normalize_email(email);
        if key.is_empty() {
            return;
        }
        let ids = self.by_email.entry(key).or_default();
        if !ids.iter().any(|x| x == id) {
            ids.push(id.to_string());
        }
    }

    /// The index of vendor users (primary and alternate emails).
    pub fn from_users<'a>(users: impl IntoIterator<Item = &'a User>) -> Self {
        let mut ix = Self::new();
        for u in users {
            for e in emails_of(u) {
                ix.insert(&u.id, &e);
            }
        }
        ix
    }

    /// The index of Help Scout accounts (every email of each; other apps' accounts skipped).
    pub fn from_accounts<'a>(accounts: impl IntoIterator<Item = &'a Account>) -> Self {
        let mut ix = Self::new();
        for a in accounts.into_iter().filter(|a| a.key.app == APP) {
            for e in &a.emails {
                ix.insert(&a.key.native_id, e);
            }
        }
        ix
    }

    /// The user ids with `email` (any letter case); empty when none.
    pub fn lookup(&self, email: &str) -> &[String] {
        self.by_email
            .get(&normalize_email(email))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Emails held by more than one user.
    pub fn ambiguous(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.by_email
            .iter()
            .filter(|(_, ids)| ids.len() > 1)
            .map(|(e, ids)| (e.as_str(), ids.as_slice()))
    }

    /// Distinct emails indexed.
    pub fn len(&self) -> usize {
        self.by_email.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_email.is_empty()
    }
}
