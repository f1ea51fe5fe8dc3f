//! Tests of the Freshservice simulator: every endpoint, every "Watch out for" and trap of the
//! guide and the README facts, rate limits and the control endpoints (see
//! `docs/simulators/freshservice.md` for the map from guide item to test).

use super::model::Kind;
use super::*;
use crate::common::TenantOptions;
use crate::company::{
    AccountKind, Catalog, CompanyConfig, EmailVariant, Namespaces, SeedAccount, SeedStatus,
};
use crate::scim_server::ScimBackend;
use axum::body::Body;
use base64::Engine;
use http::{Method, Request, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use time::macros::datetime;
use time::OffsetDateTime;
use tower::ServiceExt;

const ANCHOR: OffsetDateTime = datetime!(2026-03-02 10:00:30 UTC);

fn account(id: u64, kind: AccountKind, email: &str, status: SeedStatus) -> SeedAccount {
    SeedAccount {
        app: App::Freshservice,
        kind,
        native_id: id,
        scim_id: None,
        scope: None,
        email: email.to_string(),
        first_name: format!("First{id}"),
        last_name: format!("Last{id}"),
        job_title: Some("Engineer".into()),
        department: Some("IT".into()),
        status,
        roles: Vec::new(),
        groups: Vec::new(),
        occasional: false,
        namespaces: Namespaces {
            rest: true,
            scim: false,
        },
        created_at: datetime!(2025-01-01 00:00 UTC),
        updated_at: datetime!(2025-06-01 00:00 UTC) + time::Duration::days(id as i64 % 100),
        last_login_at: Some(datetime!(2026-02-01 00:00 UTC)),
        owner: None,
        email_variant: EmailVariant::Primary,
    }
}

/// Agents 1 (admin, active), 2 (SD Agent in Network+Desk, active), 3 (deactivated), 4
/// (occasional); requesters 10, 11, 12 (deactivated).
fn fixture() -> Company {
    let mut a1 = account(
        1,
        AccountKind::Agent,
        "ada@acme.example",
        SeedStatus::Active,
    );
    a1.roles = vec!["Account Admin".into()];
    let mut a2 = account(
        2,
        AccountKind::Agent,
        "bob@acme.example",
        SeedStatus::Active,
    );
    a2.roles = vec!["SD Agent".into()];
    a2.groups = vec!["Network".into(), "Desk".into()];
    let mut a3 = account(
        3,
        AccountKind::Agent,
        "cy@acme.example",
        SeedStatus::Inactive,
    );
    a3.roles = vec!["SD Agent".into()];
    let mut a4 = account(
        4,
        AccountKind::Agent,
        "dee@acme.example",
        SeedStatus::Active,
    );
    a4.roles = vec!["SD Agent".into()];
    a4.occasional = true;
    let r10 = account(
        10,
        AccountKind::Requester,
        "eve@acme.example",
        SeedStatus::Active,
    );
    let r11 = account(
        11,
        AccountKind::Requester,
        "fay@acme.example",
        SeedStatus::Active,
    );
    let r12 = account(
        12,
        AccountKind::Requester,
        "gus@acme.example",
        SeedStatus::Inactive,
    );
    company_of(vec![a1, a2, a3, a4, r10, r11, r12])
}

fn company_of(accounts: Vec<SeedAccount>) -> Company {
    let mut catalogs = BTreeMap::new();
    catalogs.insert(
        App::Freshservice,
        Catalog {
            roles: vec![
                "Account Admin".into(),
                "Admin".into(),
                "SD Supervisor".into(),
                "SD Agent".into(),
            ],
            groups: vec!["Network".into(), "Desk".into(), "Empty".into()],
            departments: vec!["IT".into(), "Sales".into()],
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

fn opts(plan: PlanTier, sso: bool) -> TenantOptions {
    TenantOptions {
        plan,
        rate_limits: true,
        sso,
        seat_limit: None,
    }
}

fn sim_with(company: &Company, o: TenantOptions) -> AppSim {
    let env = SimEnv::new(App::Freshservice, SimClock::frozen(ANCHOR), o, 7);
    build(company, env)
}

fn sim() -> AppSim {
    sim_with(&fixture(), opts(PlanTier::Enterprise, false))
}

struct Resp {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Value,
}

fn auth_for(key: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:X"))
    )
}

async fn send(s: &AppSim, method: Method, path: &str, body: Option<Value>) -> Resp {
    let key = s.credentials["api_key"].as_str().unwrap().to_string();
    send_as(s, method, path, body, Some(auth_for(&key))).await
}

async fn send_as(
    s: &AppSim,
    method: Method,
    path: &str,
    body: Option<Value>,
    auth: Option<String>,
) -> Resp {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "acme.freshservice.test");
    if let Some(a) = auth {
        b = b.header("authorization", a);
    }
    let req = match body {
        Some(v) => b
            .header("content-type", "application/json")
            .body(Body::from(v.to_string()))
            .unwrap(),
        None => b.body(Body::empty()).unwrap(),
    };
    raw(s, req).await
}

async fn raw(s: &AppSim, req: Request<Body>) -> Resp {
    let resp = s.router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Resp {
        status,
        headers,
        body,
    }
}

fn ids(v: &Value, key: &str) -> Vec<u64> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_u64().unwrap())
        .collect()
}

async fn role_id(s: &AppSim, name: &str) -> u64 {
    let r = send(s, Method::GET, "/api/v2/roles", None).await;
    r.body["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == name)
        .unwrap()["id"]
        .as_u64()
        .unwrap()
}

async fn group_id(s: &AppSim, name: &str) -> u64 {
    let r = send(s, Method::GET, "/api/v2/groups", None).await;
    r.body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == name)
        .unwrap()["id"]
        .as_u64()
        .unwrap()
}

// ------------------------------------------------------------------ auth

#[tokio::test]
async fn basic_auth_with_api_key_and_any_password() {
    let s = sim();
    let key = s.credentials["api_key"].as_str().unwrap();
    let any = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:whatever"))
    );
    let r = send_as(&s, Method::GET, "/api/v2/agents", None, Some(any)).await;
    assert_eq!(r.status, StatusCode::OK);
    let key2 = s.credentials["api_key_2"].as_str().unwrap();
    let r = send_as(
        &s,
        Method::GET,
        "/api/v2/agents",
        None,
        Some(auth_for(key2)),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the second integration's key works"
    );
    for auth in [None, Some(auth_for("wrong")), Some(format!("Bearer {key}"))] {
        let r = send_as(&s, Method::GET, "/api/v2/agents", None, auth).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.body["code"], "invalid_credentials");
        assert!(r.body["message"].is_string());
    }
}

// ------------------------------------------------------------------ list agents

#[tokio::test]
async fn list_agents_returns_only_active_by_default_and_deactivated_with_active_false() {
    let s = sim();
    let r = send(&s, Method::GET, "/api/v2/agents", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(ids(&r.body, "agents"), vec![1, 2, 4]);
    let r = send(&s, Method::GET, "/api/v2/agents?active=false", None).await;
    assert_eq!(ids(&r.body, "agents"), vec![3]);
    assert_eq!(r.body["agents"][0]["active"], false);
    let r = send(&s, Method::GET, "/api/v2/agents?active=maybe", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["field"], "active");
}

#[tokio::test]
async fn agent_list_carries_roles_scopes_groups_and_sync_fields() {
    let s = sim();
    let r = send(&s, Method::GET, "/api/v2/agents", None).await;
    let a2 = &r.body["agents"][1];
    let sd = role_id(&s, "SD Agent").await;
    let net = group_id(&s, "Network").await;
    let desk = group_id(&s, "Desk").await;
    assert_eq!(a2["role_ids"], json!([sd]));
    assert_eq!(
        a2["roles"],
        json!([{"role_id": sd, "assignment_scope": "specified_groups", "groups": [net, desk]}])
    );
    assert_eq!(a2["group_ids"], json!([net, desk]));
    assert_eq!(a2["member_of"], json!([net, desk]));
    for f in [
        "last_login_at",
        "last_active_at",
        "occasional",
        "department_ids",
        "created_at",
        "updated_at",
        "job_title",
        "email",
        "first_name",
        "last_name",
    ] {
        assert!(a2.get(f).is_some(), "agent list item lacks {f}");
    }
    assert_eq!(a2["last_login_at"], "2026-02-01T00:00:00Z");
    let admin = role_id(&s, "Account Admin").await;
    assert_eq!(
        r.body["agents"][0]["roles"],
        json!([{"role_id": admin, "assignment_scope": "entire_helpdesk", "groups": []}])
    );
    assert_eq!(r.body["agents"][2]["occasional"], true);
    let r = send(&s, Method::GET, "/api/v2/agents?state=occasional", None).await;
    assert_eq!(ids(&r.body, "agents"), vec![4]);
    let r = send(&s, Method::GET, "/api/v2/agents?state=fulltime", None).await;
    assert_eq!(ids(&r.body, "agents"), vec![1, 2]);
}

#[tokio::test]
async fn seeded_scopes_on_small_plans_avoid_specified_groups() {
    let s = sim_with(&fixture(), opts(PlanTier::Growth, false));
    let r = send(&s, Method::GET, "/api/v2/agents/2", None).await;
    assert_eq!(
        r.body["agent"]["roles"][0]["assignment_scope"],
        "member_groups"
    );
    let r = send(&s, Method::GET, "/api/v2/agents/4", None).await;
    assert_eq!(
        r.body["agent"]["roles"][0]["assignment_scope"],
        "assigned_items"
    );
}

#[tokio::test]
async fn get_agent_by_id_wraps_in_agent_and_404s_for_requesters_and_unknown_ids() {
    let s = sim();
    let r = send(&s, Method::GET, "/api/v2/agents/1", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["agent"]["email"], "ada@acme.example");
    assert_eq!(r.body["agent"]["active"], true);
    let r = send(&s, Method::GET, "/api/v2/agents/10", None).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "a requester is not an agent"
    );
    let r = send(&s, Method::GET, "/api/v2/agents/999", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["code"], "not_found");
    let r = send(&s, Method::GET, "/api/v2/agents/abc", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn get_agent_404_after_the_account_purged_a_deactivated_agent() {
    let s = sim();
    let r = send(&s, Method::GET, "/api/v2/agents/3", None).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "deactivated but not purged: still readable"
    );
    assert_eq!(r.body["agent"]["active"], false);
    let r = send(&s, Method::POST, "/_sim/records/agents/3/purge", None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = send(&s, Method::GET, "/api/v2/agents/3", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = send(&s, Method::GET, "/api/v2/agents?active=false", None).await;
    assert!(ids(&r.body, "agents").is_empty());
}

// ------------------------------------------------------------------ pagination

#[tokio::test]
async fn pagination_defaults_to_30_caps_at_100_and_links_next_pages() {
    let accounts: Vec<SeedAccount> = (1..=250)
        .map(|i| {
            account(
                i,
                AccountKind::Requester,
                &format!("r{i}@acme.example"),
                SeedStatus::Active,
            )
        })
        .collect();
    let s = sim_with(&company_of(accounts), opts(PlanTier::Enterprise, false));
    let r = send(&s, Method::GET, "/api/v2/requesters", None).await;
    assert_eq!(ids(&r.body, "requesters").len(), 30);
    let link = r.headers["link"].to_str().unwrap();
    assert_eq!(
        link,
        "<http://acme.freshservice.test/api/v2/requesters?page=2>; rel=\"next\""
    );
    let r = send(
        &s,
        Method::GET,
        "/api/v2/requesters?per_page=500&page=1",
        None,
    )
    .await;
    assert_eq!(
        ids(&r.body, "requesters").len(),
        100,
        "per_page is capped at 100"
    );
    let r = send(
        &s,
        Method::GET,
        "/api/v2/requesters?per_page=100&page=3",
        None,
    )
    .await;
    let got = ids(&r.body, "requesters");
    assert_eq!(got.len(), 50);
    assert_eq!(got[0], 201);
    assert!(r.headers.get("link").is_none(), "no Link on the last page");
    let r = send(&s, Method::GET, "/api/v2/requesters?per_page=0", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["field"], "per_page");
    let r = send(
        &s,
        Method::GET,
        "/api/v2/requesters?per_page=100&page=9",
        None,
    )
    .await;
    assert!(ids(&r.body, "requesters").is_empty());
}

#[tokio::test]
async fn ten_thousand_accounts_seed_and_page_without_per_agent_calls() {
    let accounts: Vec<SeedAccount> = (1..=10_000)
        .map(|i| {
            let mut a = account(
                i,
                if i % 2 == 0 {
                    AccountKind::Agent
                } else {
                    AccountKind::Requester
                },
                &format!("u{i}@acme.example"),
                SeedStatus::Active,
            );
            if a.kind == AccountKind::Agent {
                a.roles = vec!["SD Agent".into()];
            }
            a
        })
        .collect();
    let s = sim_with(&company_of(accounts), opts(PlanTier::Enterprise, false));
    let r = send(&s, Method::GET, "/api/v2/agents?per_page=100&page=50", None).await;
    let got = ids(&r.body, "agents");
    assert_eq!(got.len(), 100);
    assert_eq!(got[99], 10_000);
    assert!(r.headers.get("link").is_none());
    let r = send(
        &s,
        Method::GET,
        "/api/v2/requesters?include_agents=true&per_page=100&page=100",
        None,
    )
    .await;
    assert_eq!(ids(&r.body, "requesters").last(), Some(&10_000));
}

// ------------------------------------------------------------------ filters

#[tokio::test]
async fn email_filter_finds_agents_and_requesters_case_insensitively() {
    let s = sim();
    let r = send(
        &s,
        Method::GET,
        "/api/v2/agents?email=BOB@acme.example",
        None,
    )
    .await;
    assert_eq!(ids(&r.body, "agents"), vec![2]);
    let r = send(
        &s,
        Method::GET,
        "/api/v2/requesters?email=eve@acme.example",
        None,
    )
    .await;
    assert_eq!(ids(&r.body, "requesters"), vec![10]);
    let r = send(
        &s,
        Method::GET,
        "/api/v2/requesters?email=bob@acme.example",
        None,
    )
    .await;
    assert!(
        ids(&r.body, "requesters").is_empty(),
        "an agent is not a requester"
    );
    let r = send(
        &s,
        Method::GET,
        "/api/v2/agents?email=cy@acme.example",
        None,
    )
    .await;
    assert!(
        ids(&r.body, "agents").is_empty(),
        "deactivated: needs active=false"
    );
    let r = send(
        &s,
        Method::GET,
        "/api/v2/agents?email=cy@acme.example&active=false",
        None,
    )
    .await;
    assert_eq!(ids(&r.body, "agents"), vec![3]);
}

#[tokio::test]
async fn updated_since_is_inclusive_and_still_hides_deactivated_without_active_false() {
    let s = sim();
    // agent 2 was updated 2025-06-03, agent 4 on 2025-06-05, agent 3 (deactivated) on 2025-06-04.
    let r = send(
        &s,
        Method::GET,
        "/api/v2/agents?updated_since=2025-06-03T00:00:00Z",
        None,
    )
    .await;
    assert_eq!(ids(&r.body, "agents"), vec![2, 4], "boundary is inclusive");
    let r = send(
        &s,
        Method::GET,
        "/api/v2/agents?updated_since=2025-06-03T00:00:01Z",
        None,
    )
    .await;
    assert_eq!(ids(&r.body, "agents"), vec![4]);
    let r = send(
        &s,
        Method::GET,
        "/api/v2/agents?updated_since=2025-06-03T00:00:00Z&active=false",
        None,
    )
    .await;
    assert_eq!(
        ids(&r.body, "agents"),
        vec![3],
        "a separate pass finds the deactivated"
    );
    let r = send(
        &s,
        Method::GET,
        "/api/v2/agents?updated_since=yesterday",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["field"], "updated_since");
}

// ------------------------------------------------------------------ requesters

#[tokio::test]
async fn requesters_leave_agents_out_unless_include_agents() {
    let s = sim();
    let r = send(&s, Method::GET, "/api/v2/requesters", None).await;
    assert_eq!(ids(&r.body, "requesters"), vec![10, 11]);
    assert_eq!(r.body["requesters"][0]["primary_email"], "eve@acme.example");
    assert_eq!(r.body["requesters"][0]["email"], "eve@acme.example");
    let r = send(
        &s,
        Method::GET,
        "/api/v2/requesters?include_agents=true",
        None,
    )
    .await;
    assert_eq!(ids(&r.body, "requesters"), vec![1, 2, 4, 10, 11]);
    assert_eq!(r.body["requesters"][0]["is_agent"], true);
    let r = send(&s, Method::GET, "/api/v2/requesters?active=false", None).await;
    assert_eq!(ids(&r.body, "requesters"), vec![12]);
    let r = send(&s, Method::DELETE, "/api/v2/requesters/1", None).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "a requester DELETE cannot touch an agent"
    );
    let r = send(&s, Method::PUT, "/api/v2/requesters/2/reactivate", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = send(&s, Method::GET, "/api/v2/agents/1", None).await;
    assert_eq!(r.body["agent"]["active"], true);
    let r = send(&s, Method::GET, "/api/v2/requesters/1", None).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "an agent is not at /requesters/{{id}}"
    );
}

#[tokio::test]
async fn create_and_get_requester_accepting_email_and_primary_email() {
    let s = sim();
    let it = send(&s, Method::GET, "/api/v2/departments", None)
        .await
        .body["departments"][0]["id"]
        .as_u64()
        .unwrap();
    let r = send(
        &s,
        Method::POST,
        "/api/v2/requesters",
        Some(
            json!({"first_name": "Bob", "last_name": "B", "email": "newbob@acme.example",
                    "department_ids": [it], "job_title": "Clerk"}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let id = r.body["requester"]["id"].as_u64().unwrap();
    assert!(id > 12, "new ids come after the seeded ones");
    assert_eq!(r.body["requester"]["active"], true);
    assert_eq!(r.body["requester"]["department_ids"], json!([it]));
    let r = send(
        &s,
        Method::POST,
        "/api/v2/requesters",
        Some(json!({"first_name": "Pat", "primary_email": "pat@acme.example"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let pat = r.body["requester"]["id"].as_u64().unwrap();
    let r = send(&s, Method::GET, &format!("/api/v2/requesters/{pat}"), None).await;
    assert_eq!(r.body["requester"]["primary_email"], "pat@acme.example");
    let r = send(
        &s,
        Method::POST,
        "/api/v2/requesters",
        Some(json!({"email": "noname@acme.example"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["field"], "first_name");
    assert_eq!(r.body["errors"][0]["code"], "missing_field");
    let r = send(
        &s,
        Method::POST,
        "/api/v2/requesters",
        Some(json!({"first_name": "X", "email": "not-an-email"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["field"], "email");
    let r = send(
        &s,
        Method::POST,
        "/api/v2/requesters",
        Some(json!({"first_name": "X", "email": "x@acme.example", "roles": []})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["code"], "invalid_field");
}

#[tokio::test]
async fn email_is_unique_across_agents_and_requesters_with_a_409_field_error() {
    let s = sim();
    let r = send(
        &s,
        Method::POST,
        "/api/v2/requesters",
        Some(json!({"first_name": "B", "email": "Bob@Acme.example"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "bob is an agent");
    assert_eq!(r.body["description"], "Validation failed");
    assert_eq!(r.body["errors"][0]["field"], "email");
    assert_eq!(r.body["errors"][0]["code"], "duplicate_value");
    assert!(r.body["errors"][0]["message"].is_string());
    let sd = role_id(&s, "SD Agent").await;
    let r = send(
        &s,
        Method::POST,
        "/api/v2/agents",
        Some(json!({"first_name": "E", "email": "eve@acme.example",
                    "roles": [{"role_id": sd, "assignment_scope": "assigned_items"}]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "eve is a requester");
    assert_eq!(r.body["errors"][0]["code"], "duplicate_value");
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/requesters/10",
        Some(json!({"email": "fay@acme.example"})),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "an update may not take a used email either"
    );
}

#[tokio::test]
async fn put_requester_is_partial_and_delete_reactivate_round_trip() {
    let s = sim();
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/requesters/10",
        Some(json!({"job_title": "Boss", "vip_user": true})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["requester"]["job_title"], "Boss");
    assert_eq!(r.body["requester"]["vip_user"], true);
    assert_eq!(
        r.body["requester"]["first_name"], "First10",
        "untouched fields stay"
    );
    assert_eq!(r.body["requester"]["updated_at"], "2026-03-02T10:00:30Z");
    let r = send(&s, Method::DELETE, "/api/v2/requesters/10", None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = send(&s, Method::GET, "/api/v2/requesters/10", None).await;
    assert_eq!(r.body["requester"]["active"], false);
    let r = send(
        &s,
        Method::POST,
        "/api/v2/requesters",
        Some(json!({"first_name": "E", "email": "eve@acme.example"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "the email stays reserved");
    let r = send(&s, Method::PUT, "/api/v2/requesters/10/reactivate", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["requester"]["active"], true);
    let r = send(&s, Method::GET, "/api/v2/requesters", None).await;
    assert_eq!(ids(&r.body, "requesters"), vec![10, 11]);
}

// ------------------------------------------------------------------ create / update agents

#[tokio::test]
async fn create_agent_needs_roles_with_role_id_and_assignment_scope() {
    let mut o = opts(PlanTier::Enterprise, false);
    o.seat_limit = Some(10);
    let s = sim_with(&fixture(), o);
    let sd = role_id(&s, "SD Agent").await;
    let net = group_id(&s, "Network").await;
    let r = send(
        &s,
        Method::POST,
        "/api/v2/agents",
        Some(json!({"first_name": "Jane", "email": "jane@acme.example"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["field"], "roles");
    let r = send(
        &s,
        Method::POST,
        "/api/v2/agents",
        Some(
            json!({"first_name": "Jane", "email": "jane@acme.example", "roles": [{"role_id": sd}]}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["field"], "assignment_scope");
    let r = send(
        &s,
        Method::POST,
        "/api/v2/agents",
        Some(json!({"first_name": "Jane", "email": "jane@acme.example",
                    "roles": [{"role_id": 1, "assignment_scope": "entire_helpdesk"}]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "unknown role id");
    let r = send(
        &s,
        Method::POST,
        "/api/v2/agents",
        Some(json!({"first_name": "Jane", "email": "jane@acme.example",
                    "roles": [{"role_id": sd, "assignment_scope": "specified_groups"}]})),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "specified_groups needs groups"
    );
    let r = send(
        &s,
        Method::POST,
        "/api/v2/agents",
        Some(json!({"first_name": "Jane", "email": "jane@acme.example",
                    "roles": [{"role_id": sd, "assignment_scope": "specified_groups", "groups": [net]}],
                    "group_ids": [net]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let a = &r.body["agent"];
    assert_eq!(a["email"], "jane@acme.example");
    assert_eq!(a["active"], true);
    assert_eq!(a["created_at"], "2026-03-02T10:00:30Z");
    assert_eq!(a["roles"][0]["groups"], json!([net]));
    let jane = a["id"].as_u64().unwrap();
    let g = send(&s, Method::GET, &format!("/api/v2/groups/{net}"), None).await;
    assert!(g.body["group"]["members"]
        .as_array()
        .unwrap()
        .contains(&json!(jane)));
    // The guide's role_ids spelling is accepted too.
    let r = send(
        &s,
        Method::POST,
        "/api/v2/agents",
        Some(json!({"first_name": "Kim", "email": "kim@acme.example", "role_ids": [sd]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["agent"]["role_ids"], json!([sd]));
}

#[tokio::test]
async fn creating_a_full_time_agent_consumes_a_seat_and_fails_when_none_is_left() {
    let mut o = opts(PlanTier::Enterprise, false);
    o.seat_limit = Some(3);
    let s = sim_with(&fixture(), o);
    let sd = role_id(&s, "SD Agent").await;
    let body = |e: &str| json!({"first_name": "N", "email": e, "roles": [{"role_id": sd, "assignment_scope": "assigned_items"}]});
    let r = send(
        &s,
        Method::POST,
        "/api/v2/agents",
        Some(body("n1@acme.example")),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "2 full-time agents seeded, limit 3"
    );
    let r = send(
        &s,
        Method::POST,
        "/api/v2/agents",
        Some(body("n2@acme.example")),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["description"], "Validation failed");
    assert_eq!(r.body["errors"][0]["field"], "agent_license");
    let mut occ = body("n3@acme.example");
    occ["occasional"] = json!(true);
    let r = send(&s, Method::POST, "/api/v2/agents", Some(occ)).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "occasional agents need no full-time seat"
    );
    let state = send(&s, Method::GET, "/_sim/state", None).await;
    assert_eq!(state.body["seats"], json!({"limit": 3, "used": 3}));
    // Reactivating a deactivated full-time agent needs a seat as well.
    let r = send(&s, Method::PUT, "/api/v2/agents/3/reactivate", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = send(&s, Method::DELETE, "/api/v2/agents/2", None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = send(&s, Method::PUT, "/api/v2/agents/3/reactivate", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["agent"]["active"], true);
}

#[tokio::test]
async fn default_seat_limit_is_seeded_active_agents_plus_ten_percent() {
    let s = sim();
    let state = send(&s, Method::GET, "/_sim/state", None).await;
    assert_eq!(state.body["seats"], json!({"limit": 3, "used": 2}));
}

#[tokio::test]
async fn put_agent_is_a_partial_update() {
    let s = sim();
    let sales = send(&s, Method::GET, "/api/v2/departments", None)
        .await
        .body["departments"][1]["id"]
        .as_u64()
        .unwrap();
    let before = send(&s, Method::GET, "/api/v2/agents/2", None).await.body["agent"].clone();
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/agents/2",
        Some(json!({"job_title": "Senior Engineer", "department_ids": [sales]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let a = &r.body["agent"];
    assert_eq!(a["job_title"], "Senior Engineer");
    assert_eq!(a["department_ids"], json!([sales]));
    assert_eq!(a["updated_at"], "2026-03-02T10:00:30Z");
    for f in [
        "first_name",
        "last_name",
        "email",
        "roles",
        "group_ids",
        "occasional",
    ] {
        assert_eq!(a[f], before[f], "{f} was not sent and must not change");
    }
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/agents/2",
        Some(json!({"department_ids": [1]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "unknown department");
    let r = send(&s, Method::PUT, "/api/v2/agents/2", Some(json!({"id": 5}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["code"], "invalid_field");
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/agents/999",
        Some(json!({"job_title": "x"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn put_roles_replaces_the_whole_list_and_unsent_scopes_are_lost() {
    let s = sim();
    let sd = role_id(&s, "SD Agent").await;
    let sup = role_id(&s, "SD Supervisor").await;
    let net = group_id(&s, "Network").await;
    // Adding a role by sending only the new one drops the old one.
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/agents/2",
        Some(json!({"roles": [{"role_id": sup, "assignment_scope": "entire_helpdesk"}]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["agent"]["role_ids"], json!([sup]));
    // Sending a kept role without its scope and groups loses them.
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/agents/2",
        Some(json!({"roles": [{"role_id": sup}, {"role_id": sd, "assignment_scope": "specified_groups", "groups": [net]}]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body["agent"]["roles"],
        json!([
            {"role_id": sup, "assignment_scope": "assigned_items", "groups": []},
            {"role_id": sd, "assignment_scope": "specified_groups", "groups": [net]},
        ])
    );
    // A PUT without roles keeps them.
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/agents/2",
        Some(json!({"job_title": "x"})),
    )
    .await;
    assert_eq!(r.body["agent"]["roles"].as_array().unwrap().len(), 2);
    // role_ids replaces too, with the default scope.
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/agents/2",
        Some(json!({"role_ids": [sd]})),
    )
    .await;
    assert_eq!(
        r.body["agent"]["roles"],
        json!([{"role_id": sd, "assignment_scope": "assigned_items", "groups": []}])
    );
}

#[tokio::test]
async fn specified_groups_is_refused_on_small_plans() {
    let s = sim_with(&fixture(), opts(PlanTier::Starter, false));
    let sd = role_id(&s, "SD Agent").await;
    let net = group_id(&s, "Network").await;
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/agents/2",
        Some(json!({"roles": [{"role_id": sd, "assignment_scope": "specified_groups", "groups": [net]}]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["field"], "assignment_scope");
}

#[tokio::test]
async fn with_sso_an_email_change_on_put_is_a_silent_no_op() {
    let s = sim_with(&fixture(), opts(PlanTier::Enterprise, true));
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/agents/2",
        Some(json!({"email": "robert@acme.example", "job_title": "Lead"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["agent"]["email"], "bob@acme.example");
    assert_eq!(
        r.body["agent"]["job_title"], "Lead",
        "the other fields still change"
    );
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/requesters/10",
        Some(json!({"email": "evelyn@acme.example"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["requester"]["email"], "eve@acme.example");
    // Without SSO the change goes through.
    let s = sim();
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/agents/2",
        Some(json!({"email": "robert@acme.example"})),
    )
    .await;
    assert_eq!(r.body["agent"]["email"], "robert@acme.example");
    let r = send(
        &s,
        Method::GET,
        "/api/v2/agents?email=bob@acme.example",
        None,
    )
    .await;
    assert!(
        ids(&r.body, "agents").is_empty(),
        "the old email is free again"
    );
}

#[tokio::test]
async fn delete_agent_deactivates_keeps_the_record_and_reserves_the_email() {
    let s = sim();
    let r = send(&s, Method::DELETE, "/api/v2/agents/2", None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(r.body, Value::Null);
    let r = send(&s, Method::GET, "/api/v2/agents/2", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["agent"]["active"], false);
    assert_eq!(r.body["agent"]["updated_at"], "2026-03-02T10:00:30Z");
    let r = send(&s, Method::GET, "/api/v2/agents", None).await;
    assert_eq!(ids(&r.body, "agents"), vec![1, 4]);
    let sd = role_id(&s, "SD Agent").await;
    let r = send(
        &s,
        Method::POST,
        "/api/v2/agents",
        Some(json!({"first_name": "B", "email": "bob@acme.example",
                    "roles": [{"role_id": sd, "assignment_scope": "assigned_items"}]})),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "re-provisioning needs reactivation"
    );
    assert_eq!(r.body["errors"][0]["code"], "duplicate_value");
    let r = send(&s, Method::PUT, "/api/v2/agents/2/reactivate", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["agent"]["active"], true);
    assert_eq!(r.body["agent"]["id"], 2);
    let r = send(&s, Method::DELETE, "/api/v2/agents/999", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn convert_requester_to_agent_keeps_the_id_takes_a_seat_and_has_no_roles() {
    let mut o = opts(PlanTier::Enterprise, false);
    o.seat_limit = Some(3);
    let s = sim_with(&fixture(), o);
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/requesters/10/convert_to_agent",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["agent"]["id"], 10);
    assert_eq!(r.body["agent"]["email"], "eve@acme.example");
    assert_eq!(r.body["agent"]["active"], true);
    assert_eq!(
        r.body["agent"]["roles"],
        json!([]),
        "roles come in a later PUT"
    );
    let r = send(&s, Method::GET, "/api/v2/requesters", None).await;
    assert_eq!(ids(&r.body, "requesters"), vec![11]);
    let r = send(&s, Method::GET, "/api/v2/agents/10", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let sd = role_id(&s, "SD Agent").await;
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/agents/10",
        Some(json!({"roles": [{"role_id": sd, "assignment_scope": "entire_helpdesk"}]})),
    )
    .await;
    assert_eq!(r.body["agent"]["role_ids"], json!([sd]));
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/requesters/11/convert_to_agent",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "no seat left");
    assert_eq!(r.body["errors"][0]["field"], "agent_license");
    let r = send(&s, Method::GET, "/api/v2/requesters/11", None).await;
    assert_eq!(r.status, StatusCode::OK, "still a requester");
    send(&s, Method::DELETE, "/api/v2/requesters/11", None).await;
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/requesters/11/convert_to_agent",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "a deactivated requester");
    assert_eq!(r.body["errors"][0]["field"], "id");
    send(&s, Method::PUT, "/api/v2/requesters/11/reactivate", None).await;
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/requesters/999/convert_to_agent",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // And back: an agent converted to a requester frees its seat.
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/agents/10/convert_to_requester",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["requester"]["id"], 10);
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/requesters/11/convert_to_agent",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn forget_deletes_for_good_and_frees_the_email() {
    let s = sim();
    let r = send(&s, Method::DELETE, "/api/v2/requesters/11/forget", None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = send(&s, Method::GET, "/api/v2/requesters/11", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = send(
        &s,
        Method::POST,
        "/api/v2/requesters",
        Some(json!({"first_name": "F", "email": "fay@acme.example"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = send(&s, Method::DELETE, "/api/v2/agents/4/forget", None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = send(&s, Method::GET, "/api/v2/agents/4", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

// ------------------------------------------------------------------ groups, roles, departments

#[tokio::test]
async fn group_members_replace_and_a_missing_field_changes_nothing() {
    let s = sim();
    let net = group_id(&s, "Network").await;
    let path = format!("/api/v2/groups/{net}");
    let r = send(&s, Method::GET, &path, None).await;
    assert_eq!(r.body["group"]["members"], json!([2]));
    let r = send(&s, Method::PUT, &path, Some(json!({"members": [1]}))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body["group"]["members"],
        json!([1]),
        "the list is replaced, not merged"
    );
    let a2 = send(&s, Method::GET, "/api/v2/agents/2", None).await;
    assert!(!a2.body["agent"]["group_ids"]
        .as_array()
        .unwrap()
        .contains(&json!(net)));
    assert_eq!(
        a2.body["agent"]["updated_at"], "2026-03-02T10:00:30Z",
        "a membership change shows in the agent's updated_at"
    );
    let a1 = send(&s, Method::GET, "/api/v2/agents/1", None).await;
    assert_eq!(a1.body["agent"]["group_ids"], json!([net]));
    let r = send(&s, Method::PUT, &path, Some(json!({"description": "core"}))).await;
    assert_eq!(
        r.body["group"]["members"],
        json!([1]),
        "no members field: unchanged"
    );
    assert_eq!(r.body["group"]["description"], "core");
    let r = send(&s, Method::PUT, &path, Some(json!({"members": []}))).await;
    assert_eq!(
        r.body["group"]["members"],
        json!([]),
        "removing the last member needs []"
    );
    let r = send(&s, Method::PUT, &path, Some(json!({"members": [10]}))).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "requesters are not agent group members"
    );
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/groups/1",
        Some(json!({"members": []})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn groups_create_list_and_delete() {
    let s = sim();
    let r = send(&s, Method::GET, "/api/v2/groups", None).await;
    assert_eq!(r.body["groups"].as_array().unwrap().len(), 3);
    let r = send(
        &s,
        Method::POST,
        "/api/v2/groups",
        Some(json!({"name": "Apps", "members": [1, 2]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let gid = r.body["group"]["id"].as_u64().unwrap();
    let a = send(&s, Method::GET, "/api/v2/agents/1", None).await;
    assert!(a.body["agent"]["group_ids"]
        .as_array()
        .unwrap()
        .contains(&json!(gid)));
    let r = send(
        &s,
        Method::POST,
        "/api/v2/groups",
        Some(json!({"name": "apps"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = send(&s, Method::DELETE, &format!("/api/v2/groups/{gid}"), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let a = send(&s, Method::GET, "/api/v2/agents/1", None).await;
    assert_eq!(a.body["agent"]["group_ids"], json!([]));
}

#[tokio::test]
async fn roles_and_departments_list_and_get() {
    let s = sim();
    let r = send(&s, Method::GET, "/api/v2/roles", None).await;
    let names: Vec<&str> = r.body["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["Account Admin", "Admin", "SD Supervisor", "SD Agent"]
    );
    let id = r.body["roles"][0]["id"].as_u64().unwrap();
    let r = send(&s, Method::GET, &format!("/api/v2/roles/{id}"), None).await;
    assert_eq!(r.body["role"]["name"], "Account Admin");
    let r = send(&s, Method::GET, "/api/v2/departments", None).await;
    assert_eq!(r.body["departments"][0]["name"], "IT");
    let id = r.body["departments"][0]["id"].as_u64().unwrap();
    let r = send(&s, Method::GET, &format!("/api/v2/departments/{id}"), None).await;
    assert_eq!(r.body["department"]["name"], "IT");
    let r = send(&s, Method::GET, "/api/v2/departments/1", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let a = send(&s, Method::GET, "/api/v2/agents/1", None).await;
    assert_eq!(a.body["agent"]["department_ids"], json!([id]));
}

// ------------------------------------------------------------------ bodies and routes

#[tokio::test]
async fn malformed_json_and_wrong_content_type_get_vendor_errors() {
    let s = sim();
    let key = s.credentials["api_key"].as_str().unwrap().to_string();
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v2/requesters")
        .header("authorization", auth_for(&key))
        .header("content-type", "application/json")
        .body(Body::from("{\"first_name\": "))
        .unwrap();
    let r = raw(&s, req).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["code"], "invalid_json");
    let req = Request::builder()
        .method(Method::PUT)
        .uri("/api/v2/agents/1")
        .header("authorization", auth_for(&key))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("job_title=x"))
        .unwrap();
    let r = raw(&s, req).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(r.body["code"], "invalid_content_type");
    let r = send(&s, Method::POST, "/api/v2/requesters", Some(json!([1, 2]))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["code"], "invalid_json");
    let r = send(&s, Method::GET, "/api/v2/nothing", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["code"], "not_found");
    let r = send(&s, Method::POST, "/api/v2/agents/1", Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.body["code"], "method_not_allowed");
}

// ------------------------------------------------------------------ rate limits

#[tokio::test]
async fn rate_limit_headers_on_every_response_and_429_with_retry_after_per_plan() {
    for (plan, limit) in [
        (PlanTier::Starter, 50u32),
        (PlanTier::Growth, 100),
        (PlanTier::Pro, 200),
        (PlanTier::Enterprise, 400),
    ] {
        let s = sim_with(&fixture(), opts(plan, false));
        let r = send(&s, Method::GET, "/api/v2/roles", None).await;
        assert_eq!(r.headers["x-ratelimit-total"], limit.to_string().as_str());
        assert_eq!(
            r.headers["x-ratelimit-remaining"],
            (limit - 1).to_string().as_str()
        );
        assert_eq!(r.headers["x-ratelimit-used-currentrequest"], "1");
        let r = send(&s, Method::GET, "/api/v2/agents/999", None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(
            r.headers.contains_key("x-ratelimit-remaining"),
            "errors carry them too"
        );
        for _ in 2..limit {
            let r = send(&s, Method::GET, "/api/v2/roles", None).await;
            assert_eq!(r.status, StatusCode::OK);
        }
        let r = send(&s, Method::GET, "/api/v2/roles", None).await;
        assert_eq!(
            r.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{plan}: request {} refused",
            limit + 1
        );
        assert_eq!(
            r.headers["retry-after"], "30",
            "the frozen clock is 30 s into the minute"
        );
        assert_eq!(r.headers["x-ratelimit-remaining"], "0");
        let c = send(&s, Method::GET, "/_sim/counters", None).await;
        assert_eq!(c.body["rate_limited"], 1);
        s.env.clock.advance(time::Duration::seconds(30));
        let r = send(&s, Method::GET, "/api/v2/roles", None).await;
        assert_eq!(r.status, StatusCode::OK, "a new minute");
    }
}

#[tokio::test]
async fn two_api_keys_share_the_account_limit() {
    let s = sim_with(&fixture(), opts(PlanTier::Starter, false));
    let k1 = s.credentials["api_key"].as_str().unwrap().to_string();
    let k2 = s.credentials["api_key_2"].as_str().unwrap().to_string();
    for i in 0..50 {
        let k = if i % 2 == 0 { &k1 } else { &k2 };
        let r = send_as(&s, Method::GET, "/api/v2/roles", None, Some(auth_for(k))).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let r = send_as(&s, Method::GET, "/api/v2/roles", None, Some(auth_for(&k2))).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // Another integration eating into the window via the control endpoint.
    let s = sim_with(&fixture(), opts(PlanTier::Starter, false));
    let r = send(
        &s,
        Method::POST,
        "/_sim/ratelimit/consume",
        Some(json!({"n": 50})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = send(&s, Method::GET, "/api/v2/roles", None).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn list_agents_and_requesters_have_a_40_per_minute_limit_on_small_plans() {
    for plan in [PlanTier::Starter, PlanTier::Growth] {
        let s = sim_with(&fixture(), opts(plan, false));
        for i in 0..40 {
            let path = if i % 2 == 0 {
                "/api/v2/agents"
            } else {
                "/api/v2/requesters"
            };
            let r = send(&s, Method::GET, path, None).await;
            assert_eq!(r.status, StatusCode::OK);
            if i == 0 {
                assert_eq!(
                    r.headers["x-ratelimit-total"], "40",
                    "the binding window is shown"
                );
            }
        }
        let r = send(&s, Method::GET, "/api/v2/agents", None).await;
        assert_eq!(
            r.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{plan}: list limit"
        );
        assert!(r.headers.contains_key("retry-after"));
        let r = send(&s, Method::GET, "/api/v2/agents/1", None).await;
        assert_eq!(r.status, StatusCode::OK, "other endpoints still pass");
    }
    let s = sim_with(&fixture(), opts(PlanTier::Pro, false));
    for _ in 0..41 {
        let r = send(&s, Method::GET, "/api/v2/agents", None).await;
        assert_eq!(r.status, StatusCode::OK, "Pro has no list sub-limit");
    }
}

#[tokio::test]
async fn rate_limits_off_still_send_headers_but_never_refuse() {
    let mut o = opts(PlanTier::Starter, false);
    o.rate_limits = false;
    let s = sim_with(&fixture(), o);
    for _ in 0..60 {
        let r = send(&s, Method::GET, "/api/v2/agents", None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.headers.contains_key("x-ratelimit-total"));
    }
}

#[tokio::test]
async fn injected_429_has_the_freshservice_shape() {
    let s = sim();
    let r = send(
        &s,
        Method::PUT,
        "/_sim/faults",
        Some(json!({"seed": 1, "rate_429": 1.0})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = send(&s, Method::GET, "/api/v2/agents", None).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers["retry-after"], "30");
    assert_eq!(r.headers["x-ratelimit-total"], "400");
    assert_eq!(r.body["code"], "rate_limit_exceeded");
}

// ------------------------------------------------------------------ control endpoints

#[tokio::test]
async fn sim_state_holds_every_collection_deactivated_included() {
    let s = sim();
    let r = send(&s, Method::GET, "/_sim/state", None).await;
    assert_eq!(ids(&r.body, "agents"), vec![1, 2, 3, 4]);
    assert_eq!(ids(&r.body, "requesters"), vec![10, 11, 12]);
    assert_eq!(r.body["roles"].as_array().unwrap().len(), 4);
    assert_eq!(r.body["groups"].as_array().unwrap().len(), 3);
    assert_eq!(r.body["departments"].as_array().unwrap().len(), 2);
    let c = send(&s, Method::GET, "/_sim/counters", None).await;
    assert_eq!(c.body["total"], 0, "control calls are not vendor requests");
}

#[tokio::test]
async fn sim_patch_overwrites_fields_and_bumps_updated_at() {
    let s = sim_with(&fixture(), opts(PlanTier::Enterprise, true));
    s.env.clock.advance(time::Duration::hours(1));
    let r = send(
        &s,
        Method::PATCH,
        "/_sim/records/agents/2",
        Some(json!({"email": "robert@acme.example", "job_title": "CTO",
                    "last_login_at": "2026-03-01T08:00:00Z"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body["agent"]["email"], "robert@acme.example",
        "control bypasses SSO"
    );
    assert_eq!(r.body["agent"]["last_login_at"], "2026-03-01T08:00:00Z");
    assert_eq!(r.body["agent"]["updated_at"], "2026-03-02T11:00:30Z");
    let r = send(
        &s,
        Method::GET,
        "/api/v2/agents?updated_since=2026-03-02T11:00:30Z",
        None,
    )
    .await;
    assert_eq!(ids(&r.body, "agents"), vec![2]);
    let r = send(
        &s,
        Method::PATCH,
        "/_sim/records/widgets/2",
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = send(
        &s,
        Method::PATCH,
        "/_sim/records/requesters/2",
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn sim_deactivate_and_purge() {
    let s = sim();
    let r = send(
        &s,
        Method::POST,
        "/_sim/records/requesters/11/deactivate",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["requester"]["active"], false);
    let r = send(&s, Method::GET, "/api/v2/requesters", None).await;
    assert_eq!(ids(&r.body, "requesters"), vec![10]);
    let r = send(&s, Method::POST, "/_sim/records/requesters/11/purge", None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = send(&s, Method::GET, "/api/v2/requesters/11", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = send(&s, Method::POST, "/_sim/records/agents/11/purge", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

// ------------------------------------------------------------------ SCIM

fn scim_sim(plan: PlanTier, sso: bool) -> (AppSim, scim::FreshserviceScim) {
    let env = SimEnv::new(
        App::Freshservice,
        SimClock::frozen(ANCHOR),
        opts(plan, sso),
        7,
    );
    let (s, tenant) = build_parts(&fixture(), env);
    (s, scim::FreshserviceScim { tenant })
}

#[test]
fn credentials_hold_two_keys_a_scim_token_and_the_domain() {
    let s = sim();
    let c = &s.credentials;
    assert_ne!(c["api_key"], c["api_key_2"]);
    assert!(c["scim_token"].as_str().unwrap().len() >= 32);
    assert!(c["domain"].as_str().unwrap().ends_with(".freshservice.com"));
    let again = sim();
    assert_eq!(
        again.credentials, s.credentials,
        "deterministic from the seed"
    );
}

#[test]
fn scim_needs_pro_or_enterprise_and_sso_and_its_own_token() {
    for plan in [PlanTier::Starter, PlanTier::Growth] {
        let (_, b) = scim_sim(plan, true);
        let e = b.availability().unwrap_err();
        assert_eq!(e.status, 403);
        assert!(e.detail.contains("Pro and Enterprise"), "{}", e.detail);
    }
    let (_, b) = scim_sim(PlanTier::Enterprise, false);
    let e = b.availability().unwrap_err();
    assert!(e.detail.contains("SSO"), "{}", e.detail);
    let (s, b) = scim_sim(PlanTier::Pro, true);
    assert!(b.availability().is_ok());
    assert!(b.check_token(s.credentials["scim_token"].as_str().unwrap()));
    assert!(
        !b.check_token(s.credentials["api_key"].as_str().unwrap()),
        "the REST key is not the SCIM token"
    );
}

#[tokio::test]
async fn scim_users_are_requesters_and_agents_and_new_ones_are_requesters() {
    let (s, b) = scim_sim(PlanTier::Enterprise, true);
    let users = b.list_users();
    assert_eq!(
        users.len(),
        7,
        "agents and requesters, deactivated included"
    );
    let bob = b.get_user("2").unwrap();
    assert_eq!(bob["userName"], "bob@acme.example");
    assert_eq!(bob["userType"], "agent");
    assert_eq!(bob["groups"].as_array().unwrap().len(), 2);
    assert_eq!(b.get_user("12").unwrap()["active"], false);
    let created = b
        .create_user(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "sam@acme.example",
            "externalId": "okta-1",
            "name": {"givenName": "Sam", "familyName": "Smith"},
            "emails": [{"value": "sam@acme.example", "primary": true}],
            "active": true
        }))
        .unwrap();
    assert_eq!(created["userType"], "requester");
    assert_eq!(created["externalId"], "okta-1");
    let id = created["id"].as_str().unwrap().to_string();
    let r = send(&s, Method::GET, &format!("/api/v2/requesters/{id}"), None).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "a SCIM user shows up as a REST requester"
    );
    assert_eq!(r.body["requester"]["last_name"], "Smith");
    let r = send(&s, Method::GET, &format!("/api/v2/agents/{id}"), None).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "SCIM does not promote to agent"
    );
    let dup = b
        .create_user(json!({"userName": "BOB@acme.example", "name": {"givenName": "B"}}))
        .unwrap_err();
    assert_eq!(dup.status, 409);
    assert_eq!(dup.scim_type.as_deref(), Some("uniqueness"));
}

#[tokio::test]
async fn scim_delete_deactivates_and_replace_updates() {
    let (s, b) = scim_sim(PlanTier::Enterprise, true);
    b.delete_user("2").unwrap();
    let r = send(&s, Method::GET, "/api/v2/agents/2", None).await;
    assert_eq!(r.status, StatusCode::OK, "the record is kept");
    assert_eq!(r.body["agent"]["active"], false);
    assert_eq!(b.delete_user("999").unwrap_err().status, 404);
    let u = b
        .replace_user(
            "10",
            json!({"userName": "eve.new@acme.example", "name": {"givenName": "Eve", "familyName": "N"},
                   "emails": [{"value": "eve.new@acme.example", "primary": true}], "active": false}),
        )
        .unwrap();
    assert_eq!(u["userName"], "eve.new@acme.example");
    assert_eq!(u["active"], false);
    let r = send(&s, Method::GET, "/api/v2/requesters/10", None).await;
    assert_eq!(r.body["requester"]["email"], "eve.new@acme.example");
    assert_eq!(r.body["requester"]["active"], false);
}

#[tokio::test]
async fn scim_groups_are_agent_groups() {
    let (s, b) = scim_sim(PlanTier::Enterprise, true);
    let groups = b.list_groups();
    assert_eq!(groups.len(), 3);
    let net = group_id(&s, "Network").await.to_string();
    let g = b.get_group(&net).unwrap();
    assert_eq!(g["displayName"], "Network");
    assert_eq!(g["members"][0]["value"], "2");
    let g = b
        .replace_group(
            &net,
            json!({"displayName": "Network", "members": [{"value": "1"}]}),
        )
        .unwrap();
    assert_eq!(g["members"].as_array().unwrap().len(), 1);
    let r = send(&s, Method::GET, &format!("/api/v2/groups/{net}"), None).await;
    assert_eq!(r.body["group"]["members"], json!([1]));
    let e = b
        .replace_group(
            &net,
            json!({"displayName": "Network", "members": [{"value": "10"}]}),
        )
        .unwrap_err();
    assert_eq!(e.status, 400, "a requester cannot join an agent group");
    let created = b
        .create_group(json!({"displayName": "SCIM Team", "members": [{"value": "2"}]}))
        .unwrap();
    let gid = created["id"].as_str().unwrap().to_string();
    let a = send(&s, Method::GET, "/api/v2/agents/2", None).await;
    assert!(a.body["agent"]["group_ids"]
        .as_array()
        .unwrap()
        .contains(&json!(gid.parse::<u64>().unwrap())));
    b.delete_group(&gid).unwrap();
    assert!(b.get_group(&gid).is_none());
}

async fn scim_call(s: &AppSim, method: Method, path: &str, token: &str) -> Resp {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "acme.freshservice.test")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    raw(s, req).await
}

#[tokio::test]
async fn scim_is_served_at_scim_v2_behind_plan_sso_and_token() {
    let (s, _) = scim_sim(PlanTier::Enterprise, true);
    let token = s.credentials["scim_token"].as_str().unwrap().to_string();
    let r = scim_call(&s, Method::GET, "/scim/v2/Users?count=100", &token).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["totalResults"], 7);
    let r = scim_call(&s, Method::GET, "/scim/v2/Groups", &token).await;
    assert_eq!(r.body["totalResults"], 3);
    let key = s.credentials["api_key"].as_str().unwrap().to_string();
    let r = scim_call(&s, Method::GET, "/scim/v2/Users", &key).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "the REST key is not the SCIM token"
    );
    let (s, _) = scim_sim(PlanTier::Growth, true);
    let token = s.credentials["scim_token"].as_str().unwrap().to_string();
    let r = scim_call(&s, Method::GET, "/scim/v2/Users", &token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let (s, _) = scim_sim(PlanTier::Enterprise, false);
    let token = s.credentials["scim_token"].as_str().unwrap().to_string();
    let r = scim_call(&s, Method::GET, "/scim/v2/Users", &token).await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "SSO must be configured first"
    );
    let _ = Kind::Agent;
}

#[tokio::test]
async fn custom_fields_merge_and_patch_is_accepted_like_put() {
    let s = sim();
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/requesters/10",
        Some(json!({"custom_fields": {"employee_id": "E10", "cost_center": "CC1"}})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    // The guide's scenario PATCHes custom_fields: the same partial update.
    let r = send(
        &s,
        Method::PATCH,
        "/api/v2/requesters/10",
        Some(json!({"custom_fields": {"cost_center": "CC2"}})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body["requester"]["custom_fields"],
        json!({"employee_id": "E10", "cost_center": "CC2"})
    );
    let r = send(
        &s,
        Method::PATCH,
        "/api/v2/agents/1",
        Some(json!({"job_title": "Chief"})),
    )
    .await;
    assert_eq!(r.body["agent"]["job_title"], "Chief");
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/requesters/10",
        Some(json!({"custom_fields": 3})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["code"], "datatype_mismatch");
}

#[tokio::test]
async fn put_active_false_deactivates_and_true_reactivates() {
    let s = sim();
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/agents/1",
        Some(json!({"active": false})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["agent"]["active"], false);
    let r = send(&s, Method::GET, "/api/v2/agents", None).await;
    assert_eq!(ids(&r.body, "agents"), vec![2, 4]);
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/agents/1",
        Some(json!({"active": true})),
    )
    .await;
    assert_eq!(r.body["agent"]["active"], true);
    let r = send(
        &s,
        Method::PUT,
        "/api/v2/agents/1",
        Some(json!({"active": "no"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn scim_http_create_is_a_requester_and_patch_active_false_deactivates() {
    let (s, _) = scim_sim(PlanTier::Enterprise, true);
    let token = s.credentials["scim_token"].as_str().unwrap().to_string();
    let post = Request::builder()
        .method(Method::POST)
        .uri("/scim/v2/Users")
        .header("host", "acme.freshservice.test")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/scim+json")
        .body(Body::from(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                   "userName": "zoe@acme.example", "name": {"givenName": "Zoe", "familyName": "Z"},
                   "emails": [{"value": "zoe@acme.example", "primary": true}], "active": true})
            .to_string(),
        ))
        .unwrap();
    let r = raw(&s, post).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let rest = send(&s, Method::GET, &format!("/api/v2/requesters/{id}"), None).await;
    assert_eq!(rest.status, StatusCode::OK);
    let patch = Request::builder()
        .method(Method::PATCH)
        .uri(format!("/scim/v2/Users/{id}"))
        .header("host", "acme.freshservice.test")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/scim+json")
        .body(Body::from(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": [{"op": "replace", "path": "active", "value": false}]})
            .to_string(),
        ))
        .unwrap();
    let r = raw(&s, patch).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["active"], false);
    let rest = send(&s, Method::GET, &format!("/api/v2/requesters/{id}"), None).await;
    assert_eq!(rest.body["requester"]["active"], false);
}

#[tokio::test]
async fn a_generated_company_seeds_every_freshservice_account() {
    let company = crate::company::generate(&CompanyConfig::new(42, 300, ANCHOR));
    let expected = company.accounts_of(App::Freshservice).count();
    let s = sim_with(&company, opts(PlanTier::Enterprise, true));
    let st = send(&s, Method::GET, "/_sim/state", None).await;
    let got = st.body["agents"].as_array().unwrap().len()
        + st.body["requesters"].as_array().unwrap().len();
    assert_eq!(got, expected);
    assert!(st.body["agents"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["roles"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["assignment_scope"].is_string())));
    let r = send(&s, Method::GET, "/api/v2/agents?per_page=100", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!ids(&r.body, "agents").is_empty());
}

#[test]
fn a_second_record_with_the_same_email_takes_it_over_when_the_first_is_purged() {
    let mut a = account(
        1,
        AccountKind::Requester,
        "dup@acme.example",
        SeedStatus::Inactive,
    );
    a.roles.clear();
    let b = account(
        2,
        AccountKind::Requester,
        "DUP@acme.example",
        SeedStatus::Active,
    );
    let company = company_of(vec![a, b]);
    let mut store = model::Store::seed(
        company.accounts_of(App::Freshservice),
        &company.catalog(App::Freshservice),
        PlanTier::Enterprise,
        false,
        None,
        ANCHOR,
    );
    assert_eq!(store.by_email("dup@acme.example").map(|u| u.id), Some(1));
    store.purge(Kind::Requester, 1, ANCHOR).unwrap();
    assert_eq!(store.by_email("dup@acme.example").map(|u| u.id), Some(2));
}

#[tokio::test]
async fn webhook_events_are_recorded_for_agent_and_requester_changes() {
    let s = sim();
    let r = send(
        &s,
        Method::POST,
        "/api/v2/requesters",
        Some(json!({"first_name": "W", "email": "w@acme.example"})),
    )
    .await;
    let id = r.body["requester"]["id"].as_u64().unwrap();
    send(
        &s,
        Method::PUT,
        "/api/v2/agents/1",
        Some(json!({"job_title": "x"})),
    )
    .await;
    send(&s, Method::DELETE, "/api/v2/agents/2", None).await;
    let r = send(&s, Method::GET, "/_sim/webhooks", None).await;
    let events: Vec<(String, u64)> = r.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap().to_string(),
                e["id"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        events,
        vec![
            ("requester.created".to_string(), id),
            ("agent.updated".to_string(), 1),
            ("agent.updated".to_string(), 2),
        ]
    );
    assert_eq!(r.body["events"][2]["data"]["agent"]["active"], false);
}
