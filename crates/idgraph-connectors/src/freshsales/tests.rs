//! Unit tests of the Freshsales mapping (owners, roles, the SCIM namespace and the join
//! attributes) and of the configuration (domain/host trap, base URL, SCIM plan check).

use super::client::other_host_hint;
use super::config::{FreshsalesConfig, FreshsalesHost, FreshsalesPlan};
use super::map::{self, scim_mapping, NS_SCIM_USER, NS_USER};
use super::model::{items_at_key, Owner, Role, WithRaw};
use crate::scim::ScimItem;
use idgraph_core::AccountStatus;
use idgraph_http::Secret;
use serde_json::json;
use time::macros::datetime;

fn owner_json() -> serde_json::Value {
    json!({
        "id": 101, "display_name": "Jane Doe", "name": "Jane Doe",
        "first_name": "Jane", "last_name": "Doe", "email": "Jane.Doe@acme.example",
        "is_active": true, "role_id": 31000000002_u64, "territory_id": null,
        "job_title": "Head of Sales", "time_zone": "Etc/UTC",
        "created_at": "2025-01-02T03:04:05Z", "updated_at": "2025-02-03T04:05:06Z"
    })
}

#[test]
fn owner_maps_to_a_user_account_with_role_and_raw() {
    let raw = owner_json();
    let o: WithRaw<Owner> = WithRaw::decode(raw.clone()).unwrap();
    let a = map::owner_account("acme.myfreshworks.com", &o, Some("Admin"), Some("9f3a"));
    assert_eq!(a.key.app, "freshsales");
    assert_eq!(a.key.tenant, "acme.myfreshworks.com");
    assert_eq!(a.key.namespace, NS_USER);
    assert_eq!(a.key.native_id, "101");
    assert_eq!(a.emails, vec!["Jane.Doe@acme.example"]);
    assert_eq!(a.display_name.as_deref(), Some("Jane Doe"));
    assert_eq!(a.status, AccountStatus::Active);
    assert!(a.seat_consuming, "a Freshsales user holds a seat");
    assert_eq!(a.attributes["role"], "Admin");
    assert_eq!(a.attributes["job_title"], "Head of Sales");
    assert_eq!(a.attributes["scim_id"], "9f3a");
    assert_eq!(a.created_at, Some(datetime!(2025-01-02 03:04:05 UTC)));
    assert_eq!(a.updated_at, Some(datetime!(2025-02-03 04:05:06 UTC)));
    assert_eq!(a.raw, raw);
    let g = map::owner_role_grant("acme.myfreshworks.com", &a.key, &o.item).unwrap();
    assert_eq!(g.entitlement.kind, "role");
    assert_eq!(g.entitlement.native_id, "31000000002");
    assert_eq!(g.account, a.key);
}

#[test]
fn owner_edge_cases() {
    // The guide's list example: `name` only, string ids, no role.
    let o: WithRaw<Owner> = WithRaw::decode(
        json!({"id": "7", "name": "Jo", "email": "jo@x.example", "is_active": true}),
    )
    .unwrap();
    let a = map::owner_account("t", &o, None, None);
    assert_eq!(a.display_name.as_deref(), Some("Jo"));
    assert_eq!(a.key.native_id, "7");
    assert!(!a.attributes.contains_key("role") && !a.attributes.contains_key("scim_id"));
    assert!(map::owner_role_grant("t", &a.key, &o.item).is_none());
    // Not active: a deactivated (or not yet accepted) user, should one ever be listed.
    let o: WithRaw<Owner> =
        WithRaw::decode(json!({"id": 8, "first_name": "Al", "last_name": "", "is_active": false}))
            .unwrap();
    let a = map::owner_account("t", &o, None, None);
    assert_eq!(a.status, AccountStatus::Inactive);
    assert_eq!(a.display_name.as_deref(), Some("Al"));
    assert!(a.emails.is_empty());
    // Wrong id types are decode errors naming the item.
    let err =
        items_at_key::<Owner>(&json!({"users": [{"id": 1}, {"id": true}]}), "users").unwrap_err();
    assert!(
        err.contains("users[1]") && err.contains("expected an id"),
        "{err}"
    );
    let err = items_at_key::<Owner>(&json!({"users": {"id": 1}}), "users").unwrap_err();
    assert!(err.contains("not an array"), "{err}");
    let err = items_at_key::<Owner>(&json!({"owners": []}), "users").unwrap_err();
    assert!(err.contains("no `users`"), "{err}");
}

#[test]
fn roles_are_entitlements_and_admins_privileged() {
    let roles = items_at_key::<Role>(
        &json!({"roles": [{"id": 31000000001_u64, "name": "Account Admin"},
                           {"id": 31000000004_u64, "name": "Sales Rep"}]}),
        "roles",
    )
    .unwrap();
    let e: Vec<_> = roles
        .iter()
        .map(|r| map::role_entitlement("t", r))
        .collect();
    assert_eq!(e[0].key.kind, "role");
    assert_eq!(e[0].key.native_id, "31000000001");
    assert_eq!(e[0].name, "Account Admin");
    assert!(e[0].privileged);
    assert!(!e[1].privileged);
    assert_eq!(
        e[1].raw,
        json!({"id": 31000000004_u64, "name": "Sales Rep"})
    );
}

#[test]
fn scim_users_land_in_their_own_namespace_with_role_grants() {
    let m = scim_mapping("acme.myfreshworks.com");
    let u = ScimItem::decode(json!({
        "id": "a1b2c3", "userName": "jane@acme.example", "active": false,
        "emails": [{"value": "jane@acme.example", "primary": true}],
        "roles": [{"value": "31000000004", "display": "Sales Rep", "primary": true}],
        "groups": [{"value": "g1", "display": "Sales Rep"}],
        "meta": {"created": "2025-01-01T00:00:00Z", "lastModified": "2025-03-01T00:00:00Z"}
    }))
    .unwrap();
    let mut a = m.account(&u).unwrap();
    assert_eq!(a.key.namespace, NS_SCIM_USER);
    assert_eq!(a.key.native_id, "a1b2c3");
    assert_eq!(a.status, AccountStatus::Inactive);
    assert!(a.seat_consuming, "both namespaces say true");
    assert_eq!(a.attributes["role"], "Sales Rep");
    let g = m.role_grants(&a.key, &u);
    assert_eq!(g.len(), 1);
    // The same key as the `selector/roles` entitlement: one role, two namespaces.
    assert_eq!(
        g[0].entitlement,
        map::role_key("acme.myfreshworks.com", "31000000004")
    );
    map::add_link(&mut a, "crm_id", "101");
    assert_eq!(a.attributes["crm_id"], "101");
    assert_eq!(map::email_key(" Jane@ACME.example "), "jane@acme.example");
}

fn cfg() -> FreshsalesConfig {
    FreshsalesConfig::new("acme", Secret::new("k"))
}

#[test]
fn domain_and_host_resolve_to_both_account_formats() {
    let ep = cfg().endpoints().unwrap();
    assert_eq!(ep.rest_base, "https://acme.myfreshworks.com/crm/sales/api");
    assert_eq!(ep.tenant, "acme.myfreshworks.com");
    assert_eq!(ep.scim_base, None);
    let ep = FreshsalesConfig {
        host: FreshsalesHost::FreshsalesIo,
        ..cfg()
    }
    .endpoints()
    .unwrap();
    assert_eq!(ep.rest_base, "https://acme.freshsales.io/api");
    assert_eq!(ep.tenant, "acme.freshsales.io");
    // A full host name as `domain` names the host too.
    let ep = FreshsalesConfig {
        domain: Some("Acme.Freshsales.io".into()),
        ..cfg()
    }
    .endpoints()
    .unwrap();
    assert_eq!(ep.host, FreshsalesHost::FreshsalesIo);
    assert_eq!(ep.rest_base, "https://acme.freshsales.io/api");
    // A base URL alone: its host decides the path, and is the tenant.
    let ep = FreshsalesConfig {
        domain: None,
        base_url: Some("https://acme.freshsales.io/".into()),
        ..cfg()
    }
    .endpoints()
    .unwrap();
    assert_eq!(ep.rest_base, "https://acme.freshsales.io/api");
    assert_eq!(ep.tenant, "acme.freshsales.io");
    // Domain plus base URL (a proxy, a simulator): requests go to the URL, keys name the domain.
    let ep = FreshsalesConfig {
        base_url: Some("http://127.0.0.1:8080".into()),
        scim_token: Some(Secret::new("s")),
        ..cfg()
    }
    .endpoints()
    .unwrap();
    assert_eq!(ep.rest_base, "http://127.0.0.1:8080/crm/sales/api");
    assert_eq!(
        ep.scim_base.as_deref(),
        Some("http://127.0.0.1:8080/scim/v2")
    );
    assert_eq!(ep.tenant, "acme.myfreshworks.com");
}

#[test]
fn bad_configuration_names_the_key() {
    let cases: Vec<(FreshsalesConfig, &str)> = vec![
        (
            FreshsalesConfig {
                domain: None,
                ..cfg()
            },
            "neither `domain` nor `base_url`",
        ),
        (
            FreshsalesConfig {
                domain: Some("https://acme.myfreshworks.com".into()),
                ..cfg()
            },
            "`domain`",
        ),
        (
            FreshsalesConfig {
                domain: Some("ac me".into()),
                ..cfg()
            },
            "`domain`",
        ),
        (
            FreshsalesConfig {
                base_url: Some("acme.myfreshworks.com".into()),
                ..cfg()
            },
            "`base_url`",
        ),
        (
            FreshsalesConfig {
                base_url: Some("https://acme.myfreshworks.com/crm/sales/api".into()),
                ..cfg()
            },
            "has a path",
        ),
        (
            FreshsalesConfig {
                api_key: Secret::new(""),
                ..cfg()
            },
            "`api_key`",
        ),
        (
            FreshsalesConfig {
                scim_token: Some(Secret::new("")),
                ..cfg()
            },
            "`scim_token`",
        ),
        (
            FreshsalesConfig {
                scim_token: Some(Secret::new("s")),
                plan: Some(FreshsalesPlan::Pro),
                ..cfg()
            },
            "Enterprise",
        ),
        (
            FreshsalesConfig {
                page_size: 101,
                ..cfg()
            },
            "`page_size`",
        ),
        (
            FreshsalesConfig {
                rest_path: Some("api".into()),
                ..cfg()
            },
            "`rest_path`",
        ),
    ];
    for (c, want) in cases {
        let err = c.endpoints().unwrap_err().to_string();
        assert!(err.starts_with("freshsales: configuration:"), "{err}");
        assert!(err.contains(want), "{want}: {err}");
    }
    let err = serde_json::from_value::<FreshsalesConfig>(
        json!({"domain": "acme", "api_key": "k", "hots": "x"}),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("hots"), "{err}");
    let c: FreshsalesConfig = serde_json::from_value(
        json!({"domain": "acme", "host": "freshsales.io", "api_key": "sekrit", "scim_token": "tok", "plan": "enterprise"}),
    )
    .unwrap();
    assert_eq!(c.host, FreshsalesHost::FreshsalesIo);
    let shown = format!("{c:?}");
    assert!(
        !shown.contains("sekrit") && !shown.contains("tok\""),
        "{shown}"
    );
    // Every plan: 1,000 requests an hour.
    let plan = c.rate_plan();
    assert_eq!((plan.limit, plan.window.as_secs()), (1000, 3600));
}

#[test]
fn an_auth_failure_hint_names_the_other_host() {
    let ep = cfg().endpoints().unwrap();
    let hint = other_host_hint(&ep);
    assert!(
        hint.contains("acme.freshsales.io") && hint.contains("host = \"freshsales_io\""),
        "{hint}"
    );
    let ep = FreshsalesConfig {
        host: FreshsalesHost::FreshsalesIo,
        ..cfg()
    }
    .endpoints()
    .unwrap();
    let hint = other_host_hint(&ep);
    assert!(
        hint.contains("host = \"myfreshworks\"") && hint.contains("/crm/sales/api"),
        "{hint}"
    );
}
