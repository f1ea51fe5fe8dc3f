//! The generic SCIM 2.0 connector against two simulators' SCIM endpoints: Help Scout
//! (`/v2/scim`, Pro plan, users and teams) through the shared compliance suite, and Freshdesk
//! (`/scim/v2`, Enterprise, agents and agent groups). Also: minimal requests, pacing with the
//! plan limit on and another integration eating into the window, incremental reads by
//! `meta.lastModified`, lookups by id and `userName`, and the errors for a refused plan, a
//! wrong token and pages that are not list responses.

use crate::compliance::{self, context, context_on_sim_time, sim_config, Subject};
use idgraph_connectors::scim::{ScimConfig, ScimConnector};
use idgraph_connectors::{read_all, Connector, ConnectorContext, ConnectorError};
use idgraph_core::{AccountKey, AccountStatus};
use idgraph_http::{ApiClient, ApiConfig, ApiRequest, Secret, StaticAuth};
use idgraph_sim::common::{App, PlanTier, TenantOptions};
use idgraph_sim::company::{Company, SeedAccount, SeedStatus};
use idgraph_sim::faults::FaultConfig;
use idgraph_sim::serve::{self, RunningSims};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use time::macros::datetime;

/// The SCIM configuration of `app` on the running simulators (base URL, token, tenant).
pub fn sim_scim_config(sims: &RunningSims, app: App) -> ScimConfig {
    let creds = sims.credentials(app).unwrap();
    let base = sims.base_url(app).unwrap();
    // Freshdesk's credentials name no path: its SCIM base is `/scim/v2`, as the guide says.
    let path = creds["scim_path"].as_str().unwrap_or("/scim/v2");
    let token = Secret::new(creds["scim_token"].as_str().unwrap());
    match app {
        App::Helpscout => {
            let mut c = ScimConfig::new("helpscout", "acme", &format!("{base}{path}"), token);
            c.namespace = "user".into();
            c.group_kind = "team".into();
            c.role_kind = Some("role".into());
            c
        }
        App::Freshdesk => {
            let domain = creds["domain"].as_str().unwrap();
            let mut c = ScimConfig::new("freshdesk", domain, &format!("{base}{path}"), token);
            c.namespace = "agent".into();
            c
        }
        other => panic!("no SCIM set-up for {other} in these tests"),
    }
}

fn helpscout_build(sims: &RunningSims, ctx: &ConnectorContext) -> Box<dyn Connector> {
    Box::new(ScimConnector::new(sim_scim_config(sims, App::Helpscout), ctx).unwrap())
}

/// Help Scout's SCIM lists every user but the deleted ones, deactivated included, under the
/// REST user id (`user` namespace).
fn helpscout_keys(_: &Company, seed: &SeedAccount) -> Vec<AccountKey> {
    if seed.status == SeedStatus::Deleted {
        return Vec::new();
    }
    vec![AccountKey {
        app: "helpscout".into(),
        tenant: "acme".into(),
        namespace: "user".into(),
        native_id: seed.native_id.to_string(),
    }]
}

#[tokio::test]
async fn scim_helpscout_compliance_calm_and_under_faults() {
    compliance::run_suite(Subject {
        app: App::Helpscout,
        build: helpscout_build,
        expected_keys: helpscout_keys,
        // SCIM `roles` (owner/admin/user) are read as role grants, Groups are the teams.
        check_grants: |_| true,
    })
    .await;
}

/// A control-plane client for `/_sim/` endpoints (no auth, no budget).
pub fn control(sims: &RunningSims, app: App, ctx: &ConnectorContext) -> ApiClient {
    ctx.http
        .api(ApiConfig::new(
            sims.base_url(app).unwrap(),
            format!("control:{app}"),
            Arc::new(StaticAuth::none()),
            ctx.budgets.unlimited(&format!("control:{app}")),
        ))
        .unwrap()
}

pub async fn sim_post(api: &ApiClient, path: &str, body: Value) {
    api.send(ApiRequest::post(path).json(&body).unwrap())
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e:#?}"));
}

pub async fn sim_patch(api: &ApiClient, path: &str, body: Value) -> Value {
    api.send_json(ApiRequest::patch(path).json(&body).unwrap())
        .await
        .unwrap_or_else(|e| panic!("PATCH {path}: {e:#?}"))
}

/// Pages needed to list `n` items `size` at a time: at least one (an empty list is one
/// request that says so).
pub fn pages(n: usize, size: usize) -> u64 {
    n.div_ceil(size).max(1) as u64
}

#[tokio::test]
async fn scim_freshdesk_lists_every_agent_with_its_groups() {
    let sims = serve::start(sim_config(App::Freshdesk, 300)).await.unwrap();
    let ctx = context();
    let cfg = sim_scim_config(&sims, App::Freshdesk);
    let tenant = cfg.tenant.clone();
    let connector = ScimConnector::new(cfg, &ctx).unwrap();
    let snap = read_all(&connector, None).await.unwrap();
    let company = &sims.company;
    let agents: Vec<&SeedAccount> = company
        .accounts_of(App::Freshdesk)
        .filter(|a| a.kind == idgraph_sim::company::AccountKind::Agent)
        .collect();
    assert!(agents.len() > 10, "the company has Freshdesk agents");
    let by_key: BTreeMap<&AccountKey, &idgraph_core::Account> =
        snap.accounts.iter().map(|a| (&a.key, a)).collect();
    assert_eq!(by_key.len(), snap.accounts.len(), "each agent once");
    assert_eq!(
        snap.accounts.len(),
        agents.len(),
        "agents only, contacts left out"
    );
    let group_name: BTreeMap<_, _> = snap
        .entitlements
        .iter()
        .map(|e| (&e.key, e.name.as_str()))
        .collect();
    for seed in agents {
        let key = AccountKey {
            app: "freshdesk".into(),
            tenant: tenant.clone(),
            namespace: "agent".into(),
            native_id: seed.native_id.to_string(),
        };
        let acc = by_key
            .get(&key)
            .unwrap_or_else(|| panic!("missing {key:?}"));
        // SCIM cannot tell an agent who never confirmed from an active one.
        let want = match seed.status {
            SeedStatus::Inactive | SeedStatus::Deleted => AccountStatus::Inactive,
            SeedStatus::Active | SeedStatus::Pending => AccountStatus::Active,
        };
        assert_eq!(acc.status, want, "{key:?}");
        assert!(acc.emails[0].eq_ignore_ascii_case(&seed.email), "{key:?}");
        let groups: BTreeSet<&str> = snap
            .grants
            .iter()
            .filter(|g| g.account == key)
            .map(|g| group_name[&g.entitlement])
            .collect();
        let want: BTreeSet<&str> = seed.groups.iter().map(String::as_str).collect();
        assert_eq!(groups, want, "{key:?} groups");
    }
    assert!(snap.entitlements.iter().all(|e| e.key.kind == "group"));
}

#[tokio::test]
async fn scim_requests_are_the_minimum_for_the_data() {
    let sims = serve::start(sim_config(App::Helpscout, 300)).await.unwrap();
    let ctx = context();
    let mut cfg = sim_scim_config(&sims, App::Helpscout);
    // A small page so the listing takes several pages.
    cfg.page_size = 7;
    let connector = ScimConnector::new(cfg, &ctx).unwrap();
    let users = sims
        .company
        .accounts_of(App::Helpscout)
        .filter(|a| a.status != SeedStatus::Deleted)
        .count();
    let teams = sims.company.catalog(App::Helpscout).groups.len();
    let before = sims.envs[&App::Helpscout].counters.snapshot().total;
    let snap = read_all(&connector, None).await.unwrap();
    let served = sims.envs[&App::Helpscout].counters.snapshot().total - before;
    let expected = pages(users, 7) + pages(teams, 7);
    assert_eq!(snap.accounts.len(), users);
    assert_eq!(snap.requests, expected, "users {users}, teams {teams}");
    assert_eq!(served, expected, "the simulator saw as many requests");
    println!(
        "scim (helpscout, page size 7): {} requests for {users} accounts and {teams} teams = {:.3} requests per account",
        snap.requests,
        snap.requests as f64 / users as f64
    );
    // At the default page size (100) the whole read is one page of users and one of groups.
    let connector = ScimConnector::new(sim_scim_config(&sims, App::Helpscout), &ctx).unwrap();
    let snap = read_all(&connector, None).await.unwrap();
    assert_eq!(snap.requests, pages(users, 100) + pages(teams, 100));
    println!(
        "scim (helpscout, page size 100): {} requests for {users} accounts = {:.3} requests per account",
        snap.requests,
        snap.requests as f64 / users as f64
    );
}

#[tokio::test]
async fn scim_pace_on_spends_the_window_without_a_429() {
    // Plan limits on (Help Scout: 400 a minute per account), the client on the simulators'
    // clock at 120x, and another integration that already used 390 of this minute's 400: the
    // read must finish in the next window without a single 429.
    let mut cfg = sim_config(App::Helpscout, 300);
    cfg.default_options.rate_limits = true;
    cfg.time_scale = 120.0;
    let sims = serve::start(cfg).await.unwrap();
    let ctx = context_on_sim_time(&sims);
    let plain = context();
    let ctl = control(&sims, App::Helpscout, &plain);
    sim_post(&ctl, "/_sim/ratelimit/consume", json!({"n": 390})).await;
    let mut cfg = sim_scim_config(&sims, App::Helpscout);
    cfg.page_size = 2;
    cfg.rate_limit = Some(idgraph_connectors::scim::RateLimit {
        requests: 400,
        window_secs: 60,
    });
    let connector = ScimConnector::new(cfg, &ctx).unwrap();
    let snap = read_all(&connector, None).await.unwrap();
    let users = sims
        .company
        .accounts_of(App::Helpscout)
        .filter(|a| a.status != SeedStatus::Deleted)
        .count();
    assert_eq!(snap.accounts.len(), users, "complete");
    assert!(snap.requests > 10, "more requests than the window had left");
    let counters = sims.envs[&App::Helpscout].counters.snapshot();
    assert_eq!(counters.status_429, 0, "no 429: {counters:?}");
    assert_eq!(counters.rate_limited, 0);
    let budget = ctx.budgets.get("helpscout:acme").unwrap().metrics();
    assert!(
        budget.corrections > 0,
        "the other integration's use was learnt from headers"
    );
    assert!(budget.waits > 0, "the read waited for the next window");
}

#[tokio::test]
async fn scim_incremental_reads_changes_since_inclusive() {
    let sims = serve::start(sim_config(App::Helpscout, 300)).await.unwrap();
    let ctx = context();
    let ctl = control(&sims, App::Helpscout, &ctx);
    let seeds: Vec<&SeedAccount> = sims
        .company
        .accounts_of(App::Helpscout)
        .filter(|a| a.status == SeedStatus::Active)
        .collect();
    let since = datetime!(2026-06-05 12:00 UTC);
    let at = |t: time::OffsetDateTime| idgraph_sim::clock::rfc3339(t);
    let (on_boundary, later, deactivated, before) = (
        seeds[0].native_id,
        seeds[1].native_id,
        seeds[2].native_id,
        seeds[3].native_id,
    );
    let path = |id: u64| format!("/_sim/records/users/{id}");
    sim_patch(
        &ctl,
        &path(on_boundary),
        json!({"jobTitle": "Lead", "updatedAt": at(since)}),
    )
    .await;
    sim_patch(
        &ctl,
        &path(later),
        json!({"updatedAt": at(since + time::Duration::hours(1))}),
    )
    .await;
    sim_patch(
        &ctl,
        &path(deactivated),
        json!({"status": "inactive", "updatedAt": at(since + time::Duration::hours(2))}),
    )
    .await;
    sim_patch(
        &ctl,
        &path(before),
        json!({"updatedAt": at(since - time::Duration::seconds(1))}),
    )
    .await;

    let mut cfg = sim_scim_config(&sims, App::Helpscout);
    cfg.incremental = true;
    let connector = ScimConnector::new(cfg, &ctx).unwrap();
    assert!(connector.capabilities().incremental);
    assert!(connector.resources()[0].incremental);
    let snap = read_all(&connector, Some(since)).await.unwrap();
    let got: BTreeMap<String, AccountStatus> = snap
        .accounts
        .iter()
        .map(|a| (a.key.native_id.clone(), a.status))
        .collect();
    let want: BTreeMap<String, AccountStatus> = [
        (on_boundary, AccountStatus::Active),
        (later, AccountStatus::Active),
        (deactivated, AccountStatus::Inactive),
    ]
    .into_iter()
    .map(|(id, s)| (id.to_string(), s))
    .collect();
    assert_eq!(
        got, want,
        "exactly the changed users, the boundary included"
    );
    // Without `incremental` the same `since` lists everyone.
    let full = ScimConnector::new(sim_scim_config(&sims, App::Helpscout), &ctx).unwrap();
    let all = read_all(&full, Some(since)).await.unwrap();
    assert!(all.accounts.len() > got.len() + 10);
}

#[tokio::test]
async fn scim_lookups_by_id_and_user_name() {
    let sims = serve::start(sim_config(App::Helpscout, 100)).await.unwrap();
    let ctx = context();
    let connector = ScimConnector::new(sim_scim_config(&sims, App::Helpscout), &ctx).unwrap();
    let client = connector.client();
    let seed = sims
        .company
        .accounts_of(App::Helpscout)
        .find(|a| a.status == SeedStatus::Active)
        .unwrap();
    let id = seed.native_id.to_string();
    let u = client.get_user(&id).await.unwrap().expect("found by id");
    assert_eq!(u.item.user_name, seed.email);
    assert_eq!(u.raw["id"], json!(id));
    assert!(client.get_user("999999999").await.unwrap().is_none());
    // An id with characters that must be escaped is one path segment (404, not another route).
    assert!(client.get_user("1/../../v2/users").await.unwrap().is_none());
    // userName is case-insensitive in SCIM; the filter is rendered with proper quoting.
    let found = client
        .find_user_by_username(&seed.email.to_uppercase())
        .await
        .unwrap()
        .expect("found by userName");
    assert_eq!(found.item.id.as_deref(), Some(id.as_str()));
    assert!(client
        .find_user_by_username("no\"body\\@nowhere.example")
        .await
        .unwrap()
        .is_none());
    let team = sims.company.catalog(App::Helpscout).groups[0].clone();
    let groups = client
        .find_groups(&idgraph_scim::Filter::eq("displayName", team.as_str()).unwrap())
        .await
        .unwrap();
    assert_eq!(groups.len(), 1);
    let gid = groups[0].item.id.clone().unwrap();
    assert_eq!(
        client
            .get_group(&gid)
            .await
            .unwrap()
            .unwrap()
            .item
            .display_name,
        team
    );
}

#[tokio::test]
async fn scim_refused_by_plan_or_token_is_a_clear_error() {
    // Help Scout on Standard: SCIM needs Pro.
    let mut cfg = sim_config(App::Helpscout, 50);
    cfg.options.insert(
        App::Helpscout,
        TenantOptions {
            plan: PlanTier::Starter,
            rate_limits: false,
            ..TenantOptions::default()
        },
    );
    let sims = serve::start(cfg).await.unwrap();
    let ctx = context();
    let connector = ScimConnector::new(sim_scim_config(&sims, App::Helpscout), &ctx).unwrap();
    let err = read_all(&connector, None).await.unwrap_err();
    assert!(
        matches!(
            err,
            ConnectorError::Config {
                app: "helpscout",
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("users") && msg.contains("HTTP 403") && msg.contains("Pro plan"),
        "{msg}"
    );
    sims.shutdown().await;

    // Freshdesk without SSO.
    let mut cfg = sim_config(App::Freshdesk, 50);
    cfg.options.insert(
        App::Freshdesk,
        TenantOptions {
            sso: false,
            rate_limits: false,
            ..TenantOptions::default()
        },
    );
    let sims = serve::start(cfg).await.unwrap();
    let connector = ScimConnector::new(sim_scim_config(&sims, App::Freshdesk), &ctx).unwrap();
    let msg = read_all(&connector, None).await.unwrap_err().to_string();
    assert!(msg.contains("freshdesk") && msg.contains("SSO"), "{msg}");

    sims.shutdown().await;

    // A wrong token (the REST key, say) where SCIM is offered: 401, named as the SCIM
    // token's fault, the secret not shown.
    let sims = serve::start(sim_config(App::Freshdesk, 50)).await.unwrap();
    let mut scim = sim_scim_config(&sims, App::Freshdesk);
    scim.token = Secret::new("not-the-scim-token-0123456789");
    let connector = ScimConnector::new(scim, &ctx).unwrap();
    let err = read_all(&connector, None).await.unwrap_err();
    let msg = format!("{err} {err:?}");
    assert!(msg.contains("bearer token was refused"), "{msg}");
    assert!(!msg.contains("not-the-scim-token-0123456789"), "{msg}");
}

#[tokio::test]
async fn scim_truncated_pages_are_retried_to_a_complete_listing() {
    let mut cfg = sim_config(App::Helpscout, 300);
    cfg.faults = Some(FaultConfig {
        seed: 11,
        malformed_rate: 0.4,
        ..FaultConfig::default()
    });
    let sims = serve::start(cfg).await.unwrap();
    let ctx = context();
    let mut scim = sim_scim_config(&sims, App::Helpscout);
    scim.page_size = 10;
    let connector = ScimConnector::new(scim, &ctx).unwrap();
    let snap = read_all(&connector, None).await.unwrap();
    let users = sims
        .company
        .accounts_of(App::Helpscout)
        .filter(|a| a.status != SeedStatus::Deleted)
        .count();
    assert_eq!(snap.accounts.len(), users);
    let injected = sims.envs[&App::Helpscout].faults.injected();
    assert!(injected.malformed > 0, "{injected:?}");
    assert!(
        snap.requests > pages(users, 10) + 1,
        "the bad pages were fetched again"
    );
}

/// A tiny HTTP/1.1 server on 127.0.0.1 answering every request with `status` and `body`
/// (JSON), for pages no simulator serves. Returns its base URL.
pub async fn fixed_json_server(status: u16, body: &'static str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
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
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn scim_a_page_that_is_not_a_list_response_names_app_and_resource() {
    let ctx = context();
    for (body, want) in [
        (
            r#"{"totalResults": 2, "Resources": {"id": "x"}}"#,
            "must be an array",
        ),
        (r#"{"users": []}"#, "neither `Resources` nor `totalResults`"),
        (
            r#"{"totalResults": 1, "Resources": [{"id": "x", "active": "sometimes"}]}"#,
            "Resources[0]",
        ),
    ] {
        let base = fixed_json_server(200, body).await;
        let cfg = ScimConfig::new(
            "helpscout",
            "acme",
            &format!("{base}/v2/scim"),
            Secret::new("t"),
        );
        let connector = ScimConnector::new(cfg, &ctx).unwrap();
        let err = connector.fetch("users", None, None).await.unwrap_err();
        assert!(matches!(err, ConnectorError::Decode { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.starts_with("helpscout: users: unexpected response"),
            "{msg}"
        );
        assert!(msg.contains(want), "{msg}");
    }
    // A user without an id.
    let base = fixed_json_server(
        200,
        r#"{"totalResults": 1, "Resources": [{"userName": "a@x"}]}"#,
    )
    .await;
    let cfg = ScimConfig::new(
        "helpscout",
        "acme",
        &format!("{base}/v2/scim"),
        Secret::new("t"),
    );
    let err = ScimConnector::new(cfg, &ctx)
        .unwrap()
        .fetch("users", None, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("helpscout: users") && err.contains("without an `id`"),
        "{err}"
    );
    // A cursor from elsewhere, and an unknown resource.
    let cfg = ScimConfig::new(
        "helpscout",
        "acme",
        &format!("{base}/v2/scim"),
        Secret::new("t"),
    );
    let connector = ScimConnector::new(cfg, &ctx).unwrap();
    let err = connector
        .fetch("groups", Some(&json!({"team": 3})), None)
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::Cursor { .. }), "{err:?}");
    let err = connector.fetch("agents", None, None).await.unwrap_err();
    assert!(
        matches!(err, ConnectorError::UnknownResource { .. }),
        "{err:?}"
    );
}
