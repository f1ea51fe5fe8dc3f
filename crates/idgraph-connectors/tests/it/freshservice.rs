//! Compliance of the freshservice connector against its simulator: the shared suite (calm and
//! under faults), the minimum number of requests, pacing under the plan's limits with zero
//! 429s, incremental reads with an inclusive `updated_since`, and bad pages.
//!
//! Also home of small helpers the Freshdesk module uses: a client for the simulators'
//! `/_sim/` control endpoints and a one-answer HTTP server for malformed pages.

use crate::compliance::{self, Subject};
use idgraph_connectors::freshservice::{
    FreshserviceConfig, FreshserviceConnector, FreshservicePlan,
};
use idgraph_connectors::{read_all, Connector, ConnectorContext, Snapshot};
use idgraph_core::{AccountKey, AccountStatus};
use idgraph_http::{ApiClient, ApiConfig, ApiRequest, Secret, StaticAuth};
use idgraph_sim::common::{App, PlanTier, TenantOptions};
use idgraph_sim::company::{AccountKind, Company, SeedAccount};
use idgraph_sim::faults::FaultConfig;
use idgraph_sim::serve::{self, RunningSims};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ---------------------------------------------------------------- helpers (shared with freshdesk)

/// A client for one simulator's `/_sim/` control endpoints (no auth, never rate limited).
pub fn control(sims: &RunningSims, app: App) -> ApiClient {
    let ctx = compliance::context();
    let account = format!("sim-control:{app}");
    ctx.http
        .api(ApiConfig::new(
            sims.base_url(app).unwrap(),
            account.clone(),
            Arc::new(StaticAuth::none()),
            ctx.budgets.unlimited(&account),
        ))
        .unwrap()
}

pub async fn sim_get(c: &ApiClient, path: &str) -> Value {
    c.send_json(ApiRequest::get(path)).await.unwrap()
}

pub async fn sim_send(c: &ApiClient, req: ApiRequest) {
    c.send(req).await.unwrap();
}

/// Serves every request with `200` and `body` as JSON (a vendor answering out of shape).
pub async fn one_answer_server(body: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

/// Pages a list of `n` items takes at 100 per page, ending on the first short page.
pub fn pages(n: usize) -> u64 {
    (n / 100 + 1) as u64
}

// ---------------------------------------------------------------- the subject

fn tenant(sims: &RunningSims) -> String {
    sims.credentials(App::Freshservice).unwrap()["domain"]
        .as_str()
        .unwrap()
        .to_string()
}

fn config(sims: &RunningSims, plan: FreshservicePlan) -> FreshserviceConfig {
    let creds = sims.credentials(App::Freshservice).unwrap();
    FreshserviceConfig {
        plan,
        base_url: Some(sims.base_url(App::Freshservice).unwrap().to_string()),
        ..FreshserviceConfig::new(
            creds["domain"].as_str().unwrap(),
            Secret::new(creds["api_key"].as_str().unwrap()),
        )
    }
}

fn connector(sims: &RunningSims, ctx: &ConnectorContext) -> FreshserviceConnector {
    FreshserviceConnector::new(config(sims, FreshservicePlan::Enterprise), ctx).unwrap()
}

/// The simulated account's domain: `acme-<hex>.freshservice.com`, the hex derived from the
/// run's seed (`SimEnv::secret("domain")`). Checked against the served credentials in
/// `requests_are_the_minimum_for_the_data`.
fn sim_tenant(company: &Company) -> String {
    let hex = idgraph_sim::company::token_from_seed(company.config.seed, "freshservice:domain", 6);
    format!("acme-{hex}.freshservice.com")
}

fn key(company: &Company, seed: &SeedAccount) -> AccountKey {
    let namespace = match seed.kind {
        AccountKind::Agent => "agent",
        AccountKind::Requester => "requester",
        other => panic!("no Freshservice {other:?}"),
    };
    AccountKey {
        app: "freshservice".into(),
        tenant: sim_tenant(company),
        namespace: namespace.into(),
        native_id: seed.native_id.to_string(),
    }
}

fn subject() -> Subject {
    Subject {
        app: App::Freshservice,
        build: |sims, ctx| Box::new(connector(sims, ctx)),
        // Every agent and requester, active or deactivated, under its own namespace.
        expected_keys: |company, seed| vec![key(company, seed)],
        // Agents carry their roles and groups; requesters have none.
        check_grants: |seed| seed.kind == AccountKind::Agent,
    }
}

// ---------------------------------------------------------------- tests

#[tokio::test(flavor = "current_thread")]
async fn compliance_suite_calm_and_under_faults() {
    compliance::run_suite(subject()).await;
}

/// The state the simulator holds: how many items each list has.
async fn list_sizes(sims: &RunningSims) -> [(String, usize); 7] {
    let state = sim_get(&control(sims, App::Freshservice), "/_sim/state").await;
    let count = |coll: &str, active: bool| {
        state[coll]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["active"].as_bool() == Some(active))
            .count()
    };
    let len = |coll: &str| state[coll].as_array().unwrap().len();
    [
        ("roles".into(), len("roles")),
        ("groups".into(), len("groups")),
        ("departments".into(), len("departments")),
        ("agents".into(), count("agents", true)),
        ("agents_deactivated".into(), count("agents", false)),
        ("requesters".into(), count("requesters", true)),
        ("requesters_deactivated".into(), count("requesters", false)),
    ]
}

#[tokio::test(flavor = "current_thread")]
async fn requests_are_the_minimum_for_the_data() {
    for people in [300, 1000] {
        let sims = serve::start(compliance::sim_config(App::Freshservice, people))
            .await
            .unwrap();
        assert_eq!(tenant(&sims), sim_tenant(&sims.company));
        let sizes = list_sizes(&sims).await;
        let expected: u64 = sizes.iter().map(|(_, n)| pages(*n)).sum();
        let ctx = compliance::context();
        let c = connector(&sims, &ctx);
        let snap = read_all(&c, None).await.unwrap();
        let served = sims.envs[&App::Freshservice].counters.snapshot();
        assert_eq!(snap.requests, expected, "{people} people: {sizes:?}");
        assert_eq!(served.total, expected, "the simulator saw as many");
        assert_eq!(
            served.by_route.keys().cloned().collect::<BTreeSet<_>>(),
            [
                "GET /api/v2/agents",
                "GET /api/v2/departments",
                "GET /api/v2/groups",
                "GET /api/v2/requesters",
                "GET /api/v2/roles"
            ]
            .map(String::from)
            .into(),
            "list endpoints only, never one GET per agent"
        );
        // 1,000 people include deactivated agents (300 have none): all listed.
        assert_eq!(key_status(&snap), company_status(&sims.company));
        let accounts = snap.accounts.len();
        println!(
            "freshservice, {people} people: {} requests for {accounts} accounts = {:.4} requests per account ({sizes:?})",
            snap.requests,
            snap.requests as f64 / accounts as f64
        );
        sims.shutdown().await;
    }
}

fn key_status(s: &Snapshot) -> BTreeSet<(String, String, AccountStatus)> {
    s.accounts
        .iter()
        .map(|a| (a.key.namespace.clone(), a.key.native_id.clone(), a.status))
        .collect()
}

fn company_status(company: &Company) -> BTreeSet<(String, String, AccountStatus)> {
    company
        .accounts_of(App::Freshservice)
        .map(|s| {
            let k = key(company, s);
            (
                k.namespace,
                k.native_id,
                compliance::expected_status(s.status),
            )
        })
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn paced_on_the_starter_plan_with_zero_429s() {
    // Starter: 50 requests/min for the account, 40/min shared by the two user lists. 4,500
    // people need ~60 requests, 50 of them list pages: more than one window of each; another
    // integration has used 20 of the first minute's requests besides.
    let mut cfg = compliance::sim_config(App::Freshservice, 4500);
    // A frozen simulator clock moved only by the client's waits: request latency costs no
    // simulated time, so the pacing (not the machine's speed) decides how windows fill.
    cfg.time_scale = 0.0;
    cfg.default_options = TenantOptions {
        plan: PlanTier::Starter,
        rate_limits: true,
        ..TenantOptions::default()
    };
    let sims = serve::start(cfg).await.unwrap();
    let sizes = list_sizes(&sims).await;
    let list_pages: u64 = sizes[3..].iter().map(|(_, n)| pages(*n)).sum();
    assert!(
        list_pages > 40,
        "the lists need more than one window: {sizes:?}"
    );
    sim_send(
        &control(&sims, App::Freshservice),
        ApiRequest::post("/_sim/ratelimit/consume")
            .json(&json!({"n": 20}))
            .unwrap(),
    )
    .await;

    let ctx = compliance::context_on_sim_time(&sims);
    let c = FreshserviceConnector::new(config(&sims, FreshservicePlan::Starter), &ctx).unwrap();
    let started = sims.clock.now();
    let snap = read_all(&c, None).await.unwrap();
    let took = sims.clock.now() - started;

    let served = sims.envs[&App::Freshservice].counters.snapshot();
    assert_eq!(
        served.rate_limited, 0,
        "no request over the plan: {served:?}"
    );
    assert_eq!(served.status_429, 0);
    assert_eq!(c.api().metrics().responses_429, 0);
    assert_eq!(key_status(&snap), company_status(&sims.company), "complete");
    assert!(
        took > time::Duration::minutes(1),
        "paced over more than one window (took {took} simulated)"
    );
    let budget = ctx.budgets.metrics();
    assert!(
        budget
            .iter()
            .all(|(_, m)| m.waits > 0 && m.responses_429 == 0),
        "{budget:?}"
    );
    println!(
        "freshservice starter: {} requests in {took} simulated, budget {budget:?}",
        snap.requests
    );
    sims.shutdown().await;
}

#[tokio::test(flavor = "current_thread")]
async fn incremental_reads_return_exactly_the_changed_records_boundary_included() {
    let mut cfg = compliance::sim_config(App::Freshservice, 300);
    cfg.time_scale = 0.0; // frozen: the test moves time
    let sims = serve::start(cfg).await.unwrap();
    let ctl = control(&sims, App::Freshservice);
    let company = sims.company.clone();
    let pick = |kind: AccountKind, status: idgraph_sim::company::SeedStatus, n: usize| {
        company
            .accounts_of(App::Freshservice)
            .filter(|a| a.kind == kind && a.status == status)
            .nth(n)
            .unwrap()
            .native_id
    };
    use idgraph_sim::company::SeedStatus::Active;
    let early = pick(AccountKind::Agent, Active, 0);
    let (agent_a, agent_b) = (
        pick(AccountKind::Agent, Active, 1),
        pick(AccountKind::Agent, Active, 2),
    );
    let revived = pick(AccountKind::Agent, Active, 3);
    let (req_c, req_d) = (
        pick(AccountKind::Requester, Active, 0),
        pick(AccountKind::Requester, Active, 1),
    );
    let advance = |s: i64| sims.clock.advance(time::Duration::seconds(s));
    let patch = |coll: &str, id: u64, body: Value| {
        ApiRequest::patch(format!("/_sim/records/{coll}/{id}"))
            .json(&body)
            .unwrap()
    };

    // Deactivated long before the window, reactivated in it.
    sim_send(
        &ctl,
        ApiRequest::post(format!("/_sim/records/agents/{revived}/deactivate")),
    )
    .await;
    advance(10);
    let t0 = sims.clock.now();
    sim_send(
        &ctl,
        patch("agents", early, json!({"job_title": "Changed early"})),
    )
    .await;
    advance(1);
    let t1 = sims.clock.now();
    // All at exactly t1: the boundary itself.
    sim_send(
        &ctl,
        patch("agents", agent_a, json!({"job_title": "Changed"})),
    )
    .await;
    sim_send(
        &ctl,
        ApiRequest::post(format!("/_sim/records/agents/{agent_b}/deactivate")),
    )
    .await;
    sim_send(
        &ctl,
        ApiRequest::post(format!("/_sim/records/agents/{revived}/reactivate")),
    )
    .await;
    sim_send(
        &ctl,
        patch("requesters", req_c, json!({"job_title": "New title"})),
    )
    .await;
    sim_send(
        &ctl,
        ApiRequest::post(format!("/_sim/records/requesters/{req_d}/deactivate")),
    )
    .await;
    advance(5);

    let ctx = compliance::context();
    let c = connector(&sims, &ctx);
    let snap = read_all(&c, Some(t1)).await.unwrap();
    let got = key_status(&snap);
    let want: BTreeSet<_> = [
        ("agent", agent_a, AccountStatus::Active),
        ("agent", agent_b, AccountStatus::Inactive),
        ("agent", revived, AccountStatus::Active),
        ("requester", req_c, AccountStatus::Active),
        ("requester", req_d, AccountStatus::Inactive),
    ]
    .iter()
    .map(|(ns, id, st)| (ns.to_string(), id.to_string(), *st))
    .collect();
    assert_eq!(got, want, "exactly the records changed at or after {t1}");
    let a = snap
        .accounts
        .iter()
        .find(|a| a.key.native_id == agent_a.to_string())
        .unwrap();
    assert_eq!(a.attributes["job_title"], "Changed");
    assert!(
        snap.grants.iter().any(|g| g.account == a.key),
        "an incremental page still carries the agent's grants"
    );
    // Entitlements are listed in full either way.
    assert!(!snap.entitlements.is_empty());

    // One second earlier includes the early change too.
    let snap = read_all(&c, Some(t0)).await.unwrap();
    let got = key_status(&snap);
    assert_eq!(got.len(), want.len() + 1);
    assert!(got.contains(&("agent".into(), early.to_string(), AccountStatus::Active)));
    sims.shutdown().await;
}

#[tokio::test(flavor = "current_thread")]
async fn truncated_pages_are_fetched_again() {
    let mut cfg = compliance::sim_config(App::Freshservice, 300);
    cfg.faults = Some(FaultConfig {
        seed: 3,
        malformed_rate: 0.3,
        ..FaultConfig::default()
    });
    let sims = serve::start(cfg).await.unwrap();
    let ctx = compliance::context();
    let snap = read_all(&connector(&sims, &ctx), None).await.unwrap();
    assert_eq!(key_status(&snap), company_status(&sims.company));
    let injected = sims.envs[&App::Freshservice].faults.injected();
    assert!(injected.malformed > 0, "{injected:?}");
    sims.shutdown().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_page_of_the_wrong_shape_is_an_error_naming_app_and_resource() {
    let ctx = compliance::context();
    for (body, resource, says) in [
        (r#"{"agents": {"id": 1}}"#, "agents", "not an array"),
        (
            r#"{"requesters": [{"id": "one"}]}"#,
            "requesters_deactivated",
            "record \"one\"",
        ),
        (r#"[{"id": 1, "name": "Admin"}]"#, "roles", "no \"/roles\""),
    ] {
        let base = one_answer_server(body).await;
        let c = FreshserviceConnector::new(
            FreshserviceConfig {
                base_url: Some(base),
                ..FreshserviceConfig::new("acme", Secret::new("k"))
            },
            &ctx,
        )
        .unwrap();
        let err = c.fetch(resource, None, None).await.unwrap_err();
        let text = format!(
            "{err} / {}",
            std::error::Error::source(&err).map_or(String::new(), |s| s.to_string())
        );
        assert!(
            text.contains("freshservice") && text.contains(resource) && text.contains(says),
            "{text}"
        );
        assert!(!err.is_retriable(), "{text}");
    }
    let err = connector_for_cursor_test(&ctx)
        .fetch(
            "agents",
            Some(&json!({"url": "https://elsewhere.example/"})),
            None,
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("freshservice") && err.contains("agents") && err.contains("cursor"),
        "{err}"
    );
    let err = connector_for_cursor_test(&ctx)
        .fetch("tickets", None, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("tickets"), "{err}");
}

fn connector_for_cursor_test(ctx: &ConnectorContext) -> FreshserviceConnector {
    FreshserviceConnector::new(
        FreshserviceConfig {
            base_url: Some("http://127.0.0.1:9".into()),
            ..FreshserviceConfig::new("acme", Secret::new("k"))
        },
        ctx,
    )
    .unwrap()
}

#[test]
fn resources_capabilities_and_tenant() {
    let ctx = compliance::context();
    let c = connector_for_cursor_test(&ctx);
    assert_eq!(c.app(), "freshservice");
    assert_eq!(c.tenant(), "acme.freshservice.com");
    let caps = c.capabilities();
    assert!(
        caps.read_accounts && caps.read_deactivated && caps.read_entitlements && caps.incremental
    );
    assert!(!caps.create && !caps.deactivate && !caps.scim);
    let names: Vec<(String, bool, Vec<String>)> = c
        .resources()
        .into_iter()
        .map(|r| (r.name, r.incremental, r.namespaces))
        .collect();
    let ns = |n: &str| vec![n.to_string()];
    assert_eq!(
        names,
        vec![
            ("roles".into(), false, vec![]),
            ("groups".into(), false, vec![]),
            ("departments".into(), false, vec![]),
            ("agents".into(), true, ns("agent")),
            ("agents_deactivated".into(), true, ns("agent")),
            ("requesters".into(), true, ns("requester")),
            ("requesters_deactivated".into(), true, ns("requester")),
        ]
    );
}

#[test]
fn the_api_key_never_shows_in_debug_output() {
    let ctx = compliance::context();
    let key = "sekrit-api-key-4242";
    let c = FreshserviceConnector::new(
        FreshserviceConfig {
            base_url: Some("http://127.0.0.1:9".into()),
            ..FreshserviceConfig::new("acme", Secret::new(key))
        },
        &ctx,
    )
    .unwrap();
    let shown = format!("{c:?}");
    // Neither the key nor the Basic header built from it.
    assert!(!shown.contains(key) && !shown.contains("Basic"), "{shown}");
}
