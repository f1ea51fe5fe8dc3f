//! Unit tests of the SCIM mapping, list reading, configuration and error helpers (no I/O).

use super::client::{path_segment, scim_detail, scim_err, scim_refused};
use super::config::{ScimConfig, KNOWN_APPS};
use super::map::{display_name_of, emails_of, is_privileged, roles_of, ScimMapping};
use super::model::{list_items, ScimGroup, ScimItem, ScimUser};
use crate::connector::ConnectorError;
use idgraph_core::AccountStatus;
use idgraph_http::{HttpError, Secret};
use serde_json::{json, Value};
use time::macros::datetime;

fn mapping(role_kind: Option<&str>) -> ScimMapping {
    ScimMapping {
        app: "helpscout".into(),
        tenant: "acme".into(),
        namespace: "scim_user".into(),
        group_kind: "team".into(),
        role_kind: role_kind.map(str::to_string),
        seat_consuming: true,
    }
}

fn user(v: Value) -> ScimUser {
    ScimItem::decode(v).unwrap()
}

fn full_user() -> Value {
    json!({
        "schemas": [idgraph_scim::USER_SCHEMA, idgraph_scim::ENTERPRISE_USER_SCHEMA],
        "id": "2819c223",
        "userName": "Jane.Doe@Acme.example",
        "name": {"givenName": "Jane", "familyName": "Doe", "formatted": "Ms Jane Doe"},
        "displayName": "Jane D.",
        "title": "Sales Lead",
        "emails": [
            {"value": "jd@alias.example", "type": "other"},
            {"value": "Jane.Doe@Acme.example", "type": "work", "primary": "True"}
        ],
        "active": true,
        "roles": [{"value": "31000000002", "display": "Admin", "primary": true}],
        idgraph_scim::ENTERPRISE_USER_SCHEMA: {"department": "Sales"},
        "meta": {"resourceType": "User", "created": "2024-01-10T10:00:00Z",
                 "lastModified": "2024-02-01T08:30:00.5Z"}
    })
}

#[test]
fn user_maps_to_an_account_with_raw_kept() {
    let raw = full_user();
    let a = mapping(None).account(&user(raw.clone())).unwrap();
    assert_eq!(a.key.app, "helpscout");
    assert_eq!(a.key.tenant, "acme");
    assert_eq!(a.key.namespace, "scim_user");
    assert_eq!(a.key.native_id, "2819c223");
    // Primary first, spelled as sent; userName already listed (case-insensitively).
    assert_eq!(a.emails, vec!["Jane.Doe@Acme.example", "jd@alias.example"]);
    assert_eq!(a.display_name.as_deref(), Some("Jane D."));
    assert_eq!(a.status, AccountStatus::Active);
    assert!(a.seat_consuming);
    assert_eq!(a.attributes["job_title"], "Sales Lead");
    assert_eq!(a.attributes["department"], "Sales");
    assert_eq!(a.attributes["role"], "Admin");
    assert_eq!(a.created_at, Some(datetime!(2024-01-10 10:00 UTC)));
    assert_eq!(a.updated_at, Some(datetime!(2024-02-01 08:30:00.5 UTC)));
    assert_eq!(a.last_login_at, None);
    assert_eq!(a.raw, raw);
}

#[test]
fn active_false_is_inactive_and_absent_or_string_active_reads_leniently() {
    let m = mapping(None);
    let off = m
        .account(&user(
            json!({"id": "1", "userName": "a@x", "active": false}),
        ))
        .unwrap();
    assert_eq!(off.status, AccountStatus::Inactive);
    let off = m
        .account(&user(
            json!({"id": "1", "userName": "a@x", "active": "False"}),
        ))
        .unwrap();
    assert_eq!(off.status, AccountStatus::Inactive);
    // RFC 7643: `active` is optional; a user without it is not deactivated.
    let on = m
        .account(&user(json!({"id": "1", "userName": "a@x"})))
        .unwrap();
    assert_eq!(on.status, AccountStatus::Active);
    // seat_consuming follows the mapping.
    let mut m2 = m.clone();
    m2.seat_consuming = false;
    assert!(
        !m2.account(&user(json!({"id": "1", "userName": "a@x"})))
            .unwrap()
            .seat_consuming
    );
}

#[test]
fn emails_fall_back_to_user_name_and_names_to_parts() {
    let u = user(json!({"id": "1", "userName": "bob@acme.example",
                        "name": {"givenName": "Bob", "familyName": "Stone"}}));
    assert_eq!(emails_of(&u), vec!["bob@acme.example"]);
    assert_eq!(display_name_of(&u).as_deref(), Some("Bob Stone"));
    // A userName that is no address is not an email.
    let u = user(
        json!({"id": "1", "userName": "bstone", "name": {"formatted": "Bob S."},
                        "displayName": "  "}),
    );
    assert!(emails_of(&u).is_empty());
    assert_eq!(display_name_of(&u).as_deref(), Some("Bob S."));
    let u = user(json!({"id": "1", "userName": "x"}));
    assert_eq!(display_name_of(&u), None);
}

#[test]
fn a_user_without_id_is_an_error_naming_it() {
    let err = mapping(None)
        .account(&user(json!({"userName": "ghost@acme.example"})))
        .unwrap_err();
    assert!(
        err.contains("without an `id`") && err.contains("ghost@acme.example"),
        "{err}"
    );
}

#[test]
fn roles_become_grants_and_entitlements_only_when_asked() {
    let u = user(json!({"id": "7", "userName": "a@x", "roles": [
        {"value": "admin", "primary": true}, "viewer", {"value": 42, "display": "Owner"}, {"value": ""}
    ]}));
    let values: Vec<_> = roles_of(&u).into_iter().map(|r| r.value).collect();
    assert_eq!(values, vec!["admin", "viewer", "42"]);
    let m = mapping(None);
    let key = m.account_key("7");
    assert!(m.role_grants(&key, &u).is_empty());
    assert!(m.role_entitlements(&u).is_empty());
    let m = mapping(Some("role"));
    let grants = m.role_grants(&key, &u);
    assert_eq!(grants.len(), 3);
    assert_eq!(grants[0].entitlement.kind, "role");
    assert_eq!(grants[0].entitlement.native_id, "admin");
    assert_eq!(grants[0].attributes["primary"], true);
    assert!(grants[1].attributes.is_empty());
    let ents = m.role_entitlements(&u);
    let by_id: Vec<_> = ents
        .iter()
        .map(|e| (e.key.native_id.as_str(), e.name.as_str(), e.privileged))
        .collect();
    assert_eq!(
        by_id,
        vec![
            ("admin", "admin", true),
            ("viewer", "viewer", false),
            ("42", "Owner", true)
        ]
    );
    // The account's `role` attribute is the primary role's name.
    assert_eq!(m.account(&u).unwrap().attributes["role"], "admin");
}

#[test]
fn group_maps_to_entitlement_and_membership_grants() {
    let raw = json!({
        "id": "g1", "displayName": "Sales Admins",
        "members": [
            {"value": "u1", "display": "a@x"},
            {"value": "u2", "type": "User"},
            {"value": "g9", "type": "Group"},
            {"value": ""}
        ]
    });
    let g: ScimGroup = ScimItem::decode(raw.clone()).unwrap();
    let (ent, grants) = mapping(None).group(&g).unwrap();
    assert_eq!(ent.key.kind, "team");
    assert_eq!(ent.key.native_id, "g1");
    assert_eq!(ent.name, "Sales Admins");
    assert!(ent.privileged);
    assert_eq!(ent.raw, raw);
    let members: Vec<_> = grants
        .iter()
        .map(|g| g.account.native_id.as_str())
        .collect();
    assert_eq!(members, vec!["u1", "u2"]);
    assert!(grants
        .iter()
        .all(|g| g.entitlement == ent.key && g.account.namespace == "scim_user"));
    let g: ScimGroup = ScimItem::decode(json!({"displayName": "x"})).unwrap();
    assert!(mapping(None)
        .group(&g)
        .unwrap_err()
        .contains("without an `id`"));
}

#[test]
fn privileged_names() {
    for n in [
        "Admin",
        "Account Admin",
        "owner",
        "Administrator",
        "Super ADMIN",
    ] {
        assert!(is_privileged(n), "{n}");
    }
    for n in ["Sales Rep", "Agent", "user", "EMEA"] {
        assert!(!is_privileged(n), "{n}");
    }
}

#[test]
fn list_responses_are_read_strictly() {
    let items: Vec<ScimUser> = list_items(&json!({
        "totalResults": 1, "Resources": [{"id": "a", "userName": "a@x"}]
    }))
    .unwrap();
    assert_eq!(items[0].item.user_name, "a@x");
    // Lower-case `resources`, and none at all when the list is empty.
    let items: Vec<ScimUser> =
        list_items(&json!({"totalResults": "1", "resources": [{"id": "a"}]})).unwrap();
    assert_eq!(items.len(), 1);
    assert!(
        list_items::<idgraph_scim::User>(&json!({"totalResults": 0}))
            .unwrap()
            .is_empty()
    );
    for (body, want) in [
        (json!([1, 2]), "must be a JSON object"),
        (json!({"totalResults": 3}), "totalResults is 3"),
        (
            json!({"Resources": {"id": "a"}, "totalResults": 1}),
            "must be an array",
        ),
        (
            json!({"schemas": []}),
            "neither `Resources` nor `totalResults`",
        ),
        (
            json!({"totalResults": 1, "Resources": [{"id": "b", "active": "maybe"}]}),
            "Resources[0] (id \"b\")",
        ),
    ] {
        let err = list_items::<idgraph_scim::User>(&body).unwrap_err();
        assert!(err.contains(want), "{body}: {err}");
    }
}

#[test]
fn ids_are_escaped_as_one_path_segment() {
    assert_eq!(path_segment("2819c223-7f76"), "2819c223-7f76");
    assert_eq!(path_segment("a/b?c#d e"), "a%2Fb%3Fc%23d%20e");
    assert_eq!(path_segment("é"), "%C3%A9");
}

#[test]
fn scim_error_bodies_become_clear_errors() {
    let body = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"403","detail":"SCIM provisioning requires the Freshsales Enterprise plan"}"#;
    assert_eq!(
        scim_detail(body).as_deref(),
        Some("SCIM provisioning requires the Freshsales Enterprise plan")
    );
    assert_eq!(
        scim_detail(r#"{"status":400,"scimType":"invalidFilter","detail":"bad"}"#).as_deref(),
        Some("bad (scimType invalidFilter)")
    );
    assert_eq!(scim_detail("<html>"), None);
    let e = scim_refused(
        "freshsales",
        "scim_users",
        "https://acme.myfreshworks.com/scim/v2/Users",
        body,
    );
    assert!(
        matches!(
            e,
            ConnectorError::Config {
                app: "freshsales",
                ..
            }
        ),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("scim_users") && msg.contains("Enterprise plan") && msg.contains("HTTP 403"),
        "{msg}"
    );
    let e = scim_err("helpscout", "users")(HttpError::Auth {
        account: "helpscout:acme".into(),
        reason: "GET https://x/Users answered HTTP 401: the credentials were refused".into(),
        source: None,
    });
    let msg = e.to_string();
    assert!(
        msg.contains("helpscout")
            && msg.contains("bearer token was refused")
            && msg.contains("not the REST API key"),
        "{msg}"
    );
    let e = scim_err("helpscout", "users")(HttpError::Pagination {
        url: "u".into(),
        reason: "no totalResults".into(),
    });
    assert!(matches!(e, ConnectorError::Decode { .. }));
    assert!(
        e.to_string()
            .contains("helpscout: users: unexpected response"),
        "{e}"
    );
}

#[test]
fn config_is_validated_naming_the_key() {
    let ok = ScimConfig::new(
        "helpscout",
        "acme",
        "https://api.helpscout.net/v2/scim",
        Secret::new("t"),
    );
    assert_eq!(ok.validate().unwrap(), "helpscout");
    assert_eq!(ok.budget_account(), "helpscout:acme");
    let cases: Vec<(ScimConfig, &str)> = vec![
        (
            ScimConfig {
                app: "okta".into(),
                ..ok.clone()
            },
            "`app`",
        ),
        (
            ScimConfig {
                tenant: " ".into(),
                ..ok.clone()
            },
            "`tenant`",
        ),
        (
            ScimConfig {
                base_url: "api.helpscout.net".into(),
                ..ok.clone()
            },
            "`base_url`",
        ),
        (
            ScimConfig {
                base_url: "https://x/scim/v2/Users".into(),
                ..ok.clone()
            },
            "without /Users",
        ),
        (
            ScimConfig {
                token: Secret::new(""),
                ..ok.clone()
            },
            "`token`",
        ),
        (
            ScimConfig {
                page_size: 0,
                ..ok.clone()
            },
            "`page_size`",
        ),
        (
            ScimConfig {
                role_kind: Some("".into()),
                ..ok.clone()
            },
            "`role_kind`",
        ),
        (
            ScimConfig {
                rate_limit: Some(super::RateLimit {
                    requests: 0,
                    window_secs: 60,
                }),
                ..ok.clone()
            },
            "`rate_limit`",
        ),
    ];
    for (cfg, key) in cases {
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains(key), "{key}: {err}");
    }
    assert!(KNOWN_APPS.contains(&"scim"));
    let toml_cfg: ScimConfig = serde_json::from_value(json!({
        "app": "freshdesk", "tenant": "acme.freshdesk.com",
        "base_url": "https://acme.freshdesk.com/scim/v2", "token": "s3cret",
        "rate_limit": {"requests": 700, "window_secs": 60}
    }))
    .unwrap();
    assert_eq!(toml_cfg.namespace, "scim_user");
    assert_eq!(toml_cfg.group_kind, "group");
    assert!(toml_cfg.groups && toml_cfg.seat_consuming && !toml_cfg.incremental);
    assert!(!format!("{toml_cfg:?}").contains("s3cret"));
    let err = serde_json::from_value::<ScimConfig>(json!({
        "app": "freshdesk", "tenant": "t", "base_url": "https://x", "token": "t", "colour": 1
    }))
    .unwrap_err()
    .to_string();
    assert!(err.contains("colour"), "{err}");
}
