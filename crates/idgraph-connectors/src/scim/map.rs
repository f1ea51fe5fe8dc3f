//! SCIM → core records, pure: a User becomes an [`Account`] (namespace chosen by the caller,
//! `active` → active/inactive, emails primary first, `name`, `meta` timestamps, raw kept), its
//! `roles` optionally become role grants, and a Group becomes an [`Entitlement`] with one
//! membership [`Grant`] per member.

use super::model::{ScimGroup, ScimUser};
use crate::common::parse_time;
use idgraph_core::{Account, AccountKey, AccountStatus, Entitlement, EntitlementKey, Grant};
use serde_json::{Map, Value};

/// How SCIM resources land in idgraph's keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScimMapping {
    pub app: String,
    pub tenant: String,
    /// Account namespace of the users (`scim_user`, `agent`, `user`).
    pub namespace: String,
    /// Entitlement kind of Groups (`group`, `team`).
    pub group_kind: String,
    /// Entitlement kind of `roles` values; `None`: roles are not grants.
    pub role_kind: Option<String>,
    pub seat_consuming: bool,
}

/// Whether an entitlement named so administers the app (contract: names containing "admin"
/// or "owner", which covers "account admin").
pub fn is_privileged(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("admin") || n.contains("owner")
}

/// One value of a user's `roles` attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleValue {
    pub value: String,
    pub display: Option<String>,
    pub primary: bool,
}

/// A user's `roles` (RFC 7643 §4.1.2: complex values with `value`, `display`, `primary`;
/// plain strings are accepted too). Values are strings or numbers; empty ones are dropped.
pub fn roles_of(user: &ScimUser) -> Vec<RoleValue> {
    let Some(Value::Array(items)) = user.item.extra.get("roles") else {
        return Vec::new();
    };
    let text = |v: Option<&Value>| -> Option<String> {
        match v? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    items
        .iter()
        .filter_map(|r| match r {
            Value::Object(m) => Some(RoleValue {
                value: text(m.get("value"))?,
                display: text(m.get("display")),
                primary: m
                    .get("primary")
                    .and_then(idgraph_scim::types::lenient_bool)
                    .unwrap_or(false),
            }),
            other => text(Some(other)).map(|value| RoleValue {
                value,
                display: None,
                primary: false,
            }),
        })
        .collect()
}

impl ScimMapping {
    pub fn account_key(&self, id: &str) -> AccountKey {
        AccountKey {
            app: self.app.clone(),
            tenant: self.tenant.clone(),
            namespace: self.namespace.clone(),
            native_id: id.to_string(),
        }
    }

    pub fn group_key(&self, id: &str) -> EntitlementKey {
        EntitlementKey {
            app: self.app.clone(),
            tenant: self.tenant.clone(),
            kind: self.group_kind.clone(),
            native_id: id.to_string(),
        }
    }

    /// The key of a role value, when roles are read.
    pub fn role_key(&self, value: &str) -> Option<EntitlementKey> {
        self.role_kind.as_ref().map(|kind| EntitlementKey {
            app: self.app.clone(),
            tenant: self.tenant.clone(),
            kind: kind.clone(),
            native_id: value.to_string(),
        })
    }

    /// A SCIM User as an account. Fails (naming why) when the user has no `id`.
    pub fn account(&self, user: &ScimUser) -> Result<Account, String> {
        let u = &user.item;
        let id =
            u.id.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| format!("a User without an `id` (userName {:?})", u.user_name))?;
        let mut attributes = Map::new();
        if let Some(t) = text_attr(&u.extra, "title") {
            attributes.insert("job_title".into(), Value::String(t));
        }
        let dept = u
            .extra
            .get(idgraph_scim::ENTERPRISE_USER_SCHEMA)
            .and_then(|ext| ext.as_object())
            .and_then(|ext| text_attr(ext, "department"));
        if let Some(d) = dept {
            attributes.insert("department".into(), Value::String(d));
        }
        let roles = roles_of(user);
        let main_role = roles.iter().find(|r| r.primary).or_else(|| roles.first());
        if let Some(r) = main_role {
            let name = r.display.clone().unwrap_or_else(|| r.value.clone());
            attributes.insert("role".into(), Value::String(name));
        }
        let meta = u.meta.as_ref();
        Ok(Account {
            key: self.account_key(id),
            emails: emails_of(user),
            display_name: display_name_of(user),
            status: if u.active == Some(false) {
                AccountStatus::Inactive
            } else {
                AccountStatus::Active
            },
            seat_consuming: self.seat_consuming,
            attributes,
            created_at: meta.and_then(|m| time_of(m.created.as_deref())),
            updated_at: meta.and_then(|m| time_of(m.last_modified.as_deref())),
            last_login_at: None,
            raw: user.raw.clone(),
        })
    }

    /// The role grants of a user (none unless `role_kind` is set), with `primary` kept.
    pub fn role_grants(&self, account: &AccountKey, user: &ScimUser) -> Vec<Grant> {
        roles_of(user)
            .into_iter()
            .filter_map(|r| {
                let entitlement = self.role_key(&r.value)?;
                let mut attributes = Map::new();
                if r.primary {
                    attributes.insert("primary".into(), Value::Bool(true));
                }
                Some(Grant {
                    account: account.clone(),
                    entitlement,
                    attributes,
                })
            })
            .collect()
    }

    /// The role entitlements a user's `roles` name (none unless `role_kind` is set): the
    /// service has no role listing, so roles are known from their holders.
    pub fn role_entitlements(&self, user: &ScimUser) -> Vec<Entitlement> {
        roles_of(user)
            .into_iter()
            .filter_map(|r| {
                let key = self.role_key(&r.value)?;
                let name = r.display.clone().unwrap_or_else(|| r.value.clone());
                let mut raw = Map::new();
                raw.insert("value".into(), Value::String(r.value.clone()));
                if let Some(d) = &r.display {
                    raw.insert("display".into(), Value::String(d.clone()));
                }
                Some(Entitlement {
                    key,
                    privileged: is_privileged(&name),
                    name,
                    raw: Value::Object(raw),
                })
            })
            .collect()
    }

    /// A SCIM Group as an entitlement, and a membership grant per member. Members whose
    /// `type` says `Group` (nested groups) are not accounts and are skipped.
    pub fn group(&self, group: &ScimGroup) -> Result<(Entitlement, Vec<Grant>), String> {
        let g = &group.item;
        let id = g
            .id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("a Group without an `id` (displayName {:?})", g.display_name))?;
        let key = self.group_key(id);
        let name = if g.display_name.trim().is_empty() {
            id.to_string()
        } else {
            g.display_name.clone()
        };
        let grants = g
            .members
            .iter()
            .filter(|m| !m.value.trim().is_empty())
            .filter(|m| {
                m.kind
                    .as_deref()
                    .is_none_or(|k| !k.eq_ignore_ascii_case("group"))
            })
            .map(|m| Grant {
                account: self.account_key(m.value.trim()),
                entitlement: key.clone(),
                attributes: Map::new(),
            })
            .collect();
        Ok((
            Entitlement {
                key,
                privileged: is_privileged(&name),
                name,
                raw: group.raw.clone(),
            },
            grants,
        ))
    }
}

fn text_attr(obj: &Map<String, Value>, name: &str) -> Option<String> {
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn time_of(s: Option<&str>) -> Option<time::OffsetDateTime> {
    s.and_then(|s| parse_time(Some(&Value::String(s.to_string()))))
}

/// Emails as the service spells them: the `primary` one first, then the others in order, then
/// `userName` when it is an address not listed yet. Duplicates (ignoring case) are dropped.
pub fn emails_of(user: &ScimUser) -> Vec<String> {
    let u = &user.item;
    let mut out: Vec<String> = Vec::new();
    let mut push = |e: &str| {
        let e = e.trim();
        if !e.is_empty() && !out.iter().any(|x| x.eq_ignore_ascii_case(e)) {
            out.push(e.to_string());
        }
    };
    for e in u.emails.iter().filter(|e| e.primary == Some(true)) {
        push(&e.value);
    }
    for e in u.emails.iter().filter(|e| e.primary != Some(true)) {
        push(&e.value);
    }
    if u.user_name.contains('@') {
        push(&u.user_name);
    }
    out
}

/// `displayName`, else `name.formatted`, else given and family names joined.
pub fn display_name_of(user: &ScimUser) -> Option<String> {
    let u = &user.item;
    let non_empty = |s: Option<&String>| {
        s.map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    non_empty(u.display_name.as_ref())
        .or_else(|| {
            u.name
                .as_ref()
                .and_then(|n| non_empty(n.formatted.as_ref()))
        })
        .or_else(|| {
            let n = u.name.as_ref()?;
            let joined = [n.given_name.as_deref(), n.family_name.as_deref()]
                .into_iter()
                .flatten()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            (!joined.is_empty()).then_some(joined)
        })
}
