//! Change detection between what the store holds and what a sync just read: which fields of an
//! account or entitlement changed, which status transitions happened, which grants appeared,
//! changed or went away. The apps send no webhooks for user lifecycle, so these changes are the
//! event log. Pure functions from data to data: the store loads the previous rows and writes the
//! events these functions return.
//!
//! What counts as a change of an account: its emails, display name, seat flag, vendor creation
//! time and each attribute (`attributes.<key>`), and its status (reported as a transition
//! event). The vendor's `updated_at`, `last_login_at` and raw record are stored but not diffed:
//! they move on every edit or sign-in and would drown the log.

use crate::account::{Account, AccountKey, AccountStatus, Entitlement, EntitlementKey, Grant};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;

/// The kind of a change event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// An account seen for the first time.
    AccountAppeared,
    /// Fields other than the status changed (details name them with old and new values).
    AccountChanged,
    /// Active or pending → inactive.
    AccountDeactivated,
    /// Inactive, deleted or missing → active.
    AccountReactivated,
    /// No longer in the app's full listing: kept as a tombstone.
    AccountWentMissing,
    /// Any other status transition (pending → active, active → deleted, missing → inactive…).
    AccountStatusChanged,
    /// An entitlement seen for the first time, or again after it went missing.
    EntitlementAppeared,
    /// Its name or privileged flag changed.
    EntitlementChanged,
    /// No longer in the app's full listing of its kind: kept, marked missing.
    EntitlementWentMissing,
    /// An account now holds an entitlement.
    EntitlementGranted,
    /// An account no longer holds an entitlement.
    EntitlementRevoked,
    /// The grant's own attributes changed (e.g. a Freshservice role's assignment scope).
    EntitlementGrantChanged,
}

impl EventKind {
    /// Every kind, in declaration order.
    pub const ALL: [EventKind; 12] = [
        EventKind::AccountAppeared,
        EventKind::AccountChanged,
        EventKind::AccountDeactivated,
        EventKind::AccountReactivated,
        EventKind::AccountWentMissing,
        EventKind::AccountStatusChanged,
        EventKind::EntitlementAppeared,
        EventKind::EntitlementChanged,
        EventKind::EntitlementWentMissing,
        EventKind::EntitlementGranted,
        EventKind::EntitlementRevoked,
        EventKind::EntitlementGrantChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::AccountAppeared => "account_appeared",
            EventKind::AccountChanged => "account_changed",
            EventKind::AccountDeactivated => "account_deactivated",
            EventKind::AccountReactivated => "account_reactivated",
            EventKind::AccountWentMissing => "account_went_missing",
            EventKind::AccountStatusChanged => "account_status_changed",
            EventKind::EntitlementAppeared => "entitlement_appeared",
            EventKind::EntitlementChanged => "entitlement_changed",
            EventKind::EntitlementWentMissing => "entitlement_went_missing",
            EventKind::EntitlementGranted => "entitlement_granted",
            EventKind::EntitlementRevoked => "entitlement_revoked",
            EventKind::EntitlementGrantChanged => "entitlement_grant_changed",
        }
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EventKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
                format!(
                    "unknown event kind `{s}` (expected one of {})",
                    known.join(", ")
                )
            })
    }
}

/// One change derived from a diff, ready to become an event row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub kind: EventKind,
    /// The account concerned (account and grant events).
    pub account: Option<AccountKey>,
    /// The entitlement concerned (entitlement and grant events).
    pub entitlement: Option<EntitlementKey>,
    /// What changed: `{"from", "to"}` for status transitions, `{"fields": {name: {"old",
    /// "new"}}}` for field changes, the new record's summary for appearances. Never secrets:
    /// only normalised fields, never the raw vendor record.
    pub details: Value,
}

impl Change {
    /// The app the change happened in.
    pub fn app(&self) -> &str {
        match (&self.account, &self.entitlement) {
            (Some(a), _) => &a.app,
            (None, Some(e)) => &e.app,
            (None, None) => "",
        }
    }

    /// The vendor account (tenant) the change happened in.
    pub fn tenant(&self) -> &str {
        match (&self.account, &self.entitlement) {
            (Some(a), _) => &a.tenant,
            (None, Some(e)) => &e.tenant,
            (None, None) => "",
        }
    }
}

/// The event kind of a status transition, `None` when the status stayed.
pub fn status_transition(from: AccountStatus, to: AccountStatus) -> Option<EventKind> {
    use AccountStatus::*;
    if from == to {
        return None;
    }
    Some(match (from, to) {
        (_, Missing) => EventKind::AccountWentMissing,
        (Inactive | Missing | Deleted, Active) => EventKind::AccountReactivated,
        (Active | Pending, Inactive) => EventKind::AccountDeactivated,
        _ => EventKind::AccountStatusChanged,
    })
}

fn time_value(t: Option<OffsetDateTime>) -> Value {
    t.and_then(|t| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    })
    .map_or(Value::Null, Value::String)
}

fn field(fields: &mut Map<String, Value>, name: &str, old: Value, new: Value) {
    if old != new {
        fields.insert(name.to_string(), json!({ "old": old, "new": new }));
    }
}

fn attribute_changes(
    fields: &mut Map<String, Value>,
    prefix: &str,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) {
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for k in keys {
        let o = old.get(k).cloned().unwrap_or(Value::Null);
        let n = new.get(k).cloned().unwrap_or(Value::Null);
        field(fields, &format!("{prefix}.{k}"), o, n);
    }
}

/// The fields (other than status) in which `new` differs from `old`, as `{name: {"old",
/// "new"}}`.
pub fn account_field_changes(old: &Account, new: &Account) -> Map<String, Value> {
    let mut fields = Map::new();
    field(&mut fields, "emails", json!(old.emails), json!(new.emails));
    field(
        &mut fields,
        "display_name",
        json!(old.display_name),
        json!(new.display_name),
    );
    field(
        &mut fields,
        "seat_consuming",
        json!(old.seat_consuming),
        json!(new.seat_consuming),
    );
    field(
        &mut fields,
        "created_at",
        time_value(old.created_at),
        time_value(new.created_at),
    );
    attribute_changes(&mut fields, "attributes", &old.attributes, &new.attributes);
    fields
}

/// The changes between the stored account `prev` (whose status may be `missing`) and the
/// account just read: appeared; a status transition; changed fields.
pub fn diff_account(prev: Option<&Account>, next: &Account) -> Vec<Change> {
    let Some(prev) = prev else {
        return vec![Change {
            kind: EventKind::AccountAppeared,
            account: Some(next.key.clone()),
            entitlement: None,
            details: json!({
                "status": next.status.as_str(),
                "emails": next.emails,
                "display_name": next.display_name,
                "seat_consuming": next.seat_consuming,
            }),
        }];
    };
    let mut out = Vec::new();
    if let Some(kind) = status_transition(prev.status, next.status) {
        out.push(Change {
            kind,
            account: Some(next.key.clone()),
            entitlement: None,
            details: json!({ "from": prev.status.as_str(), "to": next.status.as_str() }),
        });
    }
    let fields = account_field_changes(prev, next);
    if !fields.is_empty() {
        out.push(Change {
            kind: EventKind::AccountChanged,
            account: Some(next.key.clone()),
            entitlement: None,
            details: json!({ "fields": fields }),
        });
    }
    out
}

/// The stored account `prev` (last status `prev.status`) is no longer listed.
pub fn account_went_missing(prev: &Account, since: OffsetDateTime) -> Change {
    Change {
        kind: EventKind::AccountWentMissing,
        account: Some(prev.key.clone()),
        entitlement: None,
        details: json!({
            "from": prev.status.as_str(),
            "to": AccountStatus::Missing.as_str(),
            "missing_since": time_value(Some(since)),
        }),
    }
}

/// The changes between the stored entitlement `prev` (`prev_missing`: marked missing) and the
/// one just read.
pub fn diff_entitlement(
    prev: Option<&Entitlement>,
    prev_missing: bool,
    next: &Entitlement,
) -> Vec<Change> {
    let appeared = |reappeared: bool| Change {
        kind: EventKind::EntitlementAppeared,
        account: None,
        entitlement: Some(next.key.clone()),
        details: json!({
            "name": next.name,
            "privileged": next.privileged,
            "reappeared": reappeared,
        }),
    };
    let Some(prev) = prev else {
        return vec![appeared(false)];
    };
    let mut out = Vec::new();
    if prev_missing {
        out.push(appeared(true));
    }
    let mut fields = Map::new();
    field(&mut fields, "name", json!(prev.name), json!(next.name));
    field(
        &mut fields,
        "privileged",
        json!(prev.privileged),
        json!(next.privileged),
    );
    if !fields.is_empty() {
        out.push(Change {
            kind: EventKind::EntitlementChanged,
            account: None,
            entitlement: Some(next.key.clone()),
            details: json!({ "fields": fields }),
        });
    }
    out
}

/// The stored entitlement `prev` is no longer listed.
pub fn entitlement_went_missing(prev: &Entitlement, since: OffsetDateTime) -> Change {
    Change {
        kind: EventKind::EntitlementWentMissing,
        account: None,
        entitlement: Some(prev.key.clone()),
        details: json!({ "name": prev.name, "missing_since": time_value(Some(since)) }),
    }
}

fn grant_details(g: &Grant, extra: Option<(&str, Value)>) -> Value {
    let mut d = Map::new();
    d.insert("attributes".into(), Value::Object(g.attributes.clone()));
    if g.entitlement.tenant != g.account.tenant {
        d.insert(
            "entitlement_tenant".into(),
            Value::String(g.entitlement.tenant.clone()),
        );
    }
    if let Some((k, v)) = extra {
        d.insert(k.into(), v);
    }
    Value::Object(d)
}

fn grant_change(kind: EventKind, g: &Grant, details: Value) -> Change {
    Change {
        kind,
        account: Some(g.account.clone()),
        entitlement: Some(g.entitlement.clone()),
        details,
    }
}

/// What a set of grants read means against the stored ones.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GrantDiff {
    /// Granted, grant-changed and revoked events, in a stable order.
    pub changes: Vec<Change>,
    /// Stored grants to delete (revoked).
    pub revoked: Vec<Grant>,
}

/// Compares stored grants `prev` with grants just read, `next` (one grant per account and
/// entitlement; a later duplicate wins). With `revoke_unlisted`, stored grants absent from
/// `next` are revoked (the caller passes only the stored grants that `next` replaces).
pub fn diff_grants(prev: &[Grant], next: &[Grant], revoke_unlisted: bool) -> GrantDiff {
    type Key<'a> = (&'a AccountKey, &'a EntitlementKey);
    let old: BTreeMap<Key<'_>, &Grant> = prev
        .iter()
        .map(|g| ((&g.account, &g.entitlement), g))
        .collect();
    let new: BTreeMap<Key<'_>, &Grant> = next
        .iter()
        .map(|g| ((&g.account, &g.entitlement), g))
        .collect();
    let mut out = GrantDiff::default();
    for (k, g) in &new {
        match old.get(k) {
            None => out.changes.push(grant_change(
                EventKind::EntitlementGranted,
                g,
                grant_details(g, None),
            )),
            Some(o) if o.attributes != g.attributes => {
                let mut fields = Map::new();
                attribute_changes(&mut fields, "attributes", &o.attributes, &g.attributes);
                out.changes.push(grant_change(
                    EventKind::EntitlementGrantChanged,
                    g,
                    grant_details(g, Some(("fields", Value::Object(fields)))),
                ));
            }
            Some(_) => {}
        }
    }
    if revoke_unlisted {
        for (k, g) in &old {
            if !new.contains_key(k) {
                out.changes.push(grant_change(
                    EventKind::EntitlementRevoked,
                    g,
                    grant_details(g, None),
                ));
                out.revoked.push((*g).clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn key(id: &str) -> AccountKey {
        AccountKey {
            app: "freshservice".into(),
            tenant: "acme.freshservice.com".into(),
            namespace: "agent".into(),
            native_id: id.into(),
        }
    }

    fn account(id: &str, status: AccountStatus) -> Account {
        Account {
            key: key(id),
            emails: vec!["Jane@Acme.Example".into()],
            display_name: Some("Jane".into()),
            status,
            seat_consuming: true,
            attributes: Map::new(),
            created_at: Some(datetime!(2024-01-01 0:00 UTC)),
            updated_at: None,
            last_login_at: None,
            raw: json!({"id": 1}),
        }
    }

    fn ent(id: &str, name: &str) -> Entitlement {
        Entitlement {
            key: EntitlementKey {
                app: "freshservice".into(),
                tenant: "acme.freshservice.com".into(),
                kind: "role".into(),
                native_id: id.into(),
            },
            name: name.into(),
            privileged: false,
            raw: json!({}),
        }
    }

    fn grant(account: &str, role: &str, scope: &str) -> Grant {
        let mut attributes = Map::new();
        attributes.insert("assignment_scope".into(), json!(scope));
        Grant {
            account: key(account),
            entitlement: ent(role, "r").key,
            attributes,
        }
    }

    fn kinds(c: &[Change]) -> Vec<EventKind> {
        c.iter().map(|c| c.kind).collect()
    }

    #[test]
    fn event_kinds_round_trip_through_text() {
        for k in EventKind::ALL {
            assert_eq!(k.as_str().parse::<EventKind>(), Ok(k));
            assert_eq!(serde_json::to_value(k).unwrap(), json!(k.as_str()));
        }
        assert!("account_exploded"
            .parse::<EventKind>()
            .unwrap_err()
            .contains("account_exploded"));
    }

    #[test]
    fn status_transitions_name_lifecycle_moves() {
        use AccountStatus::*;
        assert_eq!(status_transition(Active, Active), None);
        assert_eq!(
            status_transition(Active, Inactive),
            Some(EventKind::AccountDeactivated)
        );
        assert_eq!(
            status_transition(Pending, Inactive),
            Some(EventKind::AccountDeactivated)
        );
        assert_eq!(
            status_transition(Inactive, Active),
            Some(EventKind::AccountReactivated)
        );
        assert_eq!(
            status_transition(Missing, Active),
            Some(EventKind::AccountReactivated)
        );
        assert_eq!(
            status_transition(Active, Missing),
            Some(EventKind::AccountWentMissing)
        );
        assert_eq!(
            status_transition(Pending, Active),
            Some(EventKind::AccountStatusChanged)
        );
        assert_eq!(
            status_transition(Missing, Inactive),
            Some(EventKind::AccountStatusChanged)
        );
    }

    #[test]
    fn a_new_account_appears_and_an_unchanged_one_says_nothing() {
        let a = account("1", AccountStatus::Active);
        let c = diff_account(None, &a);
        assert_eq!(kinds(&c), vec![EventKind::AccountAppeared]);
        assert_eq!(c[0].details["status"], "active");
        assert_eq!(c[0].app(), "freshservice");
        assert_eq!(c[0].tenant(), "acme.freshservice.com");
        assert!(diff_account(Some(&a), &a).is_empty());
    }

    #[test]
    fn volatile_fields_are_not_changes() {
        let a = account("1", AccountStatus::Active);
        let mut b = a.clone();
        b.updated_at = Some(datetime!(2024-05-01 0:00 UTC));
        b.last_login_at = Some(datetime!(2024-05-01 0:00 UTC));
        b.raw = json!({"id": 1, "updated_at": "2024-05-01T00:00:00Z"});
        assert!(diff_account(Some(&a), &b).is_empty());
    }

    #[test]
    fn changed_fields_carry_old_and_new_values() {
        let a = account("1", AccountStatus::Active);
        let mut b = a.clone();
        b.display_name = Some("Jane Doe".into());
        b.attributes.insert("job_title".into(), json!("CFO"));
        b.status = AccountStatus::Inactive;
        let c = diff_account(Some(&a), &b);
        assert_eq!(
            kinds(&c),
            vec![EventKind::AccountDeactivated, EventKind::AccountChanged]
        );
        assert_eq!(c[0].details, json!({"from": "active", "to": "inactive"}));
        assert_eq!(
            c[1].details["fields"],
            json!({
                "display_name": {"old": "Jane", "new": "Jane Doe"},
                "attributes.job_title": {"old": null, "new": "CFO"},
            })
        );
    }

    #[test]
    fn a_missing_account_seen_again_is_reactivated() {
        let mut a = account("1", AccountStatus::Missing);
        let b = account("1", AccountStatus::Active);
        let c = diff_account(Some(&a), &b);
        assert_eq!(kinds(&c), vec![EventKind::AccountReactivated]);
        a.status = AccountStatus::Active;
        let gone = account_went_missing(&a, datetime!(2024-02-01 0:00 UTC));
        assert_eq!(gone.kind, EventKind::AccountWentMissing);
        assert_eq!(gone.details["from"], "active");
        assert_eq!(gone.details["missing_since"], "2024-02-01T00:00:00Z");
    }

    #[test]
    fn entitlements_appear_change_and_reappear() {
        let r = ent("9", "Admin");
        assert_eq!(
            kinds(&diff_entitlement(None, false, &r)),
            vec![EventKind::EntitlementAppeared]
        );
        assert!(diff_entitlement(Some(&r), false, &r).is_empty());
        let mut r2 = r.clone();
        r2.privileged = true;
        let c = diff_entitlement(Some(&r), true, &r2);
        assert_eq!(
            kinds(&c),
            vec![
                EventKind::EntitlementAppeared,
                EventKind::EntitlementChanged
            ]
        );
        assert_eq!(c[0].details["reappeared"], true);
        assert_eq!(
            c[1].details["fields"]["privileged"],
            json!({"old": false, "new": true})
        );
        assert_eq!(
            entitlement_went_missing(&r, datetime!(2024-02-01 0:00 UTC)).kind,
            EventKind::EntitlementWentMissing
        );
    }

    #[test]
    fn grants_are_granted_changed_and_revoked_only_when_replacing() {
        let prev = vec![grant("1", "a", "all"), grant("1", "b", "all")];
        let next = vec![grant("1", "a", "group"), grant("1", "c", "all")];
        let d = diff_grants(&prev, &next, true);
        assert_eq!(
            kinds(&d.changes),
            vec![
                EventKind::EntitlementGrantChanged,
                EventKind::EntitlementGranted,
                EventKind::EntitlementRevoked
            ]
        );
        assert_eq!(
            d.changes[0].details["fields"]["attributes.assignment_scope"],
            json!({"old": "all", "new": "group"})
        );
        assert_eq!(d.revoked, vec![grant("1", "b", "all")]);

        let d = diff_grants(&prev, &next, false);
        assert_eq!(
            kinds(&d.changes),
            vec![
                EventKind::EntitlementGrantChanged,
                EventKind::EntitlementGranted
            ]
        );
        assert!(d.revoked.is_empty());
        assert!(diff_grants(&prev, &prev, true).changes.is_empty());
    }
}
