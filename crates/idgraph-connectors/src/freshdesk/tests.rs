//! Unit tests of the Freshdesk mapping, the contact-window cursor and the configuration (no
//! I/O).

use super::client::ContactsCursor;
use super::config::{FreshdeskConfig, FreshdeskPlan};
use super::map;
use idgraph_core::{Account, AccountStatus, Grant, Record};
use idgraph_http::Secret;
use serde_json::{json, Value};
use time::macros::datetime;

const T: &str = "acme.freshdesk.com";

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

/// An agent as the simulator (and newer API versions) render it.
fn agent_json(active: bool, deactivated: bool, verified: bool) -> Value {
    json!({
        "id": 2001,
        "name": "Ann Agent",
        "email": "Ann@Acme.example",
        "job_title": "Support Lead",
        "active": active,
        "deactivated": deactivated,
        "occasional": false,
        "ticket_scope": 2,
        "type": "support_agent",
        "role_ids": [9001, 9001],
        "group_ids": [8001, 8002],
        "created_at": "2024-01-10T10:00:00Z",
        "updated_at": "2026-05-01T12:00:00Z",
        "contact": {
            "active": verified,
            "email": "Ann@Acme.example",
            "name": "Ann Agent",
            "last_login_at": if verified { json!("2026-05-30T08:00:00Z") } else { Value::Null },
        }
    })
}

#[test]
fn active_agent_with_roles_groups_scope_and_login() {
    let raw = agent_json(true, false, true);
    let (a, grants) = split(map::agent(T, raw.clone(), true).unwrap());
    assert_eq!(a.key, map::account_key(T, "agent", 2001));
    assert_eq!(a.status, AccountStatus::Active);
    assert_eq!(a.emails, vec!["Ann@Acme.example"]);
    assert_eq!(a.display_name.as_deref(), Some("Ann Agent"));
    assert!(a.seat_consuming);
    assert_eq!(a.attributes["ticket_scope"], 2);
    assert_eq!(a.attributes["type"], "support_agent");
    assert_eq!(a.attributes["occasional"], false);
    assert_eq!(a.attributes["job_title"], "Support Lead");
    assert_eq!(
        a.last_login_at,
        Some(datetime!(2026-05-30 08:00 UTC)),
        "from contact.last_login_at"
    );
    assert_eq!(a.created_at, Some(datetime!(2024-01-10 10:00 UTC)));
    assert_eq!(a.raw, raw);
    let ents: Vec<_> = grants.iter().map(|g| g.entitlement.clone()).collect();
    assert_eq!(
        ents,
        vec![
            map::entitlement_key(T, "role", 9001),
            map::entitlement_key(T, "group", 8001),
            map::entitlement_key(T, "group", 8002),
        ],
        "each role and group once"
    );
    assert!(grants.iter().all(|g| g.account == a.key));
}

#[test]
fn inactive_list_tells_deactivated_from_unconfirmed() {
    // Deactivated: `deactivated: true`, contact stays verified.
    let (a, _) = split(map::agent(T, agent_json(false, true, true), false).unwrap());
    assert_eq!(a.status, AccountStatus::Inactive);
    // Never confirmed: not deactivated, contact not verified, no login.
    let (a, _) = split(map::agent(T, agent_json(false, false, false), false).unwrap());
    assert_eq!(a.status, AccountStatus::Pending);
    assert_eq!(a.last_login_at, None);
    assert!(
        a.seat_consuming,
        "an unconfirmed full-time agent holds a seat"
    );
    // Deactivated before confirming: still deactivated.
    let (a, _) = split(map::agent(T, agent_json(false, true, false), false).unwrap());
    assert_eq!(a.status, AccountStatus::Inactive);
    // `deactivated: true` wins even in the default list.
    let (a, _) = split(map::agent(T, agent_json(true, true, true), true).unwrap());
    assert_eq!(a.status, AccountStatus::Inactive);
}

#[test]
fn older_api_without_the_deactivated_flag() {
    let strip = |mut v: Value| {
        v.as_object_mut().unwrap().remove("deactivated");
        v
    };
    let (a, _) = split(map::agent(T, strip(agent_json(false, false, true)), false).unwrap());
    assert_eq!(
        a.status,
        AccountStatus::Inactive,
        "verified but inactive: deactivated"
    );
    let (a, _) = split(map::agent(T, strip(agent_json(false, false, false)), false).unwrap());
    assert_eq!(
        a.status,
        AccountStatus::Pending,
        "never verified: unconfirmed"
    );
    // The guide's bare shape in the default list: no flags at all.
    let bare = json!({"id": 1, "name": "Jane Doe", "email": "jane@example.com", "role_ids": [1]});
    let (a, g) = split(map::agent(T, bare, true).unwrap());
    assert_eq!(a.status, AccountStatus::Active);
    assert_eq!(g.len(), 1);
    assert!(a.attributes.get("type").is_none());
}

#[test]
fn seats_exclude_occasional_field_agents_and_collaborators() {
    for (kind, occasional, seat) in [
        ("support_agent", false, true),
        ("support_agent", true, false),
        ("field_agent", false, false),
        ("collaborator", false, false),
    ] {
        let mut raw = agent_json(true, false, true);
        raw["type"] = json!(kind);
        raw["occasional"] = json!(occasional);
        let (a, _) = split(map::agent(T, raw, true).unwrap());
        assert_eq!(a.seat_consuming, seat, "{kind} occasional={occasional}");
        assert_eq!(a.attributes["occasional"], occasional);
    }
}

#[test]
fn contacts_active_deleted_and_alternate_emails() {
    let raw = json!({
        "id": 100001, "name": "Cara Customer", "email": "cara@client1.example",
        "other_emails": ["CARA@client1.example", "c.c@client1.example"],
        "active": false, "deleted": false, "job_title": "Buyer", "company_id": 7,
        "created_at": "2025-01-10T10:00:00Z", "updated_at": "2026-05-01T12:00:00Z"
    });
    let a = map::contact(T, raw.clone(), false).unwrap();
    assert_eq!(a.key, map::account_key(T, "contact", 100001));
    assert_eq!(
        a.status,
        AccountStatus::Active,
        "unverified contacts are still listed active"
    );
    assert_eq!(
        a.emails,
        vec!["cara@client1.example", "c.c@client1.example"]
    );
    assert!(!a.seat_consuming);
    assert_eq!(a.attributes["job_title"], "Buyer");
    assert_eq!(a.raw, raw);
    let mut del = raw.clone();
    del["deleted"] = json!(true);
    assert_eq!(
        map::contact(T, del, true).unwrap().status,
        AccountStatus::Deleted
    );
    let no_flag = json!({"id": 5, "email": "x@y.example"});
    assert_eq!(
        map::contact(T, no_flag.clone(), true).unwrap().status,
        AccountStatus::Deleted
    );
    assert_eq!(
        map::contact(T, no_flag, false).unwrap().status,
        AccountStatus::Active
    );
}

#[test]
fn roles_and_groups_privileged_and_bad_items() {
    for (name, privileged) in [
        ("Account Administrator", true),
        ("Administrator", true),
        ("Supervisor", false),
        ("Agent", false),
    ] {
        let e = map::entitlement(T, "role", json!({"id": 9001, "name": name})).unwrap();
        assert_eq!(e.privileged, privileged, "{name}");
    }
    let g = map::entitlement(
        T,
        "group",
        json!({"id": 8001, "name": "Admin escalations", "agent_ids": [1]}),
    )
    .unwrap();
    assert!(!g.privileged);
    assert_eq!(g.key, map::entitlement_key(T, "group", 8001));
    let err = map::agent(T, json!({"id": 3, "role_ids": "all"}), true).unwrap_err();
    assert!(err.contains("record 3"), "{err}");
    assert!(map::contact(T, json!([1, 2]), false).is_err());
}

#[test]
fn contact_cursor_pages_then_opens_a_window_past_the_cap() {
    let since = Some(datetime!(2026-01-01 00:00 UTC));
    let mut c = ContactsCursor::start();
    assert_eq!(
        c.query(true, since),
        vec![
            ("deleted", "true".to_string()),
            ("_updated_since", "2026-01-01T00:00:00Z".to_string())
        ]
    );
    c.saw(Some(10), Some(datetime!(2025-06-01 00:00 UTC)));
    c.saw(Some(12), Some(datetime!(2026-03-01 00:00 UTC)));
    c.saw(Some(11), Some(datetime!(2024-01-01 00:00 UTC)));
    // A short page ends the listing.
    assert_eq!(c.clone().next(false, false, 2, since).unwrap(), None);
    // A full page below the cap: the next page.
    let c2 = c.clone().next(true, false, 2, since).unwrap().unwrap();
    assert_eq!(c2.page, 2);
    assert_eq!(c2.window, None);
    // A full page at the cap: a new window from the latest creation seen, ids up to 12 done.
    let w = c2.clone().next(true, false, 2, since).unwrap().unwrap();
    assert_eq!(w.page, 1);
    assert_eq!(w.window, Some(datetime!(2026-03-01 00:00 UTC)));
    assert_eq!(w.listed_up_to, Some(12));
    assert!(w.already_listed(12) && !w.already_listed(13));
    assert_eq!(
        w.since(since),
        w.window,
        "the window replaces the caller's since"
    );
    // The caller's since wins when it is later.
    let late = Some(datetime!(2026-05-01 00:00 UTC));
    let w2 = c2.clone().next(true, false, 2, late).unwrap().unwrap();
    assert_eq!(w2.window, late);
    // The server refusing page 2: the same as reaching the cap after page 1.
    let r = c2.clone().next(false, true, 500, since).unwrap().unwrap();
    assert_eq!((r.page, r.listed_up_to), (1, Some(12)));
    // A window that lists nothing new up to the cap cannot go on.
    let mut stuck = w.clone().next(true, false, 2, since).unwrap().unwrap();
    assert_eq!(stuck.page, 2);
    stuck.saw(Some(11), None);
    let err = stuck.clone().next(true, false, 2, since).unwrap_err();
    assert!(err.contains("nothing new"), "{err}");
    stuck.saw(Some(13), None);
    let again = stuck.next(true, false, 2, since).unwrap().unwrap();
    assert_eq!((again.page, again.listed_up_to), (1, Some(13)));
    // The cursor survives a checkpoint.
    let json = serde_json::to_value(&w).unwrap();
    assert_eq!(serde_json::from_value::<ContactsCursor>(json).unwrap(), w);
    assert_eq!(
        serde_json::to_value(ContactsCursor::start()).unwrap(),
        json!({"page": 1}),
        "a plain first-window cursor stays small"
    );
}

#[test]
fn config_host_plan_page_cap_and_secret() {
    let c: FreshdeskConfig = serde_json::from_value(
        json!({"domain": "acme", "api_key": "k-123", "plan": "estate", "max_page": 20}),
    )
    .unwrap();
    assert_eq!(c.host().unwrap(), "acme.freshdesk.com");
    assert_eq!(c.api_base().unwrap(), "https://acme.freshdesk.com");
    assert_eq!(c.plan, FreshdeskPlan::Pro);
    assert_eq!(c.max_page, 20);
    assert!(!format!("{c:?}").contains("k-123"));
    let d = FreshdeskConfig::new("acme.freshdesk.com", Secret::new("k"));
    assert_eq!((d.plan, d.max_page), (FreshdeskPlan::Free, 500));
    let plans: Vec<u32> = [
        FreshdeskPlan::Free,
        FreshdeskPlan::Growth,
        FreshdeskPlan::Pro,
        FreshdeskPlan::Enterprise,
    ]
    .iter()
    .map(|p| p.requests_per_minute())
    .collect();
    assert_eq!(plans, vec![100, 200, 400, 700]);
    assert!(FreshdeskPlan::Enterprise.rate_plan().sublimits.is_empty());
    let err = FreshdeskConfig {
        max_page: 0,
        ..FreshdeskConfig::new("acme", Secret::new("k"))
    }
    .validate()
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("max_page") && err.contains("freshdesk"),
        "{err}"
    );
    let err = serde_json::from_value::<FreshdeskConfig>(
        json!({"domain": "a", "api_key": "k", "pages": 1}),
    )
    .unwrap_err();
    assert!(err.to_string().contains("pages"), "{err}");
}
