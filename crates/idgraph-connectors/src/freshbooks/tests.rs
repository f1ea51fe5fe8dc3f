//! Unit tests of the FreshBooks mapping, configuration and error classification (no I/O).

use super::config::FreshbooksConfig;
use super::map::*;
use super::model::Me;
use idgraph_core::{AccountStatus, Record};
use serde_json::json;
use time::macros::datetime;

fn member(v: serde_json::Value) -> Vec<Record> {
    member_records("77001", vec![v]).unwrap()
}

fn accounts(records: &[Record]) -> Vec<&idgraph_core::Account> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Account(a) => Some(a),
            _ => None,
        })
        .collect()
}

#[test]
fn member_status_follows_active_and_confirmed() {
    let cases = [
        (
            json!({"id": 1, "active": true, "confirmed": true}),
            AccountStatus::Active,
        ),
        // Active but unconfirmed email: can act, so active.
        (
            json!({"id": 2, "active": true, "confirmed": false}),
            AccountStatus::Active,
        ),
        (
            json!({"id": 3, "active": false, "confirmed": true}),
            AccountStatus::Inactive,
        ),
        // Never accepted: invited.
        (
            json!({"id": 4, "active": false, "confirmed": false}),
            AccountStatus::Pending,
        ),
        // The guide's example has neither field: a listed member is active.
        (
            json!({"id": 5, "email": "staff@example.com", "role": "employee"}),
            AccountStatus::Active,
        ),
    ];
    for (raw, want) in cases {
        let recs = member(raw.clone());
        let a = accounts(&recs)[0];
        assert_eq!(a.status, want, "{raw}");
    }
}

#[test]
fn member_account_keys_tenant_seats_attributes_and_raw() {
    let raw = json!({
        "id": 4412, "identity_id": 1000007, "business_id": 77001,
        "email": "Jane.Doe@Acme.example", "first_name": "Jane", "last_name": "Doe",
        "job_title": "Controller", "role": "accountant", "active": true, "confirmed": true,
        "created_at": "2024-01-10T10:00:00Z", "updated_at": "2024-02-01 09:30:00",
        "permissions": {}
    });
    let recs = member(raw.clone());
    let a = accounts(&recs)[0];
    assert_eq!(a.key.app, "freshbooks");
    assert_eq!(a.key.tenant, "77001");
    assert_eq!(a.key.namespace, "member");
    assert_eq!(a.key.native_id, "4412");
    assert_eq!(a.emails, vec!["Jane.Doe@Acme.example"], "spelling kept");
    assert_eq!(a.display_name.as_deref(), Some("Jane Doe"));
    assert!(a.seat_consuming);
    assert_eq!(a.attributes["role"], "accountant");
    assert_eq!(a.attributes["job_title"], "Controller");
    assert_eq!(a.attributes["identity_id"], "1000007");
    assert_eq!(a.created_at, Some(datetime!(2024-01-10 10:00 UTC)));
    assert_eq!(
        a.updated_at,
        Some(datetime!(2024-02-01 09:30 UTC)),
        "FreshBooks' own format"
    );
    assert_eq!(a.raw, raw, "raw kept as received");
    // The grant names the role in the same business.
    let grants: Vec<_> = recs
        .iter()
        .filter_map(|r| match r {
            Record::Grant(g) => Some(g),
            _ => None,
        })
        .collect();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].account, a.key);
    assert_eq!(grants[0].entitlement.kind, "business_role");
    assert_eq!(grants[0].entitlement.tenant, "77001");
    assert_eq!(grants[0].entitlement.native_id, "accountant");
}

#[test]
fn unknown_roles_come_with_their_entitlement_once_per_page() {
    let recs = member_records(
        "77002",
        vec![
            json!({"id": 1, "role": "bookkeeper"}),
            json!({"id": 2, "role": "bookkeeper"}),
            json!({"id": 3, "role": "admin"}),
        ],
    )
    .unwrap();
    let ents: Vec<_> = recs
        .iter()
        .filter_map(|r| match r {
            Record::Entitlement(e) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(ents.len(), 1, "known roles come from the roles resource");
    assert_eq!(ents[0].key.native_id, "bookkeeper");
    assert!(!ents[0].privileged);
    assert!(
        matches!(recs[0], Record::Entitlement(_)),
        "entitlements first"
    );
}

#[test]
fn privileged_roles_are_owner_and_admin() {
    let b = Business {
        id: "77001".into(),
        name: Some("Acme".into()),
        role: "owner".into(),
    };
    let recs = business_roles(&b);
    assert_eq!(recs.len(), ROLES.len());
    for r in recs {
        let Record::Entitlement(e) = r else {
            panic!("not an entitlement")
        };
        assert_eq!(e.key.tenant, "77001");
        assert_eq!(e.key.kind, "business_role");
        assert_eq!(
            e.privileged,
            e.name == "owner" || e.name == "admin",
            "{}",
            e.name
        );
    }
}

#[test]
fn invitations_are_pending_seats_created_when_sent() {
    let recs = invitation_records(
        "77001",
        vec![
            json!({"id": 55, "email": "newstaff@example.com", "role": "employee", "status": "pending",
                   "created_at": "2026-05-20T08:00:00Z"}),
            json!({"id": 56, "email": "gone@example.com", "status": "revoked"}),
        ],
    )
    .unwrap();
    let accs = accounts(&recs);
    assert_eq!(accs.len(), 1, "only pending invitations are accounts");
    let a = accs[0];
    assert_eq!(a.key.namespace, "invitation");
    assert_eq!(a.key.native_id, "55");
    assert_eq!(a.status, AccountStatus::Pending);
    assert!(a.seat_consuming);
    assert_eq!(a.created_at, Some(datetime!(2026-05-20 08:00 UTC)));
}

#[test]
fn a_member_of_the_wrong_shape_is_named() {
    let err = member_records("77001", vec![json!({"id": 1}), json!({"id": {"x": 1}})]).unwrap_err();
    assert!(err.contains("member 1"), "{err}");
    let err = invitation_records("77001", vec![json!({"id": 9})]).unwrap_err();
    assert!(
        err.contains("invitation 0") && err.contains("email"),
        "{err}"
    );
}

#[test]
fn businesses_are_those_administered_once_each() {
    let me: Me = serde_json::from_value(json!({
        "id": 1000001,
        "business_memberships": [
            {"id": 1, "role": "owner", "business_id": 77001, "business": {"id": 77001, "name": "Acme"}},
            {"id": 2, "role": "employee", "business": {"id": 77003}},
            {"role": "admin", "business_id": "77002"},
            {"id": 4, "role": "admin", "business": {"id": 77001}}
        ]
    }))
    .unwrap();
    let list = administered_businesses(&me);
    let ids: Vec<_> = list.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(ids, vec!["77001", "77002"]);
    assert_eq!(list[0].name.as_deref(), Some("Acme"));
}

#[test]
fn config_defaults_and_secret_never_prints() {
    let cfg: FreshbooksConfig = serde_json::from_value(json!({
        "client_id": "cid", "client_secret": "s3cr3t-value", "redirect_uri": "https://x/cb",
        "refresh_token": "r3fr3sh-value"
    }))
    .unwrap();
    assert_eq!(cfg.base_url, "https://api.freshbooks.com");
    assert_eq!(
        cfg.token_url(),
        "https://api.freshbooks.com/auth/oauth/token"
    );
    assert_eq!(cfg.grant(), "cid");
    assert_eq!(cfg.plan().limit, 100);
    let shown = format!("{cfg:?}");
    assert!(
        !shown.contains("s3cr3t") && !shown.contains("r3fr3sh"),
        "{shown}"
    );
    let err = serde_json::from_value::<FreshbooksConfig>(json!({
        "client_id": "cid", "client_secret": "s", "redirect_uri": "u", "api_key": "x"
    }))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("api_key"),
        "unknown keys are refused by name: {err}"
    );
}
