//! Tests of the Freshdesk simulator: one or more per endpoint, per "Watch out for" and per trap
//! sentence of `shared/api-guides/freshdesk.txt` (see `docs/simulators/freshdesk.md`).

use super::*;
use crate::clock::{rfc3339, SimClock};
use crate::common::TenantOptions;
use crate::company::{
    AccountKind, Catalog, CompanyConfig, EmailVariant, Namespaces, SeedAccount, SeedStatus,
};
use axum::body::Body;
use base64::Engine;
use http::{HeaderMap, Method};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use time::macros::datetime;
use time::OffsetDateTime;
use tower::ServiceExt;

const ANCHOR: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

#[allow(clippy::too_many_arguments)]
fn account(
    id: u64,
    kind: AccountKind,
    status: SeedStatus,
    first: &str,
    email: &str,
    roles: &[&str],
    groups: &[&str],
    occasional: bool,
) -> SeedAccount {
    SeedAccount {
        app: App::Freshdesk,
        kind,
        native_id: id,
        scim_id: None,
        scope: None,
        email: email.to_string(),
        first_name: first.to_string(),
        last_name: "Test".to_string(),
        job_title: Some("Support".to_string()),
        department: None,
        status,
        roles: roles.iter().map(|s| s.to_string()).collect(),
        groups: groups.iter().map(|s| s.to_string()).collect(),
        occasional,
        namespaces: Namespaces {
            rest: true,
            scim: false,
        },
        created_at: datetime!(2025-01-01 00:00 UTC),
        updated_at: datetime!(2025-06-01 00:00 UTC),
        last_login_at: Some(datetime!(2026-02-01 00:00 UTC)),
        owner: None,
        email_variant: EmailVariant::Primary,
    }
}

/// Agents 101 (admin), 102, 105 (occasional) active; 103 unconfirmed; 104 deactivated.
/// Contacts 201, 202 verified; 203 deleted; 204 unverified. Three seats taken → limit 4.
fn fixture_with(extra_contacts: usize) -> Company {
    use AccountKind::{Agent, Contact};
    use SeedStatus::*;
    let mut accounts = vec![
        account(
            101,
            Agent,
            Active,
            "Ana",
            "ana@acme.example",
            &["Account Administrator"],
            &["Tier 1"],
            false,
        ),
        account(
            102,
            Agent,
            Active,
            "Bob",
            "bob@acme.example",
            &["Agent"],
            &["Tier 1", "Billing"],
            false,
        ),
        account(
            103,
            Agent,
            Pending,
            "Cara",
            "cara@acme.example",
            &["Agent"],
            &[],
            false,
        ),
        account(
            104,
            Agent,
            Inactive,
            "Dan",
            "dan@acme.example",
            &["Agent"],
            &["Billing"],
            false,
        ),
        account(
            105,
            Agent,
            Active,
            "Eve",
            "eve@acme.example",
            &["Supervisor"],
            &[],
            true,
        ),
        account(
            201,
            Contact,
            Active,
            "Carl",
            "carl@customer.example",
            &[],
            &[],
            false,
        ),
        account(
            202,
            Contact,
            Active,
            "Dora",
            "dora@other.example",
            &[],
            &[],
            false,
        ),
        account(
            203,
            Contact,
            Deleted,
            "Zed",
            "zed@customer.example",
            &[],
            &[],
            false,
        ),
        account(
            204,
            Contact,
            Inactive,
            "Uma",
            "uma@other.example",
            &[],
            &[],
            false,
        ),
    ];
    for i in 0..extra_contacts {
        let id = 1000 + i as u64;
        accounts.push(account(
            id,
            Contact,
            Active,
            "Bulk",
            &format!("bulk{i}@many.example"),
            &[],
            &[],
            false,
        ));
    }
    let mut catalogs = BTreeMap::new();
    catalogs.insert(
        App::Freshdesk,
        Catalog {
            roles: [
                "Account Administrator",
                "Administrator",
                "Supervisor",
                "Agent",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            groups: vec!["Tier 1".to_string(), "Billing".to_string()],
            departments: Vec::new(),
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

fn fixture() -> Company {
    fixture_with(0)
}

fn env_with(options: TenantOptions) -> SimEnv {
    SimEnv::new(App::Freshdesk, SimClock::frozen(ANCHOR), options, 7)
}

fn sim_with(options: TenantOptions) -> AppSim {
    build(&fixture(), env_with(options))
}

fn sim() -> AppSim {
    sim_with(TenantOptions::default())
}

fn key(sim: &AppSim) -> String {
    sim.credentials["api_key"].as_str().unwrap().to_string()
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

async fn send_raw(
    router: &Router,
    method: Method,
    path: &str,
    auth: Option<String>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Resp {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "acme.freshdesk.test");
    if let Some(a) = auth {
        b = b.header("authorization", a);
    }
    if let Some(ct) = content_type {
        b = b.header("content-type", ct);
    }
    let resp = router
        .clone()
        .oneshot(b.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    Resp {
        status,
        headers,
        body,
    }
}

async fn call(sim: &AppSim, method: Method, path: &str, body: Option<Value>) -> Resp {
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    send_raw(
        &sim.router,
        method,
        path,
        Some(basic(&key(sim), "X")),
        Some("application/json"),
        bytes,
    )
    .await
}

async fn get(sim: &AppSim, path: &str) -> Resp {
    call(sim, Method::GET, path, None).await
}

async fn control(sim: &AppSim, method: Method, path: &str, body: Value) -> Resp {
    send_raw(
        &sim.router,
        method,
        path,
        None,
        Some("application/json"),
        body.to_string().into_bytes(),
    )
    .await
}

fn ids(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_u64().unwrap())
        .collect()
}

fn header<'a>(r: &'a Resp, name: &str) -> Option<&'a str> {
    r.headers.get(name).map(|v| v.to_str().unwrap())
}

fn first_error_code(r: &Resp) -> &str {
    r.body["errors"][0]["code"].as_str().unwrap_or("")
}

// ----- agents --------------------------------------------------------------------------------

#[tokio::test]
async fn list_agents_is_a_bare_array_of_active_agents_by_default() {
    let s = sim();
    let r = get(&s, "/api/v2/agents").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.is_array(), "bare JSON array, no envelope");
    assert_eq!(ids(&r.body), vec![101, 102, 105]);
    let a = &r.body[0];
    for k in [
        "id",
        "ticket_scope",
        "role_ids",
        "group_ids",
        "type",
        "occasional",
        "available",
        "created_at",
        "updated_at",
        "last_active_at",
        "contact",
    ] {
        assert!(a.get(k).is_some(), "agent field {k} missing");
    }
    for k in [
        "name",
        "email",
        "active",
        "job_title",
        "phone",
        "mobile",
        "language",
        "time_zone",
        "last_login_at",
        "created_at",
        "updated_at",
    ] {
        assert!(a["contact"].get(k).is_some(), "contact field {k} missing");
    }
    assert_eq!(a["type"], "support_agent");
    assert_eq!(a["contact"]["email"], "ana@acme.example");
}

#[tokio::test]
async fn list_agents_active_false_gives_deactivated_and_unconfirmed_told_apart() {
    let s = sim();
    let r = get(&s, "/api/v2/agents?active=false").await;
    assert_eq!(ids(&r.body), vec![103, 104]);
    let unconfirmed = &r.body[0];
    assert_eq!(unconfirmed["active"], false);
    assert_eq!(unconfirmed["deactivated"], false);
    assert_eq!(unconfirmed["contact"]["active"], false);
    assert!(unconfirmed["contact"]["last_login_at"].is_null());
    let deactivated = &r.body[1];
    assert_eq!(deactivated["active"], false);
    assert_eq!(deactivated["deactivated"], true);
    assert_eq!(deactivated["contact"]["active"], true);
    let r = get(&s, "/api/v2/agents?active=true").await;
    assert_eq!(ids(&r.body), vec![101, 102, 105]);
    let r = get(&s, "/api/v2/agents?active=maybe").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn list_agents_filters_email_mobile_phone_state() {
    let s = sim();
    let r = get(&s, "/api/v2/agents?email=BOB@acme.example").await;
    assert_eq!(ids(&r.body), vec![102]);
    let r = get(&s, "/api/v2/agents?state=occasional").await;
    assert_eq!(ids(&r.body), vec![105]);
    let r = get(&s, "/api/v2/agents?state=fulltime").await;
    assert_eq!(ids(&r.body), vec![101, 102]);
    let r = get(&s, "/api/v2/agents?state=parttime").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["field"], "state");
    let r = call(
        &s,
        Method::PUT,
        "/api/v2/agents/102",
        Some(json!({"phone": "+1555", "mobile": "+1666"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        ids(&get(&s, "/api/v2/agents?phone=%2B1555").await.body),
        vec![102]
    );
    assert_eq!(
        ids(&get(&s, "/api/v2/agents?mobile=%2B1666").await.body),
        vec![102]
    );
    assert!(ids(&get(&s, "/api/v2/agents?mobile=%2B1555").await.body).is_empty());
    // Filters combine with active=false.
    let r = get(&s, "/api/v2/agents?email=dan@acme.example&active=false").await;
    assert_eq!(ids(&r.body), vec![104]);
}

#[tokio::test]
async fn get_agent_returns_the_agent_and_404_otherwise() {
    let s = sim();
    let r = get(&s, "/api/v2/agents/101").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["id"], 101);
    assert_eq!(r.body["ticket_scope"], 1);
    assert_eq!(r.body["role_ids"], json!([store::ROLE_ID_BASE]));
    assert_eq!(r.body["group_ids"], json!([store::GROUP_ID_BASE]));
    for missing in [
        "/api/v2/agents/999",
        "/api/v2/agents/201",
        "/api/v2/agents/abc",
    ] {
        let r = get(&s, missing).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{missing}");
        assert_eq!(r.body["code"], "not_found");
    }
    let r = get(&s, "/api/v2/agents/me").await;
    assert_eq!(
        r.body["id"], 101,
        "the API key belongs to the account admin"
    );
}

#[tokio::test]
async fn create_agent_is_inactive_until_the_invitation_is_confirmed() {
    let s = sim();
    let r = call(
        &s,
        Method::POST,
        "/api/v2/agents",
        Some(json!({"name": "John Smith", "email": "john@acme.example", "ticket_scope": 1, "role_ids": [store::ROLE_ID_BASE + 3]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["active"], false);
    assert_eq!(r.body["contact"]["active"], false);
    assert_eq!(r.body["created_at"], rfc3339(ANCHOR));
    let id = r.body["id"].as_u64().unwrap();
    assert!(!ids(&get(&s, "/api/v2/agents").await.body).contains(&id));
    assert!(ids(&get(&s, "/api/v2/agents?active=false").await.body).contains(&id));
    let r = send_raw(
        &s.router,
        Method::POST,
        &format!("/_sim/agents/{id}/confirm"),
        None,
        None,
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["active"], true);
    assert_eq!(
        get(&s, &format!("/api/v2/agents/{id}")).await.body["contact"]["active"],
        true
    );
    assert!(ids(&get(&s, "/api/v2/agents").await.body).contains(&id));
    // Confirming twice is a control error.
    let r = send_raw(
        &s.router,
        Method::POST,
        &format!("/_sim/agents/{id}/confirm"),
        None,
        None,
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn create_agent_beyond_the_seat_limit_is_400() {
    let s = sim();
    // Three seats taken (101, 102, 103 unconfirmed); 3 + 10% → 4 seats.
    assert_eq!(
        control(&s, Method::GET, "/_sim/state", Value::Null)
            .await
            .body["seats"],
        json!({"limit": 4, "used": 3})
    );
    let new = |e: &str| json!({"email": e, "ticket_scope": 1});
    let r = call(
        &s,
        Method::POST,
        "/api/v2/agents",
        Some(new("n1@acme.example")),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = call(
        &s,
        Method::POST,
        "/api/v2/agents",
        Some(new("n2@acme.example")),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["description"], "Validation failed");
    assert_eq!(first_error_code(&r), "max_agents_reached");
    // Occasional agents use day passes, not seats.
    let r = call(
        &s,
        Method::POST,
        "/api/v2/agents",
        Some(json!({"email": "o@acme.example", "ticket_scope": 1, "occasional": true})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    // Turning that occasional agent full-time needs a seat too.
    let id = r.body["id"].as_u64().unwrap();
    let r = call(
        &s,
        Method::PUT,
        &format!("/api/v2/agents/{id}"),
        Some(json!({"occasional": false})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let s = sim_with(TenantOptions {
        seat_limit: Some(3),
        ..TenantOptions::default()
    });
    let r = call(
        &s,
        Method::POST,
        "/api/v2/agents",
        Some(new("n1@acme.example")),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "explicit seat_limit honoured"
    );
}

#[tokio::test]
async fn create_agent_validates_like_freshdesk() {
    let s = sim();
    let post = |b: Value| call(&s, Method::POST, "/api/v2/agents", Some(b));
    let r = post(json!({"name": "No Email", "ticket_scope": 1})).await;
    assert_eq!(
        (r.status, first_error_code(&r)),
        (StatusCode::BAD_REQUEST, "missing_field")
    );
    let r = post(json!({"email": "x@acme.example"})).await;
    assert_eq!(r.body["errors"][0]["field"], "ticket_scope");
    let r = post(json!({"email": "x@acme.example", "ticket_scope": 4})).await;
    assert_eq!(first_error_code(&r), "invalid_value");
    let r = post(json!({"email": "x@acme.example", "ticket_scope": 1, "role_ids": [9]})).await;
    assert_eq!(r.body["errors"][0]["field"], "role_ids");
    let r = post(json!({"email": "x@acme.example", "ticket_scope": 1, "type": "robot"})).await;
    assert_eq!(r.body["errors"][0]["field"], "type");
    let r = post(json!({"email": "x@acme.example", "ticket_scope": 1, "favourite_colour": "red"}))
        .await;
    assert_eq!(first_error_code(&r), "invalid_field");
    let r = post(json!({"email": "not-an-email", "ticket_scope": 1})).await;
    assert_eq!(first_error_code(&r), "invalid_value");
    let r = post(json!({"email": "Carl@customer.example", "ticket_scope": 1})).await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "email unique across agents and contacts"
    );
    assert_eq!(r.body["errors"][0]["additional_info"]["user_id"], 201);
    let r = send_raw(
        &s.router,
        Method::POST,
        "/api/v2/agents",
        Some(basic(&key(&s), "X")),
        Some("application/json"),
        b"{\"email\":".to_vec(),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body["code"], "invalid_json",
        "vendor JSON, not axum's plain text"
    );
    let r = send_raw(
        &s.router,
        Method::POST,
        "/api/v2/agents",
        Some(basic(&key(&s), "X")),
        Some("text/plain"),
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(r.body["code"], "invalid_content_type");
    let r = post(json!({"email": "field@acme.example", "ticket_scope": 2, "agent_type": 2})).await;
    assert_eq!(r.status, StatusCode::CREATED, "agent_type integer accepted");
    assert_eq!(r.body["type"], "field_agent");
    assert_eq!(
        r.body["role_ids"],
        json!([store::ROLE_ID_BASE + 3]),
        "role_ids default to the Agent role"
    );
}

#[tokio::test]
async fn update_agent_changes_only_supplied_fields_and_never_the_email() {
    let s = sim();
    s.env.clock.advance(time::Duration::hours(1));
    let before = get(&s, "/api/v2/agents/102").await.body;
    let r = call(
        &s,
        Method::PUT,
        "/api/v2/agents/102",
        Some(json!({"job_title": "Support Lead", "group_ids": [store::GROUP_ID_BASE + 1]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["job_title"], "Support Lead");
    assert_eq!(r.body["contact"]["job_title"], "Support Lead");
    assert_eq!(r.body["group_ids"], json!([store::GROUP_ID_BASE + 1]));
    assert_eq!(
        r.body["role_ids"], before["role_ids"],
        "unsupplied fields kept"
    );
    assert_eq!(r.body["ticket_scope"], before["ticket_scope"]);
    assert_eq!(
        r.body["updated_at"],
        rfc3339(ANCHOR + time::Duration::hours(1))
    );
    let r = call(
        &s,
        Method::PUT,
        "/api/v2/agents/102",
        Some(json!({"email": "robert@acme.example"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["field"], "email");
    assert_eq!(first_error_code(&r), "readonly_field");
    assert_eq!(
        get(&s, "/api/v2/agents/102").await.body["email"],
        "bob@acme.example"
    );
    let r = call(
        &s,
        Method::PUT,
        "/api/v2/agents/102",
        Some(json!({"email": "BOB@acme.example"})),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the unchanged email may be sent back"
    );
    let r = call(
        &s,
        Method::PUT,
        "/api/v2/agents/102",
        Some(json!({"contact": {"name": "Robert"}})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        first_error_code(&r),
        "invalid_field",
        "contact.name is read-only via the agent endpoint"
    );
    let r = call(
        &s,
        Method::PUT,
        "/api/v2/agents/999",
        Some(json!({"job_title": "x"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn delete_agent_deactivates_keeps_the_contact_and_frees_the_seat() {
    let s = sim();
    assert_eq!(
        call(
            &s,
            Method::POST,
            "/api/v2/agents",
            Some(json!({"email": "n1@acme.example", "ticket_scope": 1}))
        )
        .await
        .status,
        StatusCode::CREATED
    );
    assert_eq!(
        call(
            &s,
            Method::POST,
            "/api/v2/agents",
            Some(json!({"email": "n2@acme.example", "ticket_scope": 1}))
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    let r = call(&s, Method::DELETE, "/api/v2/agents/102", None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = get(&s, "/api/v2/agents/102").await;
    assert_eq!(r.status, StatusCode::OK, "the record is kept");
    assert_eq!(r.body["active"], false);
    assert_eq!(r.body["deactivated"], true);
    assert!(!ids(&get(&s, "/api/v2/agents").await.body).contains(&102));
    assert!(ids(&get(&s, "/api/v2/agents?active=false").await.body).contains(&102));
    let r = get(&s, "/api/v2/contacts/102").await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the agent's contact record is retained"
    );
    assert_eq!(r.body["email"], "bob@acme.example");
    assert_eq!(
        call(
            &s,
            Method::POST,
            "/api/v2/agents",
            Some(json!({"email": "n2@acme.example", "ticket_scope": 1}))
        )
        .await
        .status,
        StatusCode::CREATED
    );
    assert_eq!(
        call(&s, Method::DELETE, "/api/v2/agents/102", None)
            .await
            .status,
        StatusCode::NO_CONTENT,
        "idempotent"
    );
    assert_eq!(
        call(&s, Method::DELETE, "/api/v2/agents/201", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

// ----- contacts ------------------------------------------------------------------------------

#[tokio::test]
async fn list_contacts_filters_and_deleted() {
    let s = sim();
    let r = get(&s, "/api/v2/contacts").await;
    assert!(r.body.is_array());
    assert_eq!(
        ids(&r.body),
        vec![104, 201, 202, 204],
        "active/unconfirmed agents and deleted contacts left out; deactivated agent 104 kept as a contact"
    );
    assert_eq!(
        ids(&get(&s, "/api/v2/contacts?deleted=true").await.body),
        vec![203]
    );
    assert_eq!(
        ids(&get(&s, "/api/v2/contacts?state=deleted").await.body),
        vec![203]
    );
    assert_eq!(
        ids(&get(&s, "/api/v2/contacts?state=unverified").await.body),
        vec![204]
    );
    assert_eq!(
        ids(&get(&s, "/api/v2/contacts?state=verified").await.body),
        vec![104, 201, 202]
    );
    assert!(ids(&get(&s, "/api/v2/contacts?state=blocked").await.body).is_empty());
    assert_eq!(
        get(&s, "/api/v2/contacts?state=odd").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        ids(&get(&s, "/api/v2/contacts?email=DORA@other.example")
            .await
            .body),
        vec![202]
    );
    let company = get(&s, "/api/v2/contacts/201").await.body["company_id"]
        .as_u64()
        .unwrap();
    assert_eq!(
        ids(&get(&s, &format!("/api/v2/contacts?company_id={company}"))
            .await
            .body),
        vec![201]
    );
    assert_eq!(
        ids(&get(
            &s,
            &format!("/api/v2/contacts?company_id={company}&deleted=true")
        )
        .await
        .body),
        vec![203]
    );
    call(
        &s,
        Method::PUT,
        "/api/v2/contacts/202",
        Some(json!({"phone": "+4420", "mobile": "+4477"})),
    )
    .await;
    assert_eq!(
        ids(&get(&s, "/api/v2/contacts?phone=%2B4420").await.body),
        vec![202]
    );
    assert_eq!(
        ids(&get(&s, "/api/v2/contacts?mobile=%2B4477").await.body),
        vec![202]
    );
}

#[tokio::test]
async fn contacts_updated_since_accepts_both_spellings_inclusively() {
    let s = sim();
    let t = "2026-02-10T08:00:00Z";
    let r = control(
        &s,
        Method::PATCH,
        "/_sim/records/contacts/202",
        json!({"updated_at": t}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    for key in ["_updated_since", "updated_since"] {
        let r = get(&s, &format!("/api/v2/contacts?{key}={t}")).await;
        assert_eq!(ids(&r.body), vec![202], "{key} is inclusive");
        let r = get(&s, &format!("/api/v2/contacts?{key}=2026-02-10T08:00:01Z")).await;
        assert!(ids(&r.body).is_empty(), "{key}");
        let r = get(
            &s,
            &format!("/api/v2/contacts?{key}=2026-02-10T09:00:00%2B01:00"),
        )
        .await;
        assert_eq!(ids(&r.body), vec![202], "offsets are converted to UTC");
        let r = get(&s, &format!("/api/v2/contacts?{key}=yesterday")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.body["errors"][0]["field"], key);
    }
}

#[tokio::test]
async fn create_contact_needs_a_channel_and_a_unique_email() {
    let s = sim();
    let post = |b: Value| call(&s, Method::POST, "/api/v2/contacts", Some(b));
    let r = post(json!({"name": "Nobody"})).await;
    assert_eq!(
        (r.status, first_error_code(&r)),
        (StatusCode::BAD_REQUEST, "missing_field")
    );
    let r = post(json!({"email": "noname@x.example"})).await;
    assert_eq!(r.body["errors"][0]["field"], "name");
    for (i, channel) in [
        json!({"phone": "+1"}),
        json!({"mobile": "+2"}),
        json!({"twitter_id": "@bob"}),
    ]
    .into_iter()
    .enumerate()
    {
        let mut b = channel.clone();
        b["name"] = json!(format!("Channel {i}"));
        let r = post(b).await;
        assert_eq!(r.status, StatusCode::CREATED, "{channel}");
    }
    let r = post(
        json!({"name": "Bob Jones", "email": "bob@customer.example", "phone": "+14155550100"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["name"], "Bob Jones");
    assert_eq!(r.body["created_at"], rfc3339(ANCHOR));
    let r = post(json!({"name": "Again", "email": "BOB@customer.example"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(first_error_code(&r), "duplicate_value");
    let r = post(json!({"name": "Deleted one", "email": "zed@customer.example"})).await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "a soft-deleted contact still holds its email"
    );
    let r = post(json!({"name": "Agent email", "email": "ana@acme.example"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn get_update_delete_restore_contact() {
    let s = sim();
    let r = get(&s, "/api/v2/contacts/201").await;
    assert_eq!(r.body["email"], "carl@customer.example");
    assert_eq!(r.body["active"], true);
    assert_eq!(
        get(&s, "/api/v2/contacts/101").await.status,
        StatusCode::NOT_FOUND,
        "active agents are not contacts"
    );
    let r = call(
        &s,
        Method::PUT,
        "/api/v2/contacts/201",
        Some(json!({"job_title": "CTO", "email": "carl@new.example", "tags": ["vip"]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["job_title"], "CTO");
    assert_eq!(r.body["tags"], json!(["vip"]));
    assert_eq!(
        ids(&get(&s, "/api/v2/contacts?email=carl@new.example")
            .await
            .body),
        vec![201]
    );
    let r = call(
        &s,
        Method::PUT,
        "/api/v2/contacts/201",
        Some(json!({"email": "dora@other.example"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = call(&s, Method::DELETE, "/api/v2/contacts/201", None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(!ids(&get(&s, "/api/v2/contacts").await.body).contains(&201));
    assert!(ids(&get(&s, "/api/v2/contacts?deleted=true").await.body).contains(&201));
    assert_eq!(
        get(&s, "/api/v2/contacts/201").await.body["deleted"],
        true,
        "soft delete"
    );
    let r = call(
        &s,
        Method::PUT,
        "/api/v2/contacts/201",
        Some(json!({"job_title": "CEO"})),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "updating a deleted contact is 405"
    );
    assert_eq!(r.body["code"], "method_not_allowed");
    assert_eq!(
        call(&s, Method::PUT, "/api/v2/contacts/201/restore", None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(get(&s, "/api/v2/contacts/201").await.body["deleted"], false);
    let r = call(
        &s,
        Method::PUT,
        "/api/v2/contacts/201",
        Some(json!({"job_title": "CEO"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        call(&s, Method::PUT, "/api/v2/contacts/201/restore", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn make_agent_is_a_put_takes_a_seat_and_leaves_the_contacts_list() {
    let s = sim();
    let r = call(
        &s,
        Method::POST,
        "/api/v2/contacts/202/make_agent",
        Some(json!({"ticket_scope": 1})),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "make_agent is a PUT"
    );
    let r = call(
        &s,
        Method::PUT,
        "/api/v2/contacts/202/make_agent",
        Some(json!({"ticket_scope": 2, "role_ids": [store::ROLE_ID_BASE + 3]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["id"], 202, "the agent keeps the contact's user id");
    assert_eq!(r.body["active"], false, "inactive until confirmed");
    assert_eq!(r.body["ticket_scope"], 2);
    assert_eq!(r.body["email"], "dora@other.example");
    assert!(!ids(&get(&s, "/api/v2/contacts").await.body).contains(&202));
    assert!(ids(&get(&s, "/api/v2/agents?active=false").await.body).contains(&202));
    // Seats: 3 + 202 = 4 of 4: the next conversion fails.
    let r = call(
        &s,
        Method::PUT,
        "/api/v2/contacts/201/make_agent",
        Some(json!({"ticket_scope": 1})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(first_error_code(&r), "max_agents_reached");
    assert!(
        ids(&get(&s, "/api/v2/contacts").await.body).contains(&201),
        "still a contact"
    );
    let r = call(&s, Method::PUT, "/api/v2/contacts/203/make_agent", None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "deleted contact");
    let r = call(&s, Method::PUT, "/api/v2/contacts/999/make_agent", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

// ----- roles, groups ---------------------------------------------------------------------------

#[tokio::test]
async fn roles_and_groups_list_with_agent_ids() {
    let s = sim();
    let r = get(&s, "/api/v2/roles").await;
    let names: Vec<&str> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Account Administrator",
            "Administrator",
            "Supervisor",
            "Agent"
        ]
    );
    assert_eq!(
        get(&s, &format!("/api/v2/roles/{}", store::ROLE_ID_BASE))
            .await
            .body["name"],
        "Account Administrator"
    );
    let r = get(&s, "/api/v2/groups").await;
    assert_eq!(r.body[0]["name"], "Tier 1");
    assert_eq!(r.body[0]["agent_ids"], json!([101, 102]));
    assert_eq!(r.body[1]["agent_ids"], json!([102, 104]));
    let g = get(&s, &format!("/api/v2/groups/{}", store::GROUP_ID_BASE + 1)).await;
    assert_eq!(g.body["name"], "Billing");
    assert_eq!(
        get(&s, "/api/v2/groups/1").await.status,
        StatusCode::NOT_FOUND
    );
}

// ----- pagination ------------------------------------------------------------------------------

#[tokio::test]
async fn pagination_is_one_based_with_a_next_link_and_no_total() {
    let s = build(&fixture_with(250), env_with(TenantOptions::default()));
    let r = get(&s, "/api/v2/contacts").await;
    assert_eq!(r.body.as_array().unwrap().len(), 30, "default page size 30");
    let r = get(&s, "/api/v2/contacts?per_page=500").await;
    assert_eq!(
        r.body.as_array().unwrap().len(),
        100,
        "per_page capped at 100"
    );
    let link = header(&r, "link").unwrap();
    assert_eq!(
        link,
        "<http://acme.freshdesk.test/api/v2/contacts?per_page=500&page=2>; rel=\"next\""
    );
    assert!(r
        .headers
        .keys()
        .all(|k| !k.as_str().contains("total-count") && k.as_str() != "x-total"));
    // 254 contacts (250 + 201, 202, 204 + the deactivated agent 104): pages of 100, 100, 54; the last page has no Link and fewer than per_page.
    let p1 = ids(&get(&s, "/api/v2/contacts?per_page=100&page=1").await.body);
    let p2 = ids(&get(&s, "/api/v2/contacts?per_page=100&page=2").await.body);
    let last = get(&s, "/api/v2/contacts?per_page=100&page=3").await;
    assert_eq!(last.body.as_array().unwrap().len(), 54);
    assert!(header(&last, "link").is_none());
    assert!(p1.iter().all(|id| !p2.contains(id)));
    assert!(get(&s, "/api/v2/contacts?per_page=100&page=4")
        .await
        .body
        .as_array()
        .unwrap()
        .is_empty());
    let r = get(&s, "/api/v2/contacts?page=0").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Agents paginate the same way.
    let r = get(&s, "/api/v2/agents?per_page=2").await;
    assert_eq!(ids(&r.body), vec![101, 102]);
    assert!(header(&r, "link").unwrap().contains("page=2"));
}

#[tokio::test]
async fn deep_offset_pagination_is_capped() {
    let s = build(&fixture_with(5), env_with(TenantOptions::default()));
    let r = get(&s, "/api/v2/contacts?page=500").await;
    assert_eq!(r.status, StatusCode::OK);
    let r = get(&s, "/api/v2/contacts?page=501").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["field"], "page");
    assert!(r.body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("_updated_since"));
    let r = control(&s, Method::PUT, "/_sim/pagination", json!({"max_page": 2})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        get(&s, "/api/v2/contacts?per_page=2&page=2").await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&s, "/api/v2/contacts?per_page=2&page=3").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get(&s, "/api/v2/agents?per_page=1&page=3").await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn unknown_query_parameters_are_refused() {
    let s = sim();
    let r = get(&s, "/api/v2/contacts?colour=red").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(first_error_code(&r), "invalid_field");
    assert_eq!(r.body["errors"][0]["field"], "colour");
}

// ----- rate limits -----------------------------------------------------------------------------

#[tokio::test]
async fn rate_limit_headers_are_on_every_response() {
    let s = sim();
    for (path, status) in [
        ("/api/v2/agents", StatusCode::OK),
        ("/api/v2/agents/999", StatusCode::NOT_FOUND),
        ("/api/v2/contacts?state=odd", StatusCode::BAD_REQUEST),
    ] {
        let r = get(&s, path).await;
        assert_eq!(r.status, status);
        assert_eq!(header(&r, "x-ratelimit-total"), Some("700"), "{path}");
        assert!(header(&r, "x-ratelimit-remaining").is_some());
        assert_eq!(header(&r, "x-ratelimit-used-currentrequest"), Some("1"));
    }
    let r = get(&s, "/api/v2/agents").await;
    assert_eq!(header(&r, "x-ratelimit-remaining"), Some("696"));
    let r = send_raw(
        &s.router,
        Method::GET,
        "/api/v2/agents",
        None,
        None,
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(header(&r, "x-ratelimit-total"), Some("700"));
}

#[tokio::test]
async fn plan_limits_follow_the_guide_table() {
    for (plan, total) in [
        (PlanTier::Starter, "100"),
        (PlanTier::Growth, "200"),
        (PlanTier::Pro, "400"),
        (PlanTier::Enterprise, "700"),
    ] {
        let s = sim_with(TenantOptions {
            plan,
            ..TenantOptions::default()
        });
        assert_eq!(
            header(&get(&s, "/api/v2/roles").await, "x-ratelimit-total"),
            Some(total)
        );
    }
}

#[tokio::test]
async fn exceeding_the_limit_is_429_without_retry_after_until_the_minute_resets() {
    let s = sim_with(TenantOptions {
        plan: PlanTier::Starter,
        ..TenantOptions::default()
    });
    // The clock is frozen at hh:mm:00; another integration has used 99 of 100.
    control(
        &s,
        Method::POST,
        "/_sim/ratelimit/consume",
        json!({"n": 99}),
    )
    .await;
    let r = get(&s, "/api/v2/roles").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(header(&r, "x-ratelimit-remaining"), Some("0"));
    let r = get(&s, "/api/v2/roles").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        header(&r, "retry-after").is_none(),
        "Freshdesk sends no Retry-After"
    );
    assert_eq!(header(&r, "x-ratelimit-total"), Some("100"));
    assert_eq!(header(&r, "x-ratelimit-remaining"), Some("0"));
    let counters = control(&s, Method::GET, "/_sim/counters", Value::Null).await;
    assert_eq!(counters.body["rate_limited"], 1);
    s.env.clock.advance(time::Duration::seconds(59));
    assert_eq!(
        get(&s, "/api/v2/roles").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    s.env.clock.advance(time::Duration::seconds(1));
    let r = get(&s, "/api/v2/roles").await;
    assert_eq!(r.status, StatusCode::OK, "the window resets at the minute");
    assert_eq!(header(&r, "x-ratelimit-remaining"), Some("99"));
}

#[tokio::test]
async fn both_api_keys_share_the_account_limit() {
    let s = sim();
    let k2 = s.credentials["api_key_2"].as_str().unwrap().to_string();
    assert_ne!(k2, key(&s));
    let r = get(&s, "/api/v2/roles").await;
    assert_eq!(header(&r, "x-ratelimit-remaining"), Some("699"));
    let r = send_raw(
        &s.router,
        Method::GET,
        "/api/v2/roles",
        Some(basic(&k2, "X")),
        None,
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        header(&r, "x-ratelimit-remaining"),
        Some("698"),
        "one bucket per account, not per key"
    );
}

#[tokio::test]
async fn disabled_rate_limits_send_headers_but_never_refuse() {
    let s = sim_with(TenantOptions {
        plan: PlanTier::Starter,
        rate_limits: false,
        ..TenantOptions::default()
    });
    control(
        &s,
        Method::POST,
        "/_sim/ratelimit/consume",
        json!({"n": 100}),
    )
    .await;
    let r = get(&s, "/api/v2/roles").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(header(&r, "x-ratelimit-total"), Some("100"));
}

#[tokio::test]
async fn injected_429_has_the_freshdesk_shape() {
    let s = sim();
    let r = control(
        &s,
        Method::PUT,
        "/_sim/faults",
        json!({"seed": 1, "rate_429": 1.0}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = get(&s, "/api/v2/agents").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(header(&r, "retry-after").is_none());
    assert_eq!(header(&r, "x-ratelimit-total"), Some("700"));
    assert_eq!(r.body["code"], "rate_limit_exceeded");
}

// ----- auth ------------------------------------------------------------------------------------

#[tokio::test]
async fn basic_auth_takes_the_api_key_as_user_and_any_password() {
    let s = sim();
    for password in ["X", "anything", ""] {
        let r = send_raw(
            &s.router,
            Method::GET,
            "/api/v2/agents",
            Some(basic(&key(&s), password)),
            None,
            Vec::new(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "password {password:?}");
    }
    let scim = s.credentials["scim_token"].as_str().unwrap();
    assert_ne!(scim, key(&s), "the SCIM token is not the API key");
    for auth in [
        Some(basic("wrong-key", "X")),
        Some(basic(scim, "X")),
        Some(format!("Bearer {}", key(&s))),
        None,
    ] {
        let r = send_raw(
            &s.router,
            Method::GET,
            "/api/v2/agents",
            auth,
            None,
            Vec::new(),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            r.body,
            json!({"code": "invalid_credentials", "message": "You have to be logged in to perform this action."})
        );
    }
    assert!(s.credentials["domain"]
        .as_str()
        .unwrap()
        .ends_with(".freshdesk.com"));
}

#[tokio::test]
async fn wrong_verbs_and_unknown_paths_get_json_errors() {
    let s = sim();
    let r = call(&s, Method::PATCH, "/api/v2/agents/101", Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.body["code"], "method_not_allowed");
    let r = get(&s, "/api/v2/nothing_here").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["code"], "not_found");
}

// ----- custom fields -------------------------------------------------------------------------

#[tokio::test]
async fn custom_fields_must_be_defined_in_the_admin_ui_first() {
    let s = sim();
    let r = call(
        &s,
        Method::PUT,
        "/api/v2/contacts/201",
        Some(json!({"custom_fields": {"loyalty": "gold"}})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["field"], "loyalty");
    assert_eq!(first_error_code(&r), "invalid_field");
    let r = call(
        &s,
        Method::PUT,
        "/api/v2/contacts/201",
        Some(json!({"custom_fields": {"region": "EU"}})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["custom_fields"]["region"], "EU");
    let r = control(
        &s,
        Method::POST,
        "/_sim/custom_fields/contacts",
        json!({"name": "loyalty"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = call(
        &s,
        Method::PUT,
        "/api/v2/contacts/201",
        Some(json!({"custom_fields": {"loyalty": "gold"}})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = call(
        &s,
        Method::PUT,
        "/api/v2/agents/101",
        Some(json!({"custom_fields": {"badge": 1}})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "agent custom fields too");
    let r = call(
        &s,
        Method::PUT,
        "/api/v2/agents/101",
        Some(json!({"custom_fields": {"cost_center": "CC-1"}})),
    )
    .await;
    assert_eq!(r.body["custom_fields"]["cost_center"], "CC-1");
}

// ----- control ---------------------------------------------------------------------------------

#[tokio::test]
async fn sim_state_holds_every_collection_inactive_included() {
    let s = sim();
    let r = control(&s, Method::GET, "/_sim/state", Value::Null).await;
    assert_eq!(ids(&r.body["agents"]), vec![101, 102, 103, 104, 105]);
    assert_eq!(
        ids(&r.body["contacts"]),
        vec![104, 201, 202, 203, 204],
        "deactivated agent's contact retained, deleted contact included"
    );
    assert_eq!(r.body["roles"].as_array().unwrap().len(), 4);
    assert_eq!(r.body["groups"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["agents"][3]["deactivated"], true);
}

#[tokio::test]
async fn sim_patch_overwrites_fields_and_bumps_updated_at() {
    let s = sim();
    s.env.clock.advance(time::Duration::minutes(5));
    let r = control(&s, Method::PATCH, "/_sim/records/agents/101", json!({"job_title": "Chief", "contact": {"phone": "+1"}, "role_ids": [store::ROLE_ID_BASE + 1], "email": "ana.new@acme.example"})).await;
    assert_eq!(r.status, StatusCode::OK);
    let a = get(&s, "/api/v2/agents/101").await.body;
    assert_eq!(a["contact"]["job_title"], "Chief");
    assert_eq!(a["contact"]["phone"], "+1");
    assert_eq!(a["role_ids"], json!([store::ROLE_ID_BASE + 1]));
    assert_eq!(a["email"], "ana.new@acme.example");
    assert_eq!(
        a["updated_at"],
        rfc3339(ANCHOR + time::Duration::minutes(5))
    );
    assert_eq!(
        ids(&get(&s, "/api/v2/agents?email=ana.new@acme.example")
            .await
            .body),
        vec![101]
    );
    let r = control(
        &s,
        Method::PATCH,
        "/_sim/records/agents/101",
        json!({"shoe_size": 9}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["error"].as_str().unwrap().contains("shoe_size"));
    let r = control(
        &s,
        Method::PATCH,
        "/_sim/records/contacts/101",
        json!({"name": "x"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = control(
        &s,
        Method::PATCH,
        "/_sim/records/contacts/201",
        json!({"name": "Carla", "tags": ["vip"]}),
    )
    .await;
    assert_eq!(r.body["name"], "Carla");
    assert_eq!(
        get(&s, "/api/v2/contacts/201").await.body["tags"],
        json!(["vip"])
    );
    let r = control(&s, Method::PATCH, "/_sim/records/tickets/1", json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn sim_deactivate_deactivates_agents_and_deletes_contacts() {
    let s = sim();
    let r = send_raw(
        &s.router,
        Method::POST,
        "/_sim/records/agents/101/deactivate",
        None,
        None,
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        get(&s, "/api/v2/agents/101").await.body["deactivated"],
        true
    );
    let r = send_raw(
        &s.router,
        Method::POST,
        "/_sim/records/contacts/202/deactivate",
        None,
        None,
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(get(&s, "/api/v2/contacts/202").await.body["deleted"], true);
    let r = send_raw(
        &s.router,
        Method::POST,
        "/_sim/records/agents/9/deactivate",
        None,
        None,
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

// ----- SCIM ------------------------------------------------------------------------------------

fn scim_for(options: TenantOptions) -> (scim::FreshdeskScim, Arc<Tenant>) {
    let t = tenant(&fixture(), env_with(options));
    (scim::FreshdeskScim::new(t.clone()), t)
}

#[test]
fn scim_needs_enterprise_and_sso() {
    let (b, _) = scim_for(TenantOptions::default());
    assert!(b.availability().is_ok());
    let (b, _) = scim_for(TenantOptions {
        plan: PlanTier::Pro,
        ..TenantOptions::default()
    });
    let e = b.availability().unwrap_err();
    assert_eq!(e.status, 403);
    assert!(e.detail.contains("Enterprise"));
    let (b, _) = scim_for(TenantOptions {
        sso: false,
        ..TenantOptions::default()
    });
    let e = b.availability().unwrap_err();
    assert!(
        e.detail.contains("SSO"),
        "SCIM cannot be enabled without SAML SSO"
    );
}

#[test]
fn scim_token_is_separate_from_the_api_key() {
    let (b, t) = scim_for(TenantOptions::default());
    assert!(b.check_token(&t.scim_token));
    assert!(!b.check_token(&t.api_keys[0]));
    assert!(!b.check_token(""));
}

#[test]
fn scim_users_are_agents_and_delete_deactivates() {
    let (b, t) = scim_for(TenantOptions::default());
    let users = b.list_users();
    assert_eq!(users.len(), 5);
    let u = b.get_user("102").unwrap();
    assert_eq!(u["userName"], "bob@acme.example");
    assert_eq!(u["active"], true);
    assert!(b.get_user("201").is_none(), "contacts are not SCIM users");
    b.delete_user("102").unwrap();
    let store = t.store.read();
    let agent = store.users.get(&102).unwrap();
    assert_eq!(
        agent.agent_state(),
        Some(store::AgentState::Deactivated),
        "kept, deactivated"
    );
    assert_eq!(store.render_agent(agent)["active"], false);
    drop(store);
    assert_eq!(b.get_user("102").unwrap()["active"], false);
    assert_eq!(b.delete_user("999").unwrap_err().status, 404);
}

#[test]
fn scim_create_replace_and_groups_show_in_rest() {
    let (b, t) = scim_for(TenantOptions::default());
    let u = b
        .create_user(json!({"schemas": [idgraph_scim::USER_SCHEMA], "userName": "sso@acme.example", "name": {"givenName": "Sso", "familyName": "User"}, "externalId": "okta-1", "active": true}))
        .unwrap();
    assert_eq!(u["externalId"], "okta-1");
    let id: u64 = u["id"].as_str().unwrap().parse().unwrap();
    let rendered = {
        let store = t.store.read();
        store.render_agent(store.users.get(&id).unwrap())
    };
    assert_eq!(rendered["name"], "Sso User");
    assert_eq!(rendered["active"], true, "SSO users need no invitation");
    let e = b
        .create_user(json!({"userName": "SSO@acme.example"}))
        .unwrap_err();
    assert_eq!(e.status, 409);
    let e = b
        .replace_user(&id.to_string(), json!({"userName": "other@acme.example"}))
        .unwrap_err();
    assert_eq!(e.scim_type.as_deref(), Some("mutability"));
    let u = b
        .replace_user(
            &id.to_string(),
            json!({"userName": "sso@acme.example", "title": "Lead", "active": false}),
        )
        .unwrap();
    assert_eq!(u["active"], false);
    assert_eq!(u["title"], "Lead");
    let u = b
        .replace_user(
            &id.to_string(),
            json!({"userName": "sso@acme.example", "active": true}),
        )
        .unwrap();
    assert_eq!(u["active"], true, "reactivated");
    // Seats: 3 seeded + the SSO user = 4 of 4.
    let e = b
        .create_user(json!({"userName": "full@acme.example"}))
        .unwrap_err();
    assert_eq!(e.status, 400);
    let g = b
        .create_group(json!({"displayName": "Escalations", "members": [{"value": "101"}]}))
        .unwrap();
    let gid: u64 = g["id"].as_str().unwrap().parse().unwrap();
    assert!(t
        .store
        .read()
        .users
        .get(&101)
        .unwrap()
        .agent
        .as_ref()
        .unwrap()
        .group_ids
        .contains(&gid));
    let g = b
        .replace_group(
            &gid.to_string(),
            json!({"displayName": "Escalations", "members": [{"value": "102"}]}),
        )
        .unwrap();
    assert_eq!(g["members"][0]["value"], "102");
    assert_eq!(b.list_groups().len(), 3);
    b.delete_group(&gid.to_string()).unwrap();
    assert!(!t
        .store
        .read()
        .users
        .get(&102)
        .unwrap()
        .agent
        .as_ref()
        .unwrap()
        .group_ids
        .contains(&gid));
}

// ----- scale -----------------------------------------------------------------------------------

#[tokio::test]
async fn seeds_a_generated_company_of_ten_thousand() {
    let cfg = CompanyConfig {
        coverage: crate::company::Coverage::Full,
        ..CompanyConfig::new(3, 10_000, ANCHOR)
    };
    let company = crate::company::generate(&cfg);
    let n = company.accounts_of(App::Freshdesk).count();
    assert!(n >= 10_000);
    let s = build(
        &company,
        env_with(TenantOptions {
            rate_limits: false,
            ..TenantOptions::default()
        }),
    );
    let state = control(&s, Method::GET, "/_sim/state", Value::Null)
        .await
        .body;
    let total = state["agents"].as_array().unwrap().len()
        + state["contacts"].as_array().unwrap().len()
        - state["agents"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["deactivated"] == true)
            .count();
    assert_eq!(total, n, "every seeded account is served");
    let r = get(&s, "/api/v2/agents?per_page=100&page=50").await;
    assert_eq!(r.status, StatusCode::OK);
}

async fn scim_call(
    s: &AppSim,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Resp {
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    send_raw(
        &s.router,
        method,
        path,
        Some(format!("Bearer {token}")),
        Some("application/scim+json"),
        bytes,
    )
    .await
}

#[tokio::test]
async fn scim_over_http_at_scim_v2_with_its_own_token() {
    let s = sim();
    let token = s.credentials["scim_token"].as_str().unwrap().to_string();
    let r = scim_call(&s, Method::GET, "/scim/v2/Users", &token, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["totalResults"], 5, "SCIM users are the agents");
    let r = scim_call(&s, Method::GET, "/scim/v2/Users", &key(&s), None).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "the REST API key is not the SCIM token"
    );
    let r = scim_call(&s, Method::DELETE, "/scim/v2/Users/102", &token, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let a = get(&s, "/api/v2/agents/102").await.body;
    assert_eq!(
        (a["active"].clone(), a["deactivated"].clone()),
        (json!(false), json!(true))
    );
    let r = scim_call(
        &s,
        Method::POST,
        "/scim/v2/Users",
        &token,
        Some(json!({"schemas": [idgraph_scim::USER_SCHEMA], "userName": "idp@acme.example", "name": {"givenName": "Idp", "familyName": "User"}})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let id = r.body["id"].as_str().unwrap();
    assert_eq!(
        get(&s, &format!("/api/v2/agents/{id}")).await.body["email"],
        "idp@acme.example"
    );
}

#[tokio::test]
async fn scim_over_http_is_refused_without_enterprise_or_sso() {
    for options in [
        TenantOptions {
            plan: PlanTier::Pro,
            ..TenantOptions::default()
        },
        TenantOptions {
            sso: false,
            ..TenantOptions::default()
        },
    ] {
        let s = sim_with(options);
        let token = s.credentials["scim_token"].as_str().unwrap().to_string();
        let r = scim_call(&s, Method::GET, "/scim/v2/Users", &token, None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.body["detail"].is_string());
    }
}

#[tokio::test]
async fn companies_and_account_endpoints() {
    let s = sim();
    let r = get(&s, "/api/v2/companies").await;
    assert_eq!(r.status, StatusCode::OK);
    let carl_company = get(&s, "/api/v2/contacts/201").await.body["company_id"].clone();
    let company = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == carl_company)
        .unwrap()
        .clone();
    assert_eq!(company["domains"], json!(["customer.example"]));
    let r = get(&s, &format!("/api/v2/companies/{carl_company}")).await;
    assert_eq!(r.body["name"], "Customer");
    assert_eq!(
        get(&s, "/api/v2/companies/5").await.status,
        StatusCode::NOT_FOUND
    );
    let r = get(&s, "/api/v2/account").await;
    assert_eq!(r.body["tier_type"], "Forest");
    assert_eq!(
        r.body["total_agents"],
        json!({"full_time": 3, "occasional": 1, "field_service": 0, "collaborators": 0}),
        "unconfirmed agents hold a licence, deactivated ones do not"
    );
}

#[tokio::test]
async fn changes_are_found_by_polling_updated_since_as_there_are_no_webhooks() {
    let s = sim();
    s.env.clock.advance(time::Duration::hours(1));
    let since = rfc3339(s.env.clock.now());
    assert!(ids(
        &get(&s, &format!("/api/v2/contacts?_updated_since={since}"))
            .await
            .body
    )
    .is_empty());
    call(
        &s,
        Method::PUT,
        "/api/v2/contacts/202",
        Some(json!({"job_title": "Buyer"})),
    )
    .await;
    call(&s, Method::DELETE, "/api/v2/contacts/201", None).await;
    let r = get(&s, &format!("/api/v2/contacts?_updated_since={since}")).await;
    assert_eq!(ids(&r.body), vec![202], "an API update bumps updated_at");
    let r = get(
        &s,
        &format!("/api/v2/contacts?_updated_since={since}&deleted=true"),
    )
    .await;
    assert_eq!(ids(&r.body), vec![201], "a soft delete bumps updated_at");
    call(&s, Method::DELETE, "/api/v2/agents/102", None).await;
    let a = get(&s, "/api/v2/agents/102").await.body;
    assert_eq!(
        a["updated_at"], since,
        "deactivation bumps the agent's updated_at"
    );
    for path in ["/api/v2/webhooks", "/api/v2/subscriptions"] {
        assert_eq!(
            get(&s, path).await.status,
            StatusCode::NOT_FOUND,
            "no lifecycle webhooks"
        );
    }
}
