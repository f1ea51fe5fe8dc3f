//! Tests of the Freshsales simulator: REST over the router in-process, SCIM through the
//! backend trait and (for the shared quota) over the router.

use super::*;
use crate::clock::SimClock;
use crate::common::{PlanTier, TenantOptions};
use crate::company::{
    AccountKind, Catalog, CompanyConfig, EmailVariant, Namespaces, SeedAccount, SeedStatus,
};
use axum::body::Body;
use base64::Engine;
use http::{HeaderMap, Request};
use std::collections::BTreeMap;
use time::macros::datetime;
use tower::ServiceExt;

const ANCHOR: time::OffsetDateTime = datetime!(2026-03-02 10:20:00 UTC);

#[allow(clippy::too_many_arguments)]
fn acct(
    id: u64,
    scim: Option<&str>,
    rest: bool,
    email: &str,
    status: SeedStatus,
    role: &str,
) -> SeedAccount {
    let first = email.split('@').next().unwrap().to_string();
    SeedAccount {
        app: App::Freshsales,
        kind: AccountKind::User,
        native_id: id,
        scim_id: scim.map(str::to_string),
        scope: None,
        email: email.to_string(),
        first_name: first.clone(),
        last_name: "Tester".to_string(),
        job_title: Some("Account Executive".to_string()),
        department: Some("Sales".to_string()),
        status,
        roles: vec![role.to_string()],
        groups: vec!["West".to_string()],
        occasional: false,
        namespaces: Namespaces {
            rest,
            scim: scim.is_some(),
        },
        created_at: ANCHOR - time::Duration::days(100),
        updated_at: ANCHOR - time::Duration::days(10),
        last_login_at: Some(ANCHOR - time::Duration::days(1)),
        owner: Some(format!("E{id}")),
        email_variant: EmailVariant::Primary,
    }
}

/// alice, bob: admins in both namespaces; carol: REST only; dave: SCIM only; erin:
/// deactivated; frank: pending invite; gina: manager in both. `extra` more REST-only owners.
fn fixture(extra: u64) -> Company {
    let mut accounts = vec![
        acct(
            101,
            Some("f3a1c0de00000000000000000000a11c"),
            true,
            "alice@acme.example",
            SeedStatus::Active,
            "Admin",
        ),
        acct(
            102,
            Some("f3a1c0de00000000000000000000b0b0"),
            true,
            "bob@acme.example",
            SeedStatus::Active,
            "Admin",
        ),
        acct(
            103,
            None,
            true,
            "carol@acme.example",
            SeedStatus::Active,
            "Sales Rep",
        ),
        acct(
            104,
            Some("f3a1c0de00000000000000000000da7e"),
            false,
            "dave@acme.example",
            SeedStatus::Active,
            "Sales Rep",
        ),
        acct(
            105,
            Some("f3a1c0de00000000000000000000e414"),
            true,
            "erin@acme.example",
            SeedStatus::Inactive,
            "Sales Rep",
        ),
        acct(
            106,
            Some("f3a1c0de00000000000000000000f4a4"),
            true,
            "frank@acme.example",
            SeedStatus::Pending,
            "Sales Rep",
        ),
        acct(
            107,
            Some("f3a1c0de00000000000000000000916a"),
            true,
            "gina@acme.example",
            SeedStatus::Active,
            "Sales Manager",
        ),
    ];
    for i in 0..extra {
        accounts.push(acct(
            1000 + i,
            None,
            true,
            &format!("rep{i}@acme.example"),
            SeedStatus::Active,
            "Sales Rep",
        ));
    }
    let mut catalogs = BTreeMap::new();
    catalogs.insert(
        App::Freshsales,
        Catalog {
            roles: vec![
                "Account Admin".into(),
                "Admin".into(),
                "Sales Manager".into(),
                "Sales Rep".into(),
            ],
            groups: vec!["East".into(), "West".into()],
            departments: vec!["Sales".into()],
        },
    );
    Company {
        config: CompanyConfig::new(7, 10, ANCHOR),
        people: Vec::new(),
        accounts,
        catalogs,
        businesses: Vec::new(),
        freshbooks_owner: None,
        drifts: Vec::new(),
    }
}

fn env_with(plan: PlanTier, sso: bool, rate_limits: bool) -> SimEnv {
    SimEnv::new(
        App::Freshsales,
        SimClock::frozen(ANCHOR),
        TenantOptions {
            plan,
            rate_limits,
            sso,
            seat_limit: None,
        },
        42,
    )
}

fn sim() -> AppSim {
    build(&fixture(0), env_with(PlanTier::Enterprise, true, true))
}

fn key(sim: &AppSim, n: usize) -> String {
    sim.credentials["api_keys"][n]["api_key"]
        .as_str()
        .unwrap()
        .to_string()
}

fn token_auth(key: &str) -> String {
    format!("Token token={key}")
}

async fn call(
    sim: &AppSim,
    method: &str,
    uri: &str,
    auth: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, HeaderMap, Value) {
    call_host(sim, method, uri, auth, body, "acme.myfreshworks.com").await
}

async fn call_host(
    sim: &AppSim,
    method: &str,
    uri: &str,
    auth: Option<&str>,
    body: Option<Value>,
    host: &str,
) -> (StatusCode, HeaderMap, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", host);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let req = match body {
        Some(b) => req
            .header("content-type", "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let resp = sim.router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let v = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    (status, headers, v)
}

fn ids(v: &Value) -> Vec<u64> {
    v["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_u64().unwrap())
        .collect()
}

fn sim_with(env: SimEnv) -> (AppSim, FreshsalesScim) {
    let (sim, tenant) = build_parts(&fixture(0), env);
    (sim, FreshsalesScim(tenant))
}

fn sim_scim() -> (AppSim, FreshsalesScim) {
    sim_with(env_with(PlanTier::Enterprise, true, true))
}

#[tokio::test]
async fn owners_lists_only_active_rest_users() {
    let sim = sim();
    let (st, _, v) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/owners",
        Some(&token_auth(&key(&sim, 0))),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    // carol (REST only) yes; dave (SCIM only), erin (deactivated), frank (invited) no.
    assert_eq!(ids(&v), vec![101, 102, 103, 107]);
    let alice = &v["users"][0];
    assert_eq!(alice["email"], "alice@acme.example");
    assert_eq!(alice["is_active"], true);
    assert_eq!(alice["display_name"], "alice Tester");
    assert_eq!(alice["name"], "alice Tester");
    assert_eq!(alice["role_id"], ROLE_ID_BASE + 1);
}

#[tokio::test]
async fn owners_paginate_by_page_default_25_max_100_and_end_with_an_empty_array() {
    let (sim, _) = build_parts(&fixture(130), env_with(PlanTier::Enterprise, true, true));
    let auth = token_auth(&key(&sim, 0));
    let total = 4 + 130;
    let (_, _, p1) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/owners",
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(ids(&p1).len(), 25, "default page size is 25");
    let (_, _, p2) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/owners?page=2",
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(ids(&p2).len(), 25);
    assert!(
        ids(&p2)[0] > *ids(&p1).last().unwrap(),
        "pages follow in id order"
    );
    let (_, _, big) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/owners?per_page=500",
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(ids(&big).len(), 100, "per_page is capped at 100");
    // A client paginating until the array is empty sees everyone exactly once.
    let mut seen = Vec::new();
    for page in 1.. {
        let (st, _, v) = call(
            &sim,
            "GET",
            &format!("/crm/sales/api/selector/owners?page={page}&per_page=100"),
            Some(&auth),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let got = ids(&v);
        if got.is_empty() {
            break;
        }
        seen.extend(got);
    }
    assert_eq!(seen.len(), total);
    let (st, _, v) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/owners?page=99",
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v, json!({"users": []}));
}

#[tokio::test]
async fn owners_refuse_a_bad_page_with_freshsales_error_body() {
    let sim = sim();
    let (st, _, v) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/owners?page=0",
        Some(&token_auth(&key(&sim, 0))),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["errors"]["code"], 400);
    assert!(v["errors"]["message"][0].as_str().unwrap().contains("page"));
}

#[tokio::test]
async fn token_and_basic_auth_are_accepted() {
    let sim = sim();
    let k = key(&sim, 0);
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for auth in [
        format!("Token token={k}"),
        format!("Token token=\"{k}\""),
        format!("Basic {}", b64(&format!("{k}:X"))),
        format!("Basic {}", b64(&format!("{k}:"))),
        format!("Basic {}", b64(&format!("X-API-KEY:{k}"))),
    ] {
        let (st, _, v) = call(
            &sim,
            "GET",
            "/crm/sales/api/settings/profile",
            Some(&auth),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{auth}");
        assert_eq!(v["user"]["id"], 101);
    }
}

#[tokio::test]
async fn a_wrong_or_missing_key_is_401_with_freshsales_body() {
    let sim = sim();
    for auth in [None, Some("Token token=nope"), Some("Bearer nope")] {
        let (st, h, v) = call(&sim, "GET", "/crm/sales/api/selector/owners", auth, None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(
            v,
            json!({"login": "failed", "message": "Incorrect or expired API key"})
        );
        assert!(
            h.get("x-ratelimit-remaining").is_none(),
            "unauthenticated requests are not counted"
        );
    }
    // The SCIM token is not a REST key.
    let tok = format!(
        "Token token={}",
        sim.credentials["scim_token"].as_str().unwrap()
    );
    let (st, _, _) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/owners",
        Some(&tok),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn profile_returns_only_the_key_owner_for_each_of_two_keys() {
    let sim = sim();
    let (_, _, a) = call(
        &sim,
        "GET",
        "/crm/sales/api/settings/profile",
        Some(&token_auth(&key(&sim, 0))),
        None,
    )
    .await;
    let (_, _, b) = call(
        &sim,
        "GET",
        "/crm/sales/api/settings/profile?user_id=103&id=103",
        Some(&token_auth(&key(&sim, 1))),
        None,
    )
    .await;
    assert_eq!(a["user"]["email"], "alice@acme.example");
    assert_eq!(
        b["user"]["email"], "bob@acme.example",
        "query parameters do not pick another user"
    );
    assert_eq!(a["user"]["first_name"], "alice");
    assert_eq!(a["user"]["last_name"], "Tester");
    assert_eq!(sim.credentials["api_keys"][0]["user_id"], 101);
    assert_eq!(sim.credentials["api_keys"][1]["user_id"], 102);
    let (st, _, v) = call(
        &sim,
        "GET",
        "/crm/sales/api/settings/profile/103",
        Some(&token_auth(&key(&sim, 0))),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(v["errors"]["code"], 404);
}

#[tokio::test]
async fn key_owners_are_created_when_the_company_has_no_owners() {
    let mut company = fixture(0);
    company.accounts.clear();
    let sim = build(&company, env_with(PlanTier::Enterprise, true, true));
    let (st, _, v) = call(
        &sim,
        "GET",
        "/crm/sales/api/settings/profile",
        Some(&token_auth(&key(&sim, 1))),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["user"]["email"], "crm-api-2@acme.example");
    assert_ne!(key(&sim, 0), key(&sim, 1));
}

#[tokio::test]
async fn a_deactivated_key_owner_gets_401() {
    let sim = sim();
    let (st, _, _) = call(
        &sim,
        "POST",
        "/_sim/records/users/102/deactivate",
        None,
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _, _) = call(
        &sim,
        "GET",
        "/crm/sales/api/settings/profile",
        Some(&token_auth(&key(&sim, 1))),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _, _) = call(
        &sim,
        "GET",
        "/crm/sales/api/settings/profile",
        Some(&token_auth(&key(&sim, 0))),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn roles_are_listed_with_ids() {
    let sim = sim();
    let (st, _, v) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/roles",
        Some(&token_auth(&key(&sim, 0))),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        v["roles"],
        json!([
            {"id": ROLE_ID_BASE, "name": "Account Admin"},
            {"id": ROLE_ID_BASE + 1, "name": "Admin"},
            {"id": ROLE_ID_BASE + 2, "name": "Sales Manager"},
            {"id": ROLE_ID_BASE + 3, "name": "Sales Rep"},
        ])
    );
}

#[tokio::test]
async fn both_domain_formats_and_both_paths_serve_the_same_api() {
    let sim = sim();
    assert_eq!(sim.credentials["domain"], "acme");
    let auth = token_auth(&key(&sim, 0));
    let (s1, _, a) = call_host(
        &sim,
        "GET",
        "/crm/sales/api/selector/owners",
        Some(&auth),
        None,
        "acme.myfreshworks.com",
    )
    .await;
    let (s2, _, b) = call_host(
        &sim,
        "GET",
        "/crm/sales/api/selector/owners",
        Some(&auth),
        None,
        "acme.freshsales.io",
    )
    .await;
    let (s3, _, c) = call_host(
        &sim,
        "GET",
        "/api/selector/owners",
        Some(&auth),
        None,
        "acme.freshsales.io",
    )
    .await;
    assert_eq!(
        (s1, s2, s3),
        (StatusCode::OK, StatusCode::OK, StatusCode::OK)
    );
    assert_eq!(a, b);
    assert_eq!(a, c);
}

#[tokio::test]
async fn unknown_paths_and_user_webhooks_are_404_json() {
    let sim = sim();
    let auth = token_auth(&key(&sim, 0));
    for p in ["/crm/sales/api/users", "/crm/sales/api/webhooks", "/nope"] {
        let (st, _, v) = call(&sim, "GET", p, Some(&auth), None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{p}");
        assert_eq!(v["errors"]["code"], 404, "{p}");
    }
}

#[tokio::test]
async fn one_hourly_window_of_1000_shared_by_both_keys_and_scim() {
    let sim = sim();
    let k1 = token_auth(&key(&sim, 0));
    let k2 = token_auth(&key(&sim, 1));
    let scim = format!("Bearer {}", sim.credentials["scim_token"].as_str().unwrap());
    let (_, h, _) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/roles",
        Some(&k1),
        None,
    )
    .await;
    assert_eq!(h["x-ratelimit-limit"], "1000");
    assert_eq!(h["x-ratelimit-remaining"], "999");
    let reset: i64 = h["x-ratelimit-reset"].to_str().unwrap().parse().unwrap();
    assert_eq!(
        reset,
        datetime!(2026-03-02 11:00:00 UTC).unix_timestamp(),
        "reset is the window's end, Unix seconds"
    );
    let (st, _, _) = call(
        &sim,
        "POST",
        "/_sim/ratelimit/consume",
        None,
        Some(json!({"n": 997})),
    )
    .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, h, _) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/roles",
        Some(&k2),
        None,
    )
    .await;
    assert_eq!(
        h["x-ratelimit-remaining"], "1",
        "the second key draws on the same window"
    );
    let (_, h, _) = call(&sim, "GET", "/scim/v2/Users", Some(&scim), None).await;
    assert_eq!(
        h["x-ratelimit-remaining"], "0",
        "SCIM draws on the same window"
    );
    let (st, h, v) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/owners",
        Some(&k1),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        h.get("retry-after").is_none(),
        "Freshsales sends no Retry-After"
    );
    assert_eq!(h["x-ratelimit-remaining"], "0");
    assert_eq!(v["errors"]["code"], 429);
    let (st, _, _) = call(&sim, "GET", "/scim/v2/Users", Some(&scim), None).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(sim.env.counters.snapshot().rate_limited, 2);
    sim.env.clock.advance(time::Duration::minutes(40));
    let (st, h, _) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/owners",
        Some(&k2),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "a new hour is a new window");
    assert_eq!(h["x-ratelimit-remaining"], "999");
}

#[tokio::test]
async fn rate_limits_off_sends_headers_but_never_refuses() {
    let sim = build(&fixture(0), env_with(PlanTier::Enterprise, true, false));
    let k = token_auth(&key(&sim, 0));
    call(
        &sim,
        "POST",
        "/_sim/ratelimit/consume",
        None,
        Some(json!({"n": 1000})),
    )
    .await;
    let (st, h, _) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/owners",
        Some(&k),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(h["x-ratelimit-limit"], "1000");
    assert_eq!(h["x-ratelimit-remaining"], "0");
}

#[tokio::test]
async fn injected_429_has_freshsales_headers_and_no_retry_after() {
    let sim = sim();
    let (st, _, _) = call(
        &sim,
        "PUT",
        "/_sim/faults",
        None,
        Some(json!({"seed": 1, "rate_429": 1.0})),
    )
    .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, h, v) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/owners",
        Some(&token_auth(&key(&sim, 0))),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS);
    assert!(h.get("retry-after").is_none());
    assert_eq!(h["x-ratelimit-limit"], "1000");
    assert_eq!(h["x-ratelimit-remaining"], "0");
    assert_eq!(v["errors"]["code"], 429);
}

// ------------------------------------------------------------------ SCIM

#[test]
fn scim_needs_enterprise_and_sso() {
    let (_, ok) = sim_scim();
    assert!(ok.availability().is_ok());
    let (_, growth) = sim_with(env_with(PlanTier::Growth, true, true));
    let e = growth.availability().unwrap_err();
    assert_eq!(e.status, 403);
    assert!(e.detail.contains("Enterprise"));
    let (_, pro) = sim_with(env_with(PlanTier::Pro, true, true));
    assert!(pro.availability().is_err());
    let (sim, no_sso) = sim_with(env_with(PlanTier::Enterprise, false, true));
    let e = no_sso.availability().unwrap_err();
    assert!(e.detail.contains("SSO"));
    assert_eq!(sim.credentials["scim_available"], false);
}

#[test]
fn scim_token_is_separate_from_the_api_keys() {
    let (sim, b) = sim_scim();
    assert!(b.check_token(sim.credentials["scim_token"].as_str().unwrap()));
    assert!(!b.check_token(&key(&sim, 0)));
    assert!(!b.check_token(""));
}

#[test]
fn scim_users_are_the_complete_roster_with_their_own_ids() {
    let (_, b) = sim_scim();
    let users = b.list_users();
    let names: Vec<&str> = users
        .iter()
        .map(|u| u["userName"].as_str().unwrap())
        .collect();
    // carol is REST only; dave (SCIM only), erin (deactivated), frank (invited) are here.
    assert_eq!(
        names,
        vec![
            "alice@acme.example",
            "bob@acme.example",
            "dave@acme.example",
            "erin@acme.example",
            "frank@acme.example",
            "gina@acme.example"
        ]
    );
    let erin = users
        .iter()
        .find(|u| u["userName"] == "erin@acme.example")
        .unwrap();
    assert_eq!(erin["active"], false);
    let frank = users
        .iter()
        .find(|u| u["userName"] == "frank@acme.example")
        .unwrap();
    assert_eq!(frank["active"], true, "an invited user is active in SCIM");
    let alice = b.get_user("f3a1c0de00000000000000000000a11c").unwrap();
    assert_eq!(alice["id"], "f3a1c0de00000000000000000000a11c");
    assert_eq!(alice["name"]["givenName"], "alice");
    assert_eq!(alice["schemas"][0], store::USER_SCHEMA);
    assert!(b.get_user("101").is_none(), "CRM ids are not SCIM ids");
}

#[tokio::test]
async fn scim_put_active_false_removes_the_user_from_owners() {
    let (sim, b) = sim_scim();
    let auth = token_auth(&key(&sim, 0));
    let id = "f3a1c0de00000000000000000000916a"; // gina, CRM 107
    let out = b
        .replace_user(id, json!({"schemas": [store::USER_SCHEMA], "userName": "gina@acme.example", "active": false}))
        .unwrap();
    assert_eq!(out["active"], false);
    assert_eq!(b.get_user(id).unwrap()["active"], false);
    let (_, _, v) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/owners",
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(ids(&v), vec![101, 102, 103]);
    // Reactivation brings them back.
    b.replace_user(id, json!({"userName": "gina@acme.example", "active": true}))
        .unwrap();
    let (_, _, v) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/owners",
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(ids(&v), vec![101, 102, 103, 107]);
}

#[tokio::test]
async fn scim_patch_active_false_deactivates() {
    // The generic server applies PATCH as get → apply → replace.
    let (sim, b) = sim_scim();
    let id = "f3a1c0de00000000000000000000916a";
    let mut u = b.get_user(id).unwrap();
    u["active"] = json!(false);
    b.replace_user(id, u).unwrap();
    let (_, _, v) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/owners",
        Some(&token_auth(&key(&sim, 0))),
        None,
    )
    .await;
    assert!(!ids(&v).contains(&107));
    let u = b.get_user(id).unwrap();
    assert_eq!(u["active"], false);
    assert_eq!(
        u["title"], "Account Executive",
        "a get-apply-replace PATCH keeps the other attributes"
    );
}

#[tokio::test]
async fn scim_delete_deactivates_rather_than_deletes() {
    let (sim, b) = sim_scim();
    let id = "f3a1c0de00000000000000000000916a";
    b.delete_user(id).unwrap();
    let u = b.get_user(id).expect("still readable after DELETE");
    assert_eq!(u["active"], false);
    assert!(b.list_users().iter().any(|x| x["id"] == id));
    let (_, _, v) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/owners",
        Some(&token_auth(&key(&sim, 0))),
        None,
    )
    .await;
    assert!(!ids(&v).contains(&107));
    let (_, _, st) = call(&sim, "GET", "/_sim/state", None, None).await;
    let gina = st["rest_users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == 107)
        .unwrap();
    assert_eq!(
        gina["is_active"], false,
        "the CRM user is deactivated, not deleted"
    );
    assert_eq!(b.delete_user("nope").unwrap_err().status, 404);
}

#[tokio::test]
async fn scim_create_is_an_invite_listed_as_owner_once_accepted() {
    let (sim, b) = sim_scim();
    let auth = token_auth(&key(&sim, 0));
    let created = b
        .create_user(json!({
            "schemas": [store::USER_SCHEMA],
            "userName": "hana@acme.example",
            "name": {"givenName": "Hana", "familyName": "Ito"},
        }))
        .unwrap();
    let sid = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["active"], true);
    assert_eq!(created["userName"], "hana@acme.example");
    assert!(
        sid.parse::<u64>().is_err(),
        "SCIM ids are strings of their own namespace"
    );
    let (_, _, v) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/owners",
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(
        ids(&v),
        vec![101, 102, 103, 107],
        "not an owner while the invite is pending"
    );
    let (_, _, st) = call(&sim, "GET", "/_sim/state", None, None).await;
    let hana = st["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "hana@acme.example")
        .unwrap();
    assert_eq!(hana["scim_id"], sid.as_str());
    assert_eq!(hana["status"], "invited");
    let crm = hana["crm_id"].as_u64().unwrap();
    assert_eq!(crm, 108, "the CRM user gets the next CRM id");
    let (st_code, _, _) = call(
        &sim,
        "POST",
        &format!("/_sim/records/users/{sid}/accept"),
        None,
        None,
    )
    .await;
    assert_eq!(st_code, StatusCode::OK);
    let (_, _, v) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/owners",
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(ids(&v), vec![101, 102, 103, 107, 108]);
    assert_eq!(v["users"][4]["display_name"], "Hana Ito");
    // Accepting twice is refused.
    let (st_code, _, _) = call(
        &sim,
        "POST",
        &format!("/_sim/records/users/{sid}/accept"),
        None,
        None,
    )
    .await;
    assert_eq!(st_code, StatusCode::BAD_REQUEST);
}

#[test]
fn scim_create_links_a_rest_only_user_and_refuses_duplicates() {
    let (sim, b) = sim_scim();
    let _ = sim;
    let created = b
        .create_user(json!({"userName": "Carol@acme.example", "name": {"givenName": "Carol", "familyName": "T"}}))
        .unwrap();
    let (_, tenant) = (0, &b.0);
    let store = tenant.store.read();
    let carol = store.by_crm(103).unwrap();
    assert_eq!(
        carol.scim_id.as_deref(),
        created["id"].as_str(),
        "joined to CRM user 103 by email"
    );
    assert_eq!(carol.status, Status::Active);
    drop(store);
    let e = b
        .create_user(json!({"userName": "alice@acme.example"}))
        .unwrap_err();
    assert_eq!(
        (e.status, e.scim_type.as_deref()),
        (409, Some("uniqueness"))
    );
    let e = b
        .create_user(json!({"userName": "not-an-email"}))
        .unwrap_err();
    assert_eq!(e.status, 400);
    let e = b
        .create_user(json!({"name": {"givenName": "X"}}))
        .unwrap_err();
    assert!(e.detail.contains("userName"));
    let e = b.create_user(json!("x")).unwrap_err();
    assert_eq!(e.status, 400);
}

#[test]
fn scim_put_is_a_full_replacement() {
    let (_, b) = sim_scim();
    let id = "f3a1c0de00000000000000000000a11c";
    let before = b.get_user(id).unwrap();
    assert_eq!(before["title"], "Account Executive");
    let out = b
        .replace_user(
            id,
            json!({"userName": "alice@acme.example", "externalId": "okta-1"}),
        )
        .unwrap();
    assert!(
        out.get("title").is_none(),
        "attributes left out of a PUT are cleared"
    );
    assert_eq!(out["externalId"], "okta-1");
    assert_eq!(
        out["name"]["givenName"], "alice",
        "the name is kept when absent"
    );
    assert_eq!(out["active"], true, "active is kept when absent");
    let e = b
        .replace_user(id, json!({"userName": "bob@acme.example"}))
        .unwrap_err();
    assert_eq!(e.status, 409);
    assert_eq!(
        b.replace_user("nope", json!({"userName": "x@y"}))
            .unwrap_err()
            .status,
        404
    );
}

#[tokio::test]
async fn scim_roles_take_role_ids_from_selector_roles() {
    let (sim, b) = sim_scim();
    let auth = token_auth(&key(&sim, 0));
    let (_, _, roles) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/roles",
        Some(&auth),
        None,
    )
    .await;
    let manager = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Sales Manager")
        .unwrap()["id"]
        .as_u64()
        .unwrap();
    let id = "f3a1c0de00000000000000000000a11c";
    let mut u = b.get_user(id).unwrap();
    u["roles"] = json!([{"value": manager.to_string(), "primary": true}]);
    let out = b.replace_user(id, u).unwrap();
    assert_eq!(out["roles"][0]["value"], manager.to_string());
    assert_eq!(out["roles"][0]["display"], "Sales Manager");
    let (_, _, v) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/owners",
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(v["users"][0]["role_id"], manager);
    let e = b
        .replace_user(
            id,
            json!({"userName": "alice@acme.example", "roles": [{"value": "12345"}]}),
        )
        .unwrap_err();
    assert_eq!(e.status, 400);
    assert!(e.detail.contains("selector/roles"));
}

#[tokio::test]
async fn scim_groups_are_roles() {
    let (sim, b) = sim_scim();
    let auth = token_auth(&key(&sim, 0));
    let groups = b.list_groups();
    let names: Vec<&str> = groups
        .iter()
        .map(|g| g["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["Account Admin", "Admin", "Sales Manager", "Sales Rep"]
    );
    let admin = groups.iter().find(|g| g["displayName"] == "Admin").unwrap();
    let members: Vec<&str> = admin["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        members,
        vec![
            "f3a1c0de00000000000000000000a11c",
            "f3a1c0de00000000000000000000b0b0"
        ]
    );
    // Make gina an admin through the group, drop bob from it.
    let admin_id = admin["id"].as_str().unwrap().to_string();
    b.replace_group(&admin_id, json!({"displayName": "Admin", "members": [
        {"value": "f3a1c0de00000000000000000000a11c"}, {"value": "f3a1c0de00000000000000000000916a"}]}))
        .unwrap();
    let (_, _, v) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/owners",
        Some(&auth),
        None,
    )
    .await;
    let role_of = |id: u64| {
        v["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == id)
            .unwrap()["role_id"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(role_of(107), ROLE_ID_BASE + 1);
    assert_eq!(
        role_of(102),
        ROLE_ID_BASE + 3,
        "removed from a group: back to the default role"
    );
    // New group = new role, visible in selector/roles.
    let g = b.create_group(json!({"displayName": "Partners", "members": [{"value": "f3a1c0de00000000000000000000916a"}]})).unwrap();
    let (_, _, roles) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/roles",
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(roles["roles"][4]["name"], "Partners");
    assert_eq!(
        b.get_group(g["id"].as_str().unwrap()).unwrap()["members"][0]["value"],
        "f3a1c0de00000000000000000000916a"
    );
    assert_eq!(
        b.create_group(json!({"displayName": "partners"}))
            .unwrap_err()
            .status,
        409
    );
    assert_eq!(
        b.create_group(json!({"displayName": "X", "members": [{"value": "101"}]}))
            .unwrap_err()
            .status,
        400
    );
    // Deleting it moves its users to the default role; the default role stays.
    b.delete_group(g["id"].as_str().unwrap()).unwrap();
    assert_eq!(
        b.0.store.read().by_crm(107).unwrap().role_id,
        ROLE_ID_BASE + 3
    );
    let rep = b
        .list_groups()
        .into_iter()
        .find(|g| g["displayName"] == "Sales Rep")
        .unwrap();
    assert_eq!(
        b.delete_group(rep["id"].as_str().unwrap())
            .unwrap_err()
            .status,
        400
    );
    assert_eq!(b.delete_group("nope").unwrap_err().status, 404);
}

// ------------------------------------------------------------------ control

#[tokio::test]
async fn state_shows_both_namespaces_and_the_join() {
    let sim = sim();
    let (st, _, v) = call(&sim, "GET", "/_sim/state", None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["domain"], "acme");
    assert_eq!(v["users"].as_array().unwrap().len(), 7);
    assert_eq!(
        v["rest_users"].as_array().unwrap().len(),
        6,
        "dave is SCIM only"
    );
    assert_eq!(
        v["scim_users"].as_array().unwrap().len(),
        6,
        "carol is REST only"
    );
    assert_eq!(v["owners"], json!([101, 102, 103, 107]));
    let dave = v["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "dave@acme.example")
        .unwrap();
    assert_eq!(dave["crm_id"], Value::Null);
    assert_eq!(dave["scim_id"], "f3a1c0de00000000000000000000da7e");
    assert_eq!(dave["rest"], Value::Null);
    let alice = &v["users"][0];
    assert_eq!(alice["crm_id"], 101);
    assert_eq!(alice["scim_id"], "f3a1c0de00000000000000000000a11c");
    assert_eq!(alice["rest"]["id"], 101);
    assert_eq!(alice["scim"]["id"], "f3a1c0de00000000000000000000a11c");
    assert_eq!(v["roles"].as_array().unwrap().len(), 4);
    assert_eq!(v["scim_groups"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn control_patch_overwrites_fields_and_bumps_updated_at() {
    let sim = sim();
    sim.env.clock.advance(time::Duration::hours(2));
    let (st, _, v) = call(
        &sim,
        "PATCH",
        "/_sim/records/users/103",
        None,
        Some(json!({"email": "carol.new@acme.example", "job_title": "VP"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["rest"]["email"], "carol.new@acme.example");
    assert_eq!(v["rest"]["updated_at"], "2026-03-02T12:20:00Z");
    // By SCIM id too.
    let (st, _, v) = call(
        &sim,
        "PATCH",
        "/_sim/records/users/f3a1c0de00000000000000000000916a",
        None,
        Some(json!({"role": "Admin"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["rest"]["role_id"], ROLE_ID_BASE + 1);
    let (st, _, v) = call(
        &sim,
        "PATCH",
        "/_sim/records/users/103",
        None,
        Some(json!({"shoe_size": 9})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(v["error"].as_str().unwrap().contains("shoe_size"));
    let (st, _, _) = call(
        &sim,
        "PATCH",
        "/_sim/records/users/999",
        None,
        Some(json!({"email": "x@y"})),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let req = Request::builder()
        .method("PATCH")
        .uri("/_sim/records/users/103")
        .header("content-type", "application/json")
        .body(Body::from("{nope"))
        .unwrap();
    let resp = sim.router.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert!(v["error"].is_string());
}

#[tokio::test]
async fn control_deactivate_removes_from_owners_and_shows_in_scim() {
    let (sim, b) = sim_scim();
    let (st, _, v) = call(
        &sim,
        "POST",
        "/_sim/records/users/101/deactivate",
        None,
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["status"], "inactive");
    let (_, _, v) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/owners",
        Some(&token_auth(&key(&sim, 1))),
        None,
    )
    .await;
    assert_eq!(ids(&v), vec![102, 103, 107]);
    assert_eq!(
        b.get_user("f3a1c0de00000000000000000000a11c").unwrap()["active"],
        false
    );
    let (st, _, _) = call(
        &sim,
        "POST",
        "/_sim/records/users/nope/deactivate",
        None,
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[test]
fn seeds_ten_thousand_accounts() {
    let company = fixture(10_000);
    let (sim, b) = sim_with_company(&company);
    assert_eq!(b.0.store.read().owners().len(), 10_004);
    assert_eq!(sim.credentials["api_keys"].as_array().unwrap().len(), 2);
}

fn sim_with_company(company: &Company) -> (AppSim, FreshsalesScim) {
    let (sim, tenant) = build_parts(company, env_with(PlanTier::Enterprise, true, true));
    (sim, FreshsalesScim(tenant))
}

// ------------------------------------------------------------------ SCIM over HTTP

fn scim_auth(sim: &AppSim) -> String {
    format!("Bearer {}", sim.credentials["scim_token"].as_str().unwrap())
}

#[tokio::test]
async fn scim_http_is_refused_without_enterprise_and_sso() {
    for (plan, sso) in [
        (PlanTier::Growth, true),
        (PlanTier::Pro, true),
        (PlanTier::Enterprise, false),
    ] {
        let sim = build(&fixture(0), env_with(plan, sso, true));
        let (st, _, v) = call(&sim, "GET", "/scim/v2/Users", Some(&scim_auth(&sim)), None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{plan} sso={sso}");
        assert_eq!(v["status"], "403");
        // REST keeps working on every plan.
        let (st, _, _) = call(
            &sim,
            "GET",
            "/crm/sales/api/selector/owners",
            Some(&token_auth(&key(&sim, 0))),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::OK);
    }
}

#[tokio::test]
async fn scim_http_wants_its_own_bearer_token() {
    let sim = sim();
    for auth in [
        format!("Bearer {}", key(&sim, 0)),
        token_auth(&key(&sim, 0)),
    ] {
        let (st, h, v) = call(&sim, "GET", "/scim/v2/Users", Some(&auth), None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{auth}");
        assert_eq!(v["status"], "401");
        assert!(h.get("x-ratelimit-remaining").is_none());
    }
}

#[tokio::test]
async fn scim_http_list_get_and_filter() {
    let sim = sim();
    let auth = scim_auth(&sim);
    let (st, _, v) = call(
        &sim,
        "GET",
        "/scim/v2/Users?startIndex=1&count=25",
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        v["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    );
    assert_eq!(v["totalResults"], 6);
    let (_, _, v) = call(
        &sim,
        "GET",
        "/scim/v2/Users?filter=userName%20eq%20%22ERIN@acme.example%22",
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(v["totalResults"], 1);
    assert_eq!(v["Resources"][0]["active"], false);
    let (st, _, v) = call(
        &sim,
        "GET",
        "/scim/v2/Users/f3a1c0de00000000000000000000a11c",
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["userName"], "alice@acme.example");
    assert!(v["meta"]["location"]
        .as_str()
        .unwrap()
        .ends_with("/scim/v2/Users/f3a1c0de00000000000000000000a11c"));
    let (st, _, _) = call(&sim, "GET", "/scim/v2/Users/101", Some(&auth), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "a CRM id is not a SCIM id");
    let (_, _, g) = call(&sim, "GET", "/scim/v2/Groups", Some(&auth), None).await;
    assert_eq!(g["totalResults"], 4);
}

#[tokio::test]
async fn scim_http_provision_patch_and_delete_show_in_owners() {
    let sim = sim();
    let auth = scim_auth(&sim);
    let rest = token_auth(&key(&sim, 0));
    let (st, _, created) = call(
        &sim,
        "POST",
        "/scim/v2/Users",
        Some(&auth),
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "jane@acme.example",
            "name": {"givenName": "Jane", "familyName": "Doe"}
        })),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{created}");
    let sid = created["id"].as_str().unwrap().to_string();
    // Okta-style PATCH deactivation of gina.
    let gina = "f3a1c0de00000000000000000000916a";
    let (st, _, v) = call(
        &sim,
        "PATCH",
        &format!("/scim/v2/Users/{gina}"),
        Some(&auth),
        Some(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": false}}]
        })),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["active"], false);
    let (_, _, o) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/owners",
        Some(&rest),
        None,
    )
    .await;
    assert_eq!(
        ids(&o),
        vec![101, 102, 103],
        "gina gone, jane not yet accepted"
    );
    let (st, _, _) = call(
        &sim,
        "DELETE",
        "/scim/v2/Users/f3a1c0de00000000000000000000b0b0",
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, _, v) = call(
        &sim,
        "GET",
        "/scim/v2/Users/f3a1c0de00000000000000000000b0b0",
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(v["active"], false);
    call(
        &sim,
        "POST",
        &format!("/_sim/records/users/{sid}/accept"),
        None,
        None,
    )
    .await;
    let (_, _, o) = call(
        &sim,
        "GET",
        "/crm/sales/api/selector/owners",
        Some(&rest),
        None,
    )
    .await;
    assert_eq!(ids(&o), vec![101, 103, 108]);
}

#[tokio::test]
async fn a_generated_company_seeds_both_namespaces() {
    let company = crate::company::generate(&CompanyConfig::new(3, 300, ANCHOR));
    let seeded: Vec<_> = company.accounts_of(App::Freshsales).collect();
    let sim = build(&company, env_with(PlanTier::Enterprise, true, true));
    let expect_owners: Vec<u64> = {
        let mut v: Vec<u64> = seeded
            .iter()
            .filter(|a| a.namespaces.rest && a.status == SeedStatus::Active)
            .map(|a| a.native_id)
            .collect();
        v.sort_unstable();
        v
    };
    let auth = token_auth(&key(&sim, 0));
    let mut seen = Vec::new();
    for page in 1.. {
        let (_, _, v) = call(
            &sim,
            "GET",
            &format!("/crm/sales/api/selector/owners?page={page}&per_page=100"),
            Some(&auth),
            None,
        )
        .await;
        let got = ids(&v);
        if got.is_empty() {
            break;
        }
        seen.extend(got);
    }
    assert_eq!(seen, expect_owners);
    let (_, _, p) = call(
        &sim,
        "GET",
        "/crm/sales/api/settings/profile",
        Some(&auth),
        None,
    )
    .await;
    let admin = seeded
        .iter()
        .find(|a| a.native_id == p["user"]["id"].as_u64().unwrap())
        .unwrap();
    assert!(
        admin.roles[0].contains("Admin"),
        "the first key belongs to an admin"
    );
    let (_, _, v) = call(
        &sim,
        "GET",
        "/scim/v2/Users?count=100",
        Some(&scim_auth(&sim)),
        None,
    )
    .await;
    assert_eq!(
        v["totalResults"].as_u64().unwrap() as usize,
        seeded.iter().filter(|a| a.namespaces.scim).count()
    );
}

#[tokio::test]
async fn rest_cannot_create_or_change_users() {
    let sim = sim();
    let auth = token_auth(&key(&sim, 0));
    let body = json!({"user": {"email": "new@acme.example", "first_name": "New"}});
    let (st, _, v) = call(
        &sim,
        "POST",
        "/crm/sales/api/users",
        Some(&auth),
        Some(body.clone()),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(v["errors"]["code"], 404);
    let (st, _, v) = call(
        &sim,
        "POST",
        "/crm/sales/api/selector/owners",
        Some(&auth),
        Some(body),
    )
    .await;
    assert_eq!(st, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(v["errors"]["code"], 405);
    let (_, _, st) = call(&sim, "GET", "/_sim/state", None, None).await;
    assert_eq!(st["users"].as_array().unwrap().len(), 7);
}

#[tokio::test]
async fn profile_carries_every_field_of_the_guide_model() {
    let sim = sim();
    let (_, _, v) = call(
        &sim,
        "GET",
        "/crm/sales/api/settings/profile",
        Some(&token_auth(&key(&sim, 0))),
        None,
    )
    .await;
    let u = v["user"].as_object().unwrap();
    for f in [
        "id",
        "email",
        "first_name",
        "last_name",
        "display_name",
        "phone",
        "mobile",
        "role_id",
        "territory_id",
        "is_active",
        "time_zone",
        "language",
        "created_at",
        "updated_at",
    ] {
        assert!(u.contains_key(f), "missing {f}");
    }
    assert_eq!(
        u["territory_id"], 70_000_000_002u64,
        "seeded group West is the second territory"
    );
    assert_eq!(u["created_at"], "2025-11-22T10:20:00Z");
}
