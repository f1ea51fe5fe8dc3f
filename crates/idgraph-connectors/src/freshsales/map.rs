//! Freshsales → core records, pure: a REST owner becomes an account in namespace `user` (CRM
//! id) with its role grant; a role becomes a `role` entitlement; SCIM users and groups map
//! through [`crate::scim::ScimMapping`] into namespace `scim_user` and kind `group`. The two
//! namespaces are joined by email (`scim_id` on the REST record, `crm_id` on the SCIM one),
//! and both records are kept.

use super::model::{Owner, Role, WithRaw};
use crate::common::parse_time;
use crate::scim::{is_privileged, ScimMapping};
use idgraph_core::{
    normalize_email, Account, AccountKey, AccountStatus, Entitlement, EntitlementKey, Grant,
};
use serde_json::{Map, Value};

pub const APP: &str = "freshsales";
/// Namespace of REST (CRM) users.
pub const NS_USER: &str = "user";
/// Namespace of SCIM users (Freshworks ids, their own id space).
pub const NS_SCIM_USER: &str = "scim_user";

pub fn user_key(tenant: &str, crm_id: &str) -> AccountKey {
    AccountKey {
        app: APP.into(),
        tenant: tenant.into(),
        namespace: NS_USER.into(),
        native_id: crm_id.into(),
    }
}

pub fn role_key(tenant: &str, role_id: &str) -> EntitlementKey {
    EntitlementKey {
        app: APP.into(),
        tenant: tenant.into(),
        kind: "role".into(),
        native_id: role_id.into(),
    }
}

/// How Freshsales SCIM resources map: users in `scim_user`, their `roles` values (CRM role
/// ids, as `selector/roles` lists them) as role grants, Groups (which are roles) as `group`.
pub fn scim_mapping(tenant: &str) -> ScimMapping {
    ScimMapping {
        app: APP.into(),
        tenant: tenant.into(),
        namespace: NS_SCIM_USER.into(),
        group_kind: "group".into(),
        role_kind: Some("role".into()),
        seat_consuming: true,
    }
}

/// A role from `selector/roles`.
pub fn role_entitlement(tenant: &str, role: &WithRaw<Role>) -> Entitlement {
    let name = if role.item.name.trim().is_empty() {
        role.item.id.clone()
    } else {
        role.item.name.clone()
    };
    Entitlement {
        key: role_key(tenant, &role.item.id),
        privileged: is_privileged(&name),
        name,
        raw: role.raw.clone(),
    }
}

fn non_empty(s: Option<&String>) -> Option<String> {
    s.map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A REST user as an account. `role_name` comes from `selector/roles`; `scim_id` from the
/// SCIM user with the same email.
pub fn owner_account(
    tenant: &str,
    owner: &WithRaw<Owner>,
    role_name: Option<&str>,
    scim_id: Option<&str>,
) -> Account {
    let o = &owner.item;
    let display_name = non_empty(o.display_name.as_ref())
        .or_else(|| non_empty(o.name.as_ref()))
        .or_else(|| {
            let joined = [o.first_name.as_deref(), o.last_name.as_deref()]
                .into_iter()
                .flatten()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            (!joined.is_empty()).then_some(joined)
        });
    let mut attributes = Map::new();
    if let Some(t) = non_empty(o.job_title.as_ref()) {
        attributes.insert("job_title".into(), Value::String(t));
    }
    if let Some(r) = role_name {
        attributes.insert("role".into(), Value::String(r.to_string()));
    }
    if let Some(s) = scim_id {
        attributes.insert("scim_id".into(), Value::String(s.to_string()));
    }
    Account {
        key: user_key(tenant, &o.id),
        emails: non_empty(o.email.as_ref()).into_iter().collect(),
        display_name,
        // `selector/owners` lists active users only; `is_active: false` would be a
        // deactivated (or not yet accepted) user.
        status: if o.is_active == Some(false) {
            AccountStatus::Inactive
        } else {
            AccountStatus::Active
        },
        seat_consuming: true,
        attributes,
        created_at: parse_time(owner.raw.get("created_at")),
        updated_at: parse_time(owner.raw.get("updated_at")),
        last_login_at: parse_time(owner.raw.get("last_login_at")),
        raw: owner.raw.clone(),
    }
}

/// The grant of an owner's `role_id`.
pub fn owner_role_grant(tenant: &str, account: &AccountKey, owner: &Owner) -> Option<Grant> {
    owner.role_id.as_ref().map(|r| Grant {
        account: account.clone(),
        entitlement: role_key(tenant, r),
        attributes: Map::new(),
    })
}

/// The join key of an email: trimmed and lower-cased.
pub fn email_key(email: &str) -> String {
    normalize_email(email)
}

/// Adds the other namespace's id to an account (`scim_id` on a REST user, `crm_id` on a SCIM
/// user).
pub fn add_link(account: &mut Account, attribute: &str, id: &str) {
    account
        .attributes
        .insert(attribute.to_string(), Value::String(id.to_string()));
}
