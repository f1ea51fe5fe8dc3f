//! Unit tests of the Help Scout mapping, the local email index, configuration and error
//! classification (no I/O).

use super::config::HelpscoutConfig;
use super::map::*;
use super::model::User;
use idgraph_core::{AccountStatus, Record};
use idgraph_http::Secret;
use serde_json::json;
use time::macros::datetime;

fn user(v: serde_json::Value) -> User {
    serde_json::from_value(v).unwrap()
}

fn parts(
    records: &[Record],
) -> (
    Vec<&idgraph_core::Account>,
    Vec<&idgraph_core::Entitlement>,
    Vec<&idgraph_core::Grant>,
) {
    let mut a = Vec::new();
    let mut e = Vec::new();
    let mut g = Vec::new();
    for r in records {
        match r {
            Record::Account(x) => a.push(x),
            Record::Entitlement(x) => e.push(x),
            Record::Grant(x) => g.push(x),
        }
    }
    (a, e, g)
}

#[test]
fn listed_users_are_active_accounts_with_alternates_and_raw() {
    let raw = json!({
        "id": 4, "firstName": "Vernon", "lastName": "Bear", "email": "Bear@Acme.com",
        "role": "owner", "timezone": "America/New_York", "type": "user",
        "createdAt": "2011-04-01T03:18:33Z", "updatedAt": "2012-07-24T20:18:33Z",
        "mention": "vernon", "initials": "VB", "jobTitle": "Honey Master", "phone": "555-2368",
        "alternateEmails": ["bear@forest.com", "BEAR@acme.com", ""],
        "_links": {"self": {"href": "https://api.helpscout.net/v2/users/4"}}
    });
    let recs = user_records("acme", vec![raw.clone()]).unwrap();
    let (accounts, ents, grants) = parts(&recs);
    let a = accounts[0];
    assert_eq!(a.key.app, "helpscout");
    assert_eq!(a.key.tenant, "acme");
    assert_eq!(a.key.namespace, "user");
    assert_eq!(a.key.native_id, "4");
    assert_eq!(a.status, AccountStatus::Active);
    assert_eq!(
        a.emails,
        vec!["Bear@Acme.com", "bear@forest.com"],
        "primary first, as spelled, alternates after, no repeats"
    );
    assert_eq!(a.display_name.as_deref(), Some("Vernon Bear"));
    assert!(a.seat_consuming);
    assert_eq!(a.attributes["role"], "owner");
    assert_eq!(a.attributes["type"], "user");
    assert_eq!(a.attributes["job_title"], "Honey Master");
    assert_eq!(a.created_at, Some(datetime!(2011-04-01 03:18:33 UTC)));
    assert_eq!(a.updated_at, Some(datetime!(2012-07-24 20:18:33 UTC)));
    assert_eq!(a.raw, raw);
    assert_eq!(ents.len(), 1);
    assert_eq!(ents[0].key.kind, "role");
    assert_eq!(ents[0].key.native_id, "owner");
    assert!(ents[0].privileged);
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].account, a.key);
    assert_eq!(grants[0].entitlement, ents[0].key);
}

#[test]
fn role_entitlements_once_per_page_and_privilege() {
    let recs = user_records(
        "acme",
        vec![
            json!({"id": 1, "role": "user"}),
            json!({"id": 2, "role": "User"}),
            json!({"id": 3, "role": "admin"}),
            json!({"id": 4}),
        ],
    )
    .unwrap();
    let (accounts, ents, grants) = parts(&recs);
    assert_eq!(accounts.len(), 4);
    let names: Vec<_> = ents
        .iter()
        .map(|e| (e.name.as_str(), e.privileged))
        .collect();
    assert_eq!(names, vec![("admin", true), ("user", false)]);
    assert_eq!(grants.len(), 3, "a user without a role has no role grant");
    assert!(
        matches!(recs[0], Record::Entitlement(_)),
        "entitlements first"
    );
}

#[test]
fn seats_skip_virtual_and_light_users() {
    assert!(seat_consuming(&user(
        json!({"id": 1, "type": "user", "role": "user"})
    )));
    assert!(seat_consuming(&user(json!({"id": 1, "type": "team"}))));
    assert!(!seat_consuming(&user(json!({"id": 1, "type": "virtual"}))));
    assert!(!seat_consuming(&user(
        json!({"id": 1, "role": "light user"})
    )));
    assert!(!seat_consuming(&user(
        json!({"id": 1, "role": "lightUser"})
    )));
}

#[test]
fn a_user_of_the_wrong_shape_is_named() {
    let err = user_records("acme", vec![json!({"id": 1}), json!({"id": [2]})]).unwrap_err();
    assert!(err.contains("user 1"), "{err}");
    let err = user_records("acme", vec![json!({"id": 1, "alternateEmails": "x"})]).unwrap_err();
    assert!(err.contains("user 0"), "{err}");
}

#[test]
fn teams_and_memberships() {
    let (recs, ids) = team_records(
        "acme",
        vec![json!({"id": 31, "name": "Tier 2"}), json!({"id": "32"})],
    )
    .unwrap();
    assert_eq!(ids, vec!["31", "32"]);
    let (_, ents, _) = parts(&recs);
    assert_eq!(ents[0].key.kind, "team");
    assert_eq!(ents[0].name, "Tier 2");
    assert!(!ents[0].privileged);
    assert_eq!(
        ents[1].name, "32",
        "a team without a name is named by its id"
    );
    let grants = membership_grants("acme", "31", &["4".into(), "5".into()]);
    let (_, _, g) = parts(&grants);
    assert_eq!(g.len(), 2);
    assert_eq!(g[1].account, user_key("acme", "5"));
    assert_eq!(g[1].entitlement.native_id, "31");
}

#[test]
fn email_index_is_case_insensitive_with_alternates() {
    let users = [
        user(
            json!({"id": 1, "email": "Jane.Doe@Acme.example", "alternateEmails": ["jd@acme.example"]}),
        ),
        user(json!({"id": 2, "email": "support@acme.example"})),
        // An alias of one user that is another user's login.
        user(
            json!({"id": 3, "email": "ops@acme.example", "alternateEmails": ["SUPPORT@acme.example"]}),
        ),
    ];
    let ix = EmailIndex::from_users(&users);
    assert_eq!(ix.lookup("jane.doe@acme.example"), ["1"]);
    assert_eq!(ix.lookup("  JD@ACME.EXAMPLE "), ["1"]);
    assert_eq!(ix.lookup("support@acme.example"), ["2", "3"]);
    assert!(ix.lookup("nobody@acme.example").is_empty());
    let amb: Vec<_> = ix.ambiguous().collect();
    assert_eq!(amb.len(), 1);
    assert_eq!(amb[0].0, "support@acme.example");
    assert_eq!(ix.len(), 4);

    // The same from accounts, other apps ignored.
    let recs = user_records(
        "acme",
        users
            .iter()
            .map(|u| json!({"id": u.id, "email": u.email, "alternateEmails": u.alternate_emails}))
            .collect(),
    )
    .unwrap();
    let (accounts, _, _) = parts(&recs);
    let mut other = accounts[0].clone();
    other.key.app = "freshdesk".into();
    other.emails = vec!["x@acme.example".into()];
    let ix2 = EmailIndex::from_accounts(accounts.iter().copied().chain([&other]));
    assert_eq!(ix2, ix);
}

#[test]
fn config_defaults_real_token_endpoint_and_secrets_never_print() {
    let cfg: HelpscoutConfig = serde_json::from_value(json!({
        "client_id": "app-id", "client_secret": "s3cr3t-value", "scim_token": "sc1m-value"
    }))
    .unwrap();
    assert_eq!(cfg.token_url(), "https://api.helpscout.net/v2/oauth2/token");
    assert_eq!(cfg.scim_base_url(), "https://api.helpscout.net/v2/scim");
    assert_eq!(cfg.account(), "api.helpscout.net");
    assert_eq!(cfg.plan().limit, 400);
    let shown = format!("{cfg:?}");
    assert!(
        !shown.contains("s3cr3t") && !shown.contains("sc1m"),
        "{shown}"
    );
    let mut local = HelpscoutConfig::new("id", Secret::new("s"));
    local.base_url = "http://127.0.0.1:8080/".into();
    assert_eq!(local.account(), "127.0.0.1:8080");
    assert_eq!(local.token_url(), "http://127.0.0.1:8080/v2/oauth2/token");
    local.account = Some("acme".into());
    assert_eq!(local.account(), "acme");
    let err = serde_json::from_value::<HelpscoutConfig>(json!({
        "client_id": "a", "client_secret": "b", "page_size": 100
    }))
    .unwrap_err()
    .to_string();
    assert!(err.contains("page_size"), "{err}");
}
