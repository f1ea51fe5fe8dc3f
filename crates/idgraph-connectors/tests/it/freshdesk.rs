//! Compliance of the freshdesk connector against its simulator: the shared suite (calm and under
//! faults), the minimum number of requests, pacing under the plan's limit with zero 429s and
//! 429s without `Retry-After`, incremental contact reads with an inclusive `_updated_since`,
//! contact listings past the server's deep-page cap, and bad pages.

use crate::compliance::{self, Subject};
use crate::freshservice::{control, one_answer_server, pages, sim_get, sim_send};
use idgraph_connectors::freshdesk::{FreshdeskConfig, FreshdeskConnector, FreshdeskPlan};
use idgraph_connectors::{read_all, Connector, ConnectorContext, Snapshot};
use idgraph_core::{AccountKey, AccountStatus, Record};
use idgraph_http::{ApiRequest, Secret};
use idgraph_sim::common::{App, PlanTier, TenantOptions};
use idgraph_sim::company::{AccountKind, Company, SeedAccount, SeedStatus};
use idgraph_sim::faults::FaultConfig;
use idgraph_sim::serve::{self, RunningSims};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------- the subject

/// The simulated account: `<first label of the company's email domain>.freshdesk.com`.
/// Checked against the served credentials in `requests_are_the_minimum_for_the_data`.
fn sim_tenant(company: &Company) -> String {
    let label = company.config.domain.split('.').next().unwrap();
    format!("{label}.freshdesk.com")
}

fn config(sims: &RunningSims, plan: FreshdeskPlan) -> FreshdeskConfig {
    let creds = sims.credentials(App::Freshdesk).unwrap();
    FreshdeskConfig {
        plan,
        base_url: Some(sims.base_url(App::Freshdesk).unwrap().to_string()),
        ..FreshdeskConfig::new(
            creds["domain"].as_str().unwrap(),
            Secret::new(creds["api_key"].as_str().unwrap()),
        )
    }
}

fn connector(sims: &RunningSims, ctx: &ConnectorContext) -> FreshdeskConnector {
    FreshdeskConnector::new(config(sims, FreshdeskPlan::Enterprise), ctx).unwrap()
}

fn key(company: &Company, seed: &SeedAccount) -> AccountKey {
    let namespace = match seed.kind {
        AccountKind::Agent => "agent",
        AccountKind::Contact => "contact",
        other => panic!("no Freshdesk {other:?}"),
    };
    AccountKey {
        app: "freshdesk".into(),
        tenant: sim_tenant(company),
        namespace: namespace.into(),
        native_id: seed.native_id.to_string(),
    }
}

fn subject() -> Subject {
    Subject {
        app: App::Freshdesk,
        build: |sims, ctx| Box::new(connector(sims, ctx)),
        // Every agent (active, deactivated, unconfirmed) and every contact (deleted too),
        // once. A deactivated agent's retained contact record is the agent's own and is not
        // listed a second time as a contact.
        expected_keys: |company, seed| vec![key(company, seed)],
        check_grants: |seed| seed.kind == AccountKind::Agent,
    }
}

// ---------------------------------------------------------------- helpers

async fn state(sims: &RunningSims) -> Value {
    sim_get(&control(sims, App::Freshdesk), "/_sim/state").await
}

/// Items per list, as the simulator holds them.
fn list_sizes(state: &Value) -> BTreeMap<&'static str, usize> {
    let arr = |k: &str| state[k].as_array().unwrap().clone();
    let agents = arr("agents");
    let contacts = arr("contacts");
    let active = agents.iter().filter(|a| a["active"] == json!(true)).count();
    let deleted = contacts
        .iter()
        .filter(|c| c["deleted"] == json!(true))
        .count();
    BTreeMap::from([
        ("roles", arr("roles").len()),
        ("groups", arr("groups").len()),
        ("agents", active),
        ("agents_inactive", agents.len() - active),
        // The contact list also serves deactivated agents' contacts (they cost pages).
        ("contacts", contacts.len() - deleted),
        ("contacts_deleted", deleted),
    ])
}

/// Ids of agents listed under `active=false`.
fn inactive_agent_ids(state: &Value) -> BTreeSet<String> {
    state["agents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["active"] != json!(true))
        .map(|a| a["id"].to_string())
        .collect()
}

fn key_status(s: &Snapshot) -> BTreeSet<(String, String, AccountStatus)> {
    s.accounts
        .iter()
        .map(|a| (a.key.namespace.clone(), a.key.native_id.clone(), a.status))
        .collect()
}

fn company_status(company: &Company) -> BTreeSet<(String, String, AccountStatus)> {
    company
        .accounts_of(App::Freshdesk)
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

/// Every page of one resource: its records and requests.
async fn read_resource(
    c: &dyn Connector,
    resource: &str,
    since: Option<time::OffsetDateTime>,
) -> (Vec<Record>, u64) {
    let mut cursor = None;
    let mut records = Vec::new();
    let mut requests = 0;
    loop {
        let page = c.fetch(resource, cursor.as_ref(), since).await.unwrap();
        requests += page.requests;
        records.extend(page.records);
        match page.next {
            Some(n) => cursor = Some(n),
            None => return (records, requests),
        }
    }
}

fn account_ids(records: &[Record]) -> Vec<(String, AccountStatus)> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Account(a) => Some((a.key.native_id.clone(), a.status)),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------- tests

#[tokio::test(flavor = "current_thread")]
async fn compliance_suite_calm_and_under_faults() {
    compliance::run_suite(subject()).await;
}

#[tokio::test(flavor = "current_thread")]
async fn requests_are_the_minimum_for_the_data() {
    for people in [300, 1000] {
        let sims = serve::start(compliance::sim_config(App::Freshdesk, people))
            .await
            .unwrap();
        assert_eq!(
            sims.credentials(App::Freshdesk).unwrap()["domain"],
            json!(sim_tenant(&sims.company))
        );
        let st = state(&sims).await;
        let sizes = list_sizes(&st);
        let expected: u64 = sizes.values().map(|n| pages(*n)).sum();
        let ctx = compliance::context();
        let c = connector(&sims, &ctx);
        let snap = read_all(&c, None).await.unwrap();
        let served = sims.envs[&App::Freshdesk].counters.snapshot();
        assert_eq!(snap.requests, expected, "{people} people: {sizes:?}");
        assert_eq!(served.total, expected, "the simulator saw as many");
        assert_eq!(
            served.by_route.keys().cloned().collect::<BTreeSet<_>>(),
            [
                "GET /api/v2/agents",
                "GET /api/v2/contacts",
                "GET /api/v2/groups",
                "GET /api/v2/roles"
            ]
            .map(String::from)
            .into(),
            "list endpoints only, never one GET per agent"
        );
        let accounts = snap.accounts.len();
        println!(
            "freshdesk, {people} people: {} requests for {accounts} accounts = {:.4} requests per account ({sizes:?})",
            snap.requests,
            snap.requests as f64 / accounts as f64
        );

        // Contacts read alone (a new process, say) learn the inactive agents first: one more
        // list, and still no deactivated agent among the contacts.
        let fresh = connector(&sims, &ctx);
        let (records, requests) = read_resource(&fresh, "contacts", None).await;
        assert_eq!(
            requests,
            pages(sizes["agents_inactive"]) + pages(sizes["contacts"])
        );
        let inactive = inactive_agent_ids(&st);
        let listed: Vec<_> = account_ids(&records);
        assert!(!inactive.is_empty());
        assert!(listed.iter().all(|(id, _)| !inactive.contains(id)));
        let deactivated = st["agents"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["deactivated"] == json!(true))
            .count();
        assert!(deactivated > 0);
        assert_eq!(
            listed.len(),
            sizes["contacts"] - deactivated,
            "every contact but the deactivated agents' own"
        );
        sims.shutdown().await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn paced_on_the_free_plan_with_zero_429s() {
    // Free: 100 requests/min, no Retry-After. Another integration has used 90 of the first
    // minute; 3,000 people need ~25 requests: the read runs into the next window.
    let mut cfg = compliance::sim_config(App::Freshdesk, 3000);
    // A frozen simulator clock moved only by the client's waits: request latency costs no
    // simulated time, so the pacing (not the machine's speed) decides how windows fill.
    cfg.time_scale = 0.0;
    cfg.default_options = TenantOptions {
        plan: PlanTier::Starter,
        rate_limits: true,
        ..TenantOptions::default()
    };
    let sims = serve::start(cfg).await.unwrap();
    let expected: u64 = list_sizes(&state(&sims).await)
        .values()
        .map(|n| pages(*n))
        .sum();
    assert!(expected > 10, "{expected}");
    sim_send(
        &control(&sims, App::Freshdesk),
        ApiRequest::post("/_sim/ratelimit/consume")
            .json(&json!({"n": 90}))
            .unwrap(),
    )
    .await;
    let ctx = compliance::context_on_sim_time(&sims);
    let c = FreshdeskConnector::new(config(&sims, FreshdeskPlan::Free), &ctx).unwrap();
    let started = sims.clock.now();
    let snap = read_all(&c, None).await.unwrap();
    let took = sims.clock.now() - started;
    let served = sims.envs[&App::Freshdesk].counters.snapshot();
    assert_eq!(served.rate_limited, 0, "{served:?}");
    assert_eq!(served.status_429, 0);
    assert_eq!(snap.requests, expected);
    assert_eq!(key_status(&snap), company_status(&sims.company), "complete");
    let budget = ctx.budgets.metrics();
    assert!(
        budget.iter().all(|(_, m)| m.waits > 0 && m.corrections > 0),
        "{budget:?}"
    );
    println!("freshdesk free plan: {expected} requests in {took} simulated; budget {budget:?}");
    sims.shutdown().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_429_without_retry_after_waits_for_the_next_minute() {
    let mut cfg = compliance::sim_config(App::Freshdesk, 300);
    cfg.time_scale = 0.0;
    cfg.faults = Some(FaultConfig {
        seed: 11,
        rate_429: 0.3,
        ..FaultConfig::default()
    });
    let sims = serve::start(cfg).await.unwrap();
    let ctx = compliance::context_on_sim_time(&sims);
    let c = connector(&sims, &ctx);
    let started = sims.clock.now();
    let snap = read_all(&c, None).await.unwrap();
    let injected = sims.envs[&App::Freshdesk].faults.injected();
    assert!(injected.too_many > 0, "{injected:?}");
    assert_eq!(c.api().metrics().responses_429, injected.too_many);
    assert_eq!(key_status(&snap), company_status(&sims.company));
    // Each 429 closed the window until the next minute boundary (there is no Retry-After).
    let minutes = (sims.clock.now().unix_timestamp() / 60) - (started.unix_timestamp() / 60);
    assert!(
        minutes >= injected.too_many as i64,
        "{} 429s, {minutes} minute boundaries passed",
        injected.too_many
    );
    sims.shutdown().await;
}

#[tokio::test(flavor = "current_thread")]
async fn incremental_contacts_are_exactly_those_changed_since_boundary_included() {
    let mut cfg = compliance::sim_config(App::Freshdesk, 300);
    cfg.time_scale = 0.0;
    let sims = serve::start(cfg).await.unwrap();
    let ctl = control(&sims, App::Freshdesk);
    let company = sims.company.clone();
    let pick = |kind: AccountKind, status: SeedStatus, n: usize| {
        company
            .accounts_of(App::Freshdesk)
            .filter(|a| a.kind == kind && a.status == status)
            .nth(n)
            .unwrap()
            .native_id
    };
    let contact = |n| pick(AccountKind::Contact, SeedStatus::Active, n);
    let (early, a, b, c_exact, d_before) =
        (contact(0), contact(1), contact(2), contact(3), contact(4));
    let gone_agent = pick(AccountKind::Agent, SeedStatus::Active, 0);
    let advance = |s: i64| sims.clock.advance(time::Duration::seconds(s));
    let patch = |id: u64, body: Value| {
        ApiRequest::patch(format!("/_sim/records/contacts/{id}"))
            .json(&body)
            .unwrap()
    };

    advance(10);
    let t0 = sims.clock.now();
    sim_send(&ctl, patch(early, json!({"job_title": "Early"}))).await;
    advance(1);
    let t1 = sims.clock.now();
    let stamp = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    sim_send(&ctl, patch(a, json!({"name": "Renamed Contact"}))).await;
    sim_send(
        &ctl,
        ApiRequest::post(format!("/_sim/records/contacts/{b}/deactivate")),
    )
    .await;
    sim_send(
        &ctl,
        patch(
            c_exact,
            json!({"job_title": "Exact", "updated_at": stamp(t1)}),
        ),
    )
    .await;
    sim_send(
        &ctl,
        patch(
            d_before,
            json!({"job_title": "Before", "updated_at": stamp(t1 - time::Duration::seconds(1))}),
        ),
    )
    .await;
    // An agent deactivated in the window: its contact record now shows in the contact list,
    // updated since t1, but it is the agent's own record.
    sim_send(
        &ctl,
        ApiRequest::post(format!("/_sim/records/agents/{gone_agent}/deactivate")),
    )
    .await;
    advance(5);

    let ctx = compliance::context();
    let conn = connector(&sims, &ctx);
    let snap = read_all(&conn, Some(t1)).await.unwrap();
    let contacts: BTreeSet<_> = key_status(&snap)
        .into_iter()
        .filter(|(ns, _, _)| ns == "contact")
        .collect();
    let want: BTreeSet<_> = [
        (a, AccountStatus::Active),
        (b, AccountStatus::Deleted),
        (c_exact, AccountStatus::Active),
    ]
    .iter()
    .map(|(id, st)| ("contact".to_string(), id.to_string(), *st))
    .collect();
    assert_eq!(
        contacts, want,
        "exactly the contacts changed at or after {t1}"
    );
    // Agents have no updated_since filter: listed in full, the deactivated one inactive.
    let agents = snap
        .accounts
        .iter()
        .filter(|x| x.key.namespace == "agent")
        .count();
    assert_eq!(
        agents,
        company
            .accounts_of(App::Freshdesk)
            .filter(|x| x.kind == AccountKind::Agent)
            .count()
    );
    assert!(key_status(&snap).contains(&(
        "agent".into(),
        gone_agent.to_string(),
        AccountStatus::Inactive
    )));
    let renamed = snap
        .accounts
        .iter()
        .find(|x| x.key.native_id == a.to_string())
        .unwrap();
    assert_eq!(renamed.display_name.as_deref(), Some("Renamed Contact"));

    let snap = read_all(&conn, Some(t0)).await.unwrap();
    let contacts: BTreeSet<_> = key_status(&snap)
        .into_iter()
        .filter(|(ns, _, _)| ns == "contact")
        .collect();
    // t0 = t1 - 1 s: the early change and the one stamped a second before t1 come in too.
    assert_eq!(contacts.len(), want.len() + 2);
    for id in [early, d_before] {
        assert!(contacts.contains(&("contact".into(), id.to_string(), AccountStatus::Active)));
    }
    sims.shutdown().await;
}

#[tokio::test(flavor = "current_thread")]
async fn contact_listings_past_the_page_cap_go_on_in_updated_since_windows() {
    let mut cfg = compliance::sim_config(App::Freshdesk, 300);
    cfg.time_scale = 0.0;
    let sims = serve::start(cfg).await.unwrap();
    let ctl = control(&sims, App::Freshdesk);
    sim_send(
        &ctl,
        ApiRequest::put("/_sim/pagination")
            .json(&json!({"max_page": 2}))
            .unwrap(),
    )
    .await;
    let ctx = compliance::context();
    // New customers arrive after the seeded ones (ids and creation times in order, as
    // Freshdesk assigns them).
    let writer = connector(&sims, &ctx);
    for k in 0..120 {
        if k % 10 == 0 {
            sims.clock.advance(time::Duration::seconds(1));
        }
        writer
            .api()
            .send(
                ApiRequest::post("/api/v2/contacts")
                    .json(&json!({"name": format!("New {k}"), "email": format!("new{k}@client-new.example")}))
                    .unwrap(),
            )
            .await
            .unwrap();
    }
    sims.clock.advance(time::Duration::seconds(1));
    let st = state(&sims).await;
    let sizes = list_sizes(&st);
    assert!(sizes["contacts"] > 200, "more than two pages: {sizes:?}");
    let inactive = inactive_agent_ids(&st);
    let truth: BTreeSet<String> = st["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["deleted"] == json!(false))
        .map(|c| c["id"].to_string())
        .filter(|id| !inactive.contains(id))
        .collect();

    // The connector knows the cap (max_page = 2), or learns it from the server's refusal.
    for max_page in [2, 500] {
        let c = FreshdeskConnector::new(
            FreshdeskConfig {
                max_page,
                ..config(&sims, FreshdeskPlan::Enterprise)
            },
            &ctx,
        )
        .unwrap();
        let (records, requests) = read_resource(&c, "contacts", None).await;
        let ids: Vec<String> = account_ids(&records)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let unique: BTreeSet<String> = ids.iter().cloned().collect();
        assert_eq!(unique.len(), ids.len(), "each contact once");
        assert_eq!(unique, truth, "max_page {max_page}: complete");
        println!("freshdesk contacts past a 2-page cap (max_page {max_page}): {} contacts in {requests} requests", ids.len());
    }
    // A window of nothing but already-listed contacts cannot make progress: touch the first
    // two pages' contacts, so the second window starts with two pages of them.
    let mut first_window: Vec<u64> = st["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["deleted"] == json!(false))
        .map(|c| c["id"].as_u64().unwrap())
        .collect();
    first_window.sort_unstable();
    sims.clock.advance(time::Duration::seconds(5));
    for id in &first_window[..200] {
        sim_send(
            &ctl,
            ApiRequest::patch(format!("/_sim/records/contacts/{id}"))
                .json(&json!({"job_title": "Touched"}))
                .unwrap(),
        )
        .await;
    }
    let c = FreshdeskConnector::new(
        FreshdeskConfig {
            max_page: 2,
            ..config(&sims, FreshdeskPlan::Enterprise)
        },
        &ctx,
    )
    .unwrap();
    let mut cursor = None;
    let err = loop {
        match c.fetch("contacts", cursor.as_ref(), None).await {
            Ok(page) => match page.next {
                Some(n) => cursor = Some(n),
                None => panic!("a listing with a gap must not end quietly"),
            },
            Err(e) => break e.to_string(),
        }
    };
    assert!(
        err.contains("freshdesk") && err.contains("contacts") && err.contains("nothing new"),
        "{err}"
    );
    sims.shutdown().await;
}

#[tokio::test(flavor = "current_thread")]
async fn truncated_pages_are_fetched_again() {
    let mut cfg = compliance::sim_config(App::Freshdesk, 300);
    cfg.faults = Some(FaultConfig {
        seed: 3,
        malformed_rate: 0.3,
        ..FaultConfig::default()
    });
    let sims = serve::start(cfg).await.unwrap();
    let ctx = compliance::context();
    let snap = read_all(&connector(&sims, &ctx), None).await.unwrap();
    assert_eq!(key_status(&snap), company_status(&sims.company));
    let injected = sims.envs[&App::Freshdesk].faults.injected();
    assert!(injected.malformed > 0, "{injected:?}");
    sims.shutdown().await;
}

fn offline(ctx: &ConnectorContext, base: &str) -> FreshdeskConnector {
    FreshdeskConnector::new(
        FreshdeskConfig {
            base_url: Some(base.to_string()),
            ..FreshdeskConfig::new("acme", Secret::new("k"))
        },
        ctx,
    )
    .unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn a_page_of_the_wrong_shape_is_an_error_naming_app_and_resource() {
    let ctx = compliance::context();
    for (body, resource, says) in [
        (r#"{"agents": []}"#, "agents", "not an array"),
        (r#"[{"id": "one"}]"#, "agents_inactive", "record \"one\""),
        (r#"[{"id": 5, "role_ids": {"a": 1}}]"#, "agents", "record 5"),
        (r#"[[1, 2]]"#, "roles", "not a JSON object"),
    ] {
        let base = one_answer_server(body).await;
        let err = offline(&ctx, &base)
            .fetch(resource, None, None)
            .await
            .unwrap_err();
        let text = format!(
            "{err} / {}",
            std::error::Error::source(&err).map_or(String::new(), |s| s.to_string())
        );
        assert!(
            text.contains("freshdesk") && text.contains(resource) && text.contains(says),
            "{text}"
        );
        assert!(!err.is_retriable(), "{text}");
    }
    // An active agent served under `active=false` is left to the default list.
    let base = one_answer_server(
        r#"[{"id": 1, "active": true, "deactivated": false, "email": "a@x.example"},
            {"id": 2, "active": false, "deactivated": true, "email": "b@x.example"}]"#,
    )
    .await;
    let page = offline(&ctx, &base)
        .fetch("agents_inactive", None, None)
        .await
        .unwrap();
    let ids: Vec<_> = account_ids(&page.records);
    assert_eq!(ids, vec![("2".to_string(), AccountStatus::Inactive)]);
    // Contacts: the inactive-agent list answers fine, the contact page does not.
    let base = one_answer_server(r#"[{"id": "seven", "email": "x@y.example"}]"#).await;
    let err = offline(&ctx, &base)
        .fetch("contacts_deleted", None, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("freshdesk") && err.contains("contacts_deleted"),
        "{err}"
    );
    let c = offline(&ctx, "http://127.0.0.1:9");
    let err = c
        .fetch("contacts", Some(&json!({"page": 0})), None)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("contacts") && err.contains("cursor"), "{err}");
    let err = c
        .fetch("tickets", None, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("tickets"), "{err}");
}

#[test]
fn resources_capabilities_and_tenant() {
    let ctx = compliance::context();
    let c = offline(&ctx, "http://127.0.0.1:9");
    assert_eq!(c.app(), "freshdesk");
    assert_eq!(c.tenant(), "acme.freshdesk.com");
    let caps = c.capabilities();
    assert!(
        caps.read_accounts && caps.read_deactivated && caps.read_entitlements && caps.incremental
    );
    assert!(!caps.create && !caps.invite && !caps.scim);
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
            ("agents".into(), false, ns("agent")),
            ("agents_inactive".into(), false, ns("agent")),
            ("contacts".into(), true, ns("contact")),
            ("contacts_deleted".into(), true, ns("contact")),
        ]
    );
}

#[test]
fn the_api_key_never_shows_in_debug_output() {
    let ctx = compliance::context();
    let key = "sekrit-api-key-4242";
    let c = FreshdeskConnector::new(
        FreshdeskConfig {
            base_url: Some("http://127.0.0.1:9".into()),
            ..FreshdeskConfig::new("acme", Secret::new(key))
        },
        &ctx,
    )
    .unwrap();
    let shown = format!("{c:?}");
    // Neither the key nor the Basic header built from it.
    assert!(!shown.contains(key) && !shown.contains("Basic"), "{shown}");
}
