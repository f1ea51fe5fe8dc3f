//! Unit tests of the Freshservice mapping and configuration (no I/O).

use super::config::{FreshserviceConfig, FreshservicePlan};
use super::map;
use idgraph_core::{Account, AccountStatus, Grant, Record};
use idgraph_http::Secret;
use serde_json::{json, Value};
use time::macros::datetime;

const T: &str = "acme.freshservice.com";

fn split(records: Vec<Record>) -> (Account, Vec<Grant>) {
    let mut account = None;
    let mut grants = Vec::new();
    for r in records {
        match r {
            Record::Account(a) => {
                assert!(account.is_none(), "one account per item");
                account = Some(a);
            }
            Record::Grant(g) => grants.push(g),
            Record::Entitlement(e) => panic!("unexpected entitlement {e:?}"),
        }
    }
    (account.expect("an account"), grants)
}

fn agent_json() -> Value {
    json!({
        "id": 21001,
        "first_name": "Jane",
        "last_name": "Doe",
        "email": "Jane.Doe@Acme.example",
        "active": true,
        "occasional": false,
        "job_title": "IT Lead",
        "department_ids": [31, 31],
        "member_of": [51, 52],
        "group_ids": [52],
        "observer_of": [52, 53],
        "roles": [
            {"role_id": 11, "assignment_scope": "specified_groups", "groups": [51]},
            {"role_id": 12, "assignment_scope": "entire_helpdesk", "groups": []}
        ],
        "role_ids": [11, 12],
        "last_login_at": "2026-05-30T08:00:00Z",
        "created_at": "2024-01-10T10:00:00Z",
        "updated_at": "2026-05-01T12:00:00Z",
        "custom_fields": {"cost_center": "X1"}
    })
}

#[test]
fn agent_maps_to_account_with_roles_scopes_groups_and_departments() {
    let raw = agent_json();
    let (a, grants) = split(map::agent(T, raw.clone(), true).unwrap());
    assert_eq!(a.key, map::account_key(T, "agent", 21001));
    assert_eq!(a.emails, vec!["Jane.Doe@Acme.example"], "spelled as sent");
    assert_eq!(a.display_name.as_deref(), Some("Jane Doe"));
    assert_eq!(a.status, AccountStatus::Active);
    assert!(a.seat_consuming);
    assert_eq!(a.attributes["job_title"], "IT Lead");
    assert_eq!(a.attributes["occasional"], false);
    assert_eq!(a.last_login_at, Some(datetime!(2026-05-30 08:00 UTC)));
    assert_eq!(a.created_at, Some(datetime!(2024-01-10 10:00 UTC)));
    assert_eq!(a.updated_at, Some(datetime!(2026-05-01 12:00 UTC)));
    assert_eq!(a.raw, raw, "raw kept as received");

    let find = |kind: &str, id: u64| {
        let k = map::entitlement_key(T, kind, id);
        let found: Vec<&Grant> = grants.iter().filter(|g| g.entitlement == k).collect();
        assert_eq!(found.len(), 1, "{kind} {id} granted once: {grants:?}");
        found[0].clone()
    };
    let r11 = find("role", 11);
    assert_eq!(r11.account, a.key);
    assert_eq!(r11.attributes["assignment_scope"], "specified_groups");
    assert_eq!(r11.attributes["groups"], json!([51]));
    let r12 = find("role", 12);
    assert_eq!(r12.attributes["assignment_scope"], "entire_helpdesk");
    assert!(r12.attributes.get("groups").is_none());
    assert_eq!(find("group", 51).attributes["membership"], "member");
    assert_eq!(
        find("group", 52).attributes["membership"],
        "member",
        "member and observer: one member grant"
    );
    assert_eq!(find("group", 53).attributes["membership"], "observer");
    find("department", 31);
    assert_eq!(grants.len(), 2 + 3 + 1);
}

#[test]
fn deactivated_and_occasional_agents() {
    let mut raw = agent_json();
    raw["active"] = json!(false);
    raw["occasional"] = json!(true);
    let (a, _) = split(map::agent(T, raw, false).unwrap());
    assert_eq!(a.status, AccountStatus::Inactive);
    assert!(!a.seat_consuming, "occasional agents take no seat");
    assert_eq!(a.attributes["occasional"], true);

    // Without an `active` field the pass decides.
    let minimal = json!({"id": 7, "email": "x@acme.example"});
    let (a, g) = split(map::agent(T, minimal.clone(), false).unwrap());
    assert_eq!(a.status, AccountStatus::Inactive);
    assert!(a.seat_consuming, "occasional defaults to false");
    assert!(g.is_empty());
    assert_eq!(a.display_name, None);
    assert_eq!(a.last_login_at, None);
    let (a, _) = split(map::agent(T, minimal, true).unwrap());
    assert_eq!(a.status, AccountStatus::Active);
}

#[test]
fn role_ids_alone_and_nulls() {
    let raw = json!({
        "id": 8, "email": "y@acme.example", "active": true,
        "roles": null, "role_ids": [11, 11], "member_of": null, "department_ids": null,
        "last_login_at": null
    });
    let (_, grants) = split(map::agent(T, raw, true).unwrap());
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].entitlement, map::entitlement_key(T, "role", 11));
    assert!(grants[0].attributes.is_empty(), "no scope known");
}

#[test]
fn requester_maps_emails_departments_and_no_seat() {
    let raw = json!({
        "id": 1042,
        "first_name": "Bob",
        "last_name": "",
        "email": "bob@acme.example",
        "primary_email": "Bob@acme.example",
        "secondary_emails": ["bob@acme.example", "robert@acme.example"],
        "active": false,
        "job_title": " ",
        "department_ids": [31, 32],
        "department_names": ["IT", "Finance"],
        "is_agent": false,
        "has_logged_in": true,
        "created_at": "2024-01-10T10:00:00Z",
        "updated_at": "2026-05-01T12:00:00Z"
    });
    let (a, grants) = split(map::requester(T, raw.clone(), false).unwrap());
    assert_eq!(a.key, map::account_key(T, "requester", 1042));
    assert_eq!(
        a.emails,
        vec!["Bob@acme.example", "robert@acme.example"],
        "primary_email first, duplicates dropped"
    );
    assert_eq!(a.display_name.as_deref(), Some("Bob"));
    assert_eq!(a.status, AccountStatus::Inactive);
    assert!(!a.seat_consuming);
    assert!(
        a.attributes.get("job_title").is_none(),
        "blank title left out"
    );
    assert_eq!(a.attributes["department"], "IT, Finance");
    assert_eq!(a.attributes["is_agent"], false);
    assert_eq!(a.last_login_at, None);
    assert_eq!(a.raw, raw);
    let depts: Vec<_> = grants.iter().map(|g| g.entitlement.clone()).collect();
    assert_eq!(
        depts,
        vec![
            map::entitlement_key(T, "department", 31),
            map::entitlement_key(T, "department", 32)
        ]
    );

    // The guide's shape: `email` only.
    let (a, _) =
        split(map::requester(T, json!({"id": 5, "email": "c@acme.example"}), true).unwrap());
    assert_eq!(a.emails, vec!["c@acme.example"]);
    assert_eq!(a.status, AccountStatus::Active);
}

#[test]
fn entitlements_and_privileged_roles() {
    for (name, privileged) in [
        ("Account Admin", true),
        ("Admin", true),
        ("IT Owner", true),
        ("SD Agent", false),
        ("SD Supervisor", false),
    ] {
        let raw = json!({"id": 11, "name": name, "default": true});
        let e = map::entitlement(T, "role", raw.clone()).unwrap();
        assert_eq!(e.privileged, privileged, "{name}");
        assert_eq!(e.name, name);
        assert_eq!(e.key, map::entitlement_key(T, "role", 11));
        assert_eq!(e.raw, raw);
    }
    let g = map::entitlement(T, "group", json!({"id": 51, "name": "Admins"})).unwrap();
    assert!(!g.privileged, "only roles are privileged");
    let d = map::entitlement(T, "department", json!({"id": 31, "name": null})).unwrap();
    assert_eq!(d.name, "department 31");
}

#[test]
fn wrong_shapes_name_the_record() {
    let err = map::agent(T, json!({"id": 9, "roles": "admin"}), true).unwrap_err();
    assert!(err.contains("record 9"), "{err}");
    let err = map::requester(T, json!({"email": "x@y"}), true).unwrap_err();
    assert!(err.contains("without an id"), "{err}");
    assert!(map::entitlement(T, "role", json!([1])).is_err());
}

#[test]
fn config_host_base_url_plan_and_secret() {
    let c: FreshserviceConfig =
        serde_json::from_value(json!({"domain": "Acme", "api_key": "k-123", "plan": "garden"}))
            .unwrap();
    assert_eq!(c.host().unwrap(), "acme.freshservice.com");
    assert_eq!(c.api_base().unwrap(), "https://acme.freshservice.com");
    assert_eq!(c.plan, FreshservicePlan::Growth);
    assert!(!format!("{c:?}").contains("k-123"), "the key never prints");

    let c = FreshserviceConfig {
        base_url: Some("http://127.0.0.1:9/".into()),
        ..FreshserviceConfig::new("acme.freshservice.com", Secret::new("k"))
    };
    assert_eq!(c.api_base().unwrap(), "http://127.0.0.1:9");
    assert_eq!(c.plan, FreshservicePlan::Starter);

    let err = serde_json::from_value::<FreshserviceConfig>(
        json!({"domain": "a", "api_key": "k", "colour": 1}),
    )
    .unwrap_err();
    assert!(err.to_string().contains("colour"), "{err}");
    let err = FreshserviceConfig::new("https://acme.freshservice.com", Secret::new("k"))
        .validate()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("domain") && err.contains("freshservice"),
        "{err}"
    );
    let err = FreshserviceConfig::new("acme", Secret::new(""))
        .validate()
        .unwrap_err()
        .to_string();
    assert!(err.contains("api_key"), "{err}");
}

#[test]
fn plans_follow_the_guide_table() {
    let limits: Vec<(u32, Option<u32>)> = [
        FreshservicePlan::Starter,
        FreshservicePlan::Growth,
        FreshservicePlan::Pro,
        FreshservicePlan::Enterprise,
    ]
    .iter()
    .map(|p| (p.requests_per_minute(), p.list_limit_per_minute()))
    .collect();
    assert_eq!(
        limits,
        vec![(50, Some(40)), (100, Some(40)), (200, None), (400, None)]
    );
    let plan = FreshservicePlan::Starter.rate_plan();
    assert_eq!(plan.limit, 50);
    assert_eq!(plan.sublimits.len(), 1, "one window for both lists");
    assert_eq!(plan.sublimits[0].path, "/api/v2/agents");
    assert_eq!(plan.sublimits[0].also, vec!["/api/v2/requesters"]);
    assert!(FreshservicePlan::Pro.rate_plan().sublimits.is_empty());
}
