//! Compliance of the helpscout connector against its simulator: complete listing calm and
//! under faults (with and without SCIM for deactivated users), the minimal number of
//! requests, pacing under the account limit with another integration sharing the window, the
//! client-credentials token cached across runs and renewed once after a 401, vanished users,
//! the local email index, and malformed pages.

use crate::compliance::{self, check, context, context_on_sim_time, sim_config, Subject};
use crate::freshbooks::fake_api;
use idgraph_connectors::helpscout::{EmailIndex, HelpscoutConfig, HelpscoutConnector};
use idgraph_connectors::{read_all, Connector, ConnectorContext};
use idgraph_core::{AccountKey, AccountStatus};
use idgraph_http::{ApiConfig, ApiRequest, Secret, StaticAuth};
use idgraph_sim::common::App;
use idgraph_sim::company::{Company, Coverage, SeedAccount, SeedStatus};
use idgraph_sim::faults::FaultConfig;
use idgraph_sim::serve::{self, RunningSims};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The account name the tests give the connector (its tenant).
const TENANT: &str = "acme-helpscout";

fn cred(sims: &RunningSims, k: &str) -> String {
    sims.credentials(App::Helpscout).unwrap()[k]
        .as_str()
        .unwrap()
        .to_string()
}

fn config(sims: &RunningSims) -> HelpscoutConfig {
    let mut c = HelpscoutConfig::new(
        cred(sims, "client_id"),
        Secret::new(cred(sims, "client_secret")),
    );
    c.base_url = sims.base_url(App::Helpscout).unwrap().to_string();
    c.account = Some(TENANT.into());
    c
}

fn build(sims: &RunningSims, ctx: &ConnectorContext) -> Box<dyn Connector> {
    Box::new(HelpscoutConnector::new(config(sims), ctx).unwrap())
}

fn build_with_scim(sims: &RunningSims, ctx: &ConnectorContext) -> Box<dyn Connector> {
    let mut c = config(sims);
    c.scim_token = Some(Secret::new(cred(sims, "scim_token")));
    Box::new(HelpscoutConnector::new(c, ctx).unwrap())
}

fn key(seed: &SeedAccount) -> AccountKey {
    AccountKey {
        app: "helpscout".into(),
        tenant: TENANT.into(),
        namespace: "user".into(),
        native_id: seed.native_id.to_string(),
    }
}

/// REST lists active and invited users; deactivated and deleted ones vanish (no tombstone).
fn expected_keys(_: &Company, seed: &SeedAccount) -> Vec<AccountKey> {
    match seed.status {
        SeedStatus::Active | SeedStatus::Pending => vec![key(seed)],
        SeedStatus::Inactive | SeedStatus::Deleted => vec![],
    }
}

/// With SCIM, deactivated users are listed too (inactive); deleted ones are gone everywhere.
fn expected_keys_with_scim(_: &Company, seed: &SeedAccount) -> Vec<AccountKey> {
    match seed.status {
        SeedStatus::Deleted => vec![],
        _ => vec![key(seed)],
    }
}

fn subject() -> Subject {
    Subject {
        app: App::Helpscout,
        build,
        expected_keys,
        check_grants: |_| true,
    }
}

fn subject_with_scim() -> Subject {
    Subject {
        app: App::Helpscout,
        build: build_with_scim,
        expected_keys: expected_keys_with_scim,
        // A deactivated user holds no team membership the API shows, and SCIM roles are not
        // read as grants.
        check_grants: |s| s.status != SeedStatus::Inactive,
    }
}

fn pages(n: usize) -> u64 {
    n.div_ceil(50).max(1) as u64
}

/// The fewest requests that read the company: user pages, team pages, and per team its
/// member pages (50 a page each; an empty list is still one request).
fn minimal_requests(company: &Company) -> u64 {
    let visible: Vec<&SeedAccount> = company
        .accounts_of(App::Helpscout)
        .filter(|a| matches!(a.status, SeedStatus::Active | SeedStatus::Pending))
        .collect();
    let mut teams: Vec<String> = company.catalog(App::Helpscout).groups;
    for a in company.accounts_of(App::Helpscout) {
        for g in &a.groups {
            if !teams.contains(g) {
                teams.push(g.clone());
            }
        }
    }
    let mut total = pages(visible.len()) + pages(teams.len());
    for t in &teams {
        total += pages(visible.iter().filter(|a| a.groups.contains(t)).count());
    }
    total
}

fn route_count(sims: &RunningSims, route: &str) -> u64 {
    sims.envs[&App::Helpscout]
        .counters
        .snapshot()
        .by_route
        .get(route)
        .copied()
        .unwrap_or(0)
}

/// A plain client for the simulator's control endpoints.
fn plain(sims: &RunningSims, ctx: &ConnectorContext) -> idgraph_http::ApiClient {
    ctx.http
        .api(ApiConfig::new(
            sims.base_url(App::Helpscout).unwrap(),
            "helpscout-test",
            Arc::new(StaticAuth::none()),
            ctx.budgets.unlimited("helpscout-test"),
        ))
        .unwrap()
}

async fn sim_state(sims: &RunningSims, ctx: &ConnectorContext) -> Value {
    plain(sims, ctx)
        .get_json("/_sim/state", &[("", ""); 0])
        .await
        .unwrap()
}

#[tokio::test]
async fn helpscout_compliance_calm_and_under_faults() {
    compliance::run_suite(subject()).await;
}

#[tokio::test]
async fn helpscout_with_scim_lists_deactivated_users_calm_and_under_faults() {
    compliance::run_suite(subject_with_scim()).await;
}

#[tokio::test]
async fn helpscout_reads_with_the_minimal_number_of_requests() {
    for (people, coverage) in [(300, Coverage::Realistic), (2_000, Coverage::Full)] {
        let mut cfg = sim_config(App::Helpscout, people);
        cfg.coverage = coverage;
        let sims = serve::start(cfg).await.unwrap();
        let ctx = context();
        let snap = check(&subject(), &sims, &ctx).await;
        let want = minimal_requests(&sims.company);
        assert_eq!(
            snap.requests, want,
            "user pages + team pages + member pages"
        );
        let served = sims.envs[&App::Helpscout].counters.snapshot();
        assert_eq!(served.total, want + 1, "{:?}", served.by_route);
        assert_eq!(
            route_count(&sims, "POST /v2/oauth2/token"),
            1,
            "the real token path"
        );
        assert_eq!(
            route_count(&sims, "GET /v2/users/me"),
            0,
            "the bot user is not needed"
        );
        // No `updated_since` in the API: a read with `since` is the same full listing.
        let since = read_all(build(&sims, &ctx).as_ref(), Some(sims.clock.now()))
            .await
            .unwrap();
        assert_eq!(since.accounts.len(), snap.accounts.len());
        assert_eq!(since.requests, want);
        // With SCIM: plus the pages (100 each) of deactivated users, filtered server-side.
        let inactive = sims
            .company
            .accounts_of(App::Helpscout)
            .filter(|a| a.status == SeedStatus::Inactive)
            .count();
        let scim = read_all(build_with_scim(&sims, &ctx).as_ref(), None)
            .await
            .unwrap();
        assert_eq!(scim.requests, want + inactive.div_ceil(100).max(1) as u64);
        assert_eq!(scim.accounts.len(), snap.accounts.len() + inactive);
        // The app's bot user (users/me) is not a person and is not listed.
        let bot = sim_state(&sims, &ctx).await["bot"]["id"].to_string();
        assert!(snap.accounts.iter().all(|a| a.key.native_id != bot));
        println!(
            "helpscout ({people} people, {coverage:?}): {} accounts, {} teams, {} API requests (+1 token): {:.4} requests per account",
            snap.accounts.len(),
            snap.entitlements.iter().filter(|e| e.key.kind == "team").count(),
            snap.requests,
            snap.requests as f64 / snap.accounts.len() as f64
        );
        sims.shutdown().await;
    }
}

#[tokio::test]
async fn helpscout_paces_under_the_account_limit_without_a_429() {
    let mut cfg = sim_config(App::Helpscout, 300);
    cfg.default_options.rate_limits = true;
    cfg.time_scale = 60.0;
    let sims = serve::start(cfg).await.unwrap();
    let ctx = context_on_sim_time(&sims);
    let limit = u64::from(idgraph_sim::helpscout::RATE_LIMIT_PER_MINUTE);
    let need = minimal_requests(&sims.company);
    assert!(need > 2, "the read needs {need} requests");
    // Another integration on the account leaves 2 requests in this window: the read spans
    // two windows, learning it from X-RateLimit-Remaining rather than from a 429.
    plain(&sims, &ctx)
        .send(
            ApiRequest::post("/_sim/ratelimit/consume")
                .json(&json!({"n": limit - 2}))
                .unwrap(),
        )
        .await
        .unwrap();
    let snap = check(&subject(), &sims, &ctx).await;
    let served = sims.envs[&App::Helpscout].counters.snapshot();
    assert_eq!(served.rate_limited, 0, "{served:?}");
    assert_eq!(served.status_429, 0, "{served:?}");
    assert_eq!(snap.requests, need);
    let waits: u64 = ctx.budgets.metrics().iter().map(|(_, m)| m.waits).sum();
    assert!(waits > 0, "the budget waited for the next window");
    sims.shutdown().await;
}

#[tokio::test]
async fn helpscout_429_storms_are_waited_out_with_retry_after() {
    let mut cfg = sim_config(App::Helpscout, 300);
    cfg.time_scale = 600.0;
    cfg.faults = Some(FaultConfig {
        seed: 3,
        rate_429: 0.2,
        storm_rate: 0.1,
        storm_length: 4,
        ..FaultConfig::default()
    });
    let sims = serve::start(cfg).await.unwrap();
    let ctx = context_on_sim_time(&sims);
    let conn = HelpscoutConnector::new(config(&sims), &ctx).unwrap();
    let snap = read_all(&conn, None).await.unwrap();
    let injected = sims.envs[&App::Helpscout].faults.injected();
    assert!(injected.too_many > 0, "{injected:?}");
    let want: usize = sims
        .company
        .accounts_of(App::Helpscout)
        .map(|a| expected_keys(&sims.company, a).len())
        .sum();
    assert_eq!(snap.accounts.len(), want);
    sims.shutdown().await;
}

fn temp_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("idgraph-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("tokens.json")
}

#[tokio::test]
async fn helpscout_token_is_cached_across_runs_and_renewed_once_after_a_401() {
    let sims = serve::start(sim_config(App::Helpscout, 120)).await.unwrap();
    let ctx = context();
    let path = temp_path("helpscout-token");
    let mut cfg = config(&sims);
    cfg.token_store = Some(path.clone());
    let tokens = |sims: &RunningSims| route_count(sims, "POST /v2/oauth2/token");

    let first = HelpscoutConnector::new(cfg.clone(), &ctx).unwrap();
    let full = read_all(&first, None).await.unwrap();
    assert_eq!(tokens(&sims), 1);

    // A later run reuses the cached 48-hour token.
    let second = HelpscoutConnector::new(cfg.clone(), &ctx).unwrap();
    read_all(&second, None).await.unwrap();
    assert_eq!(tokens(&sims), 1, "token reused from the store");

    // The token expires mid-way: one 401, one new token, same result.
    second.fetch("users", None, None).await.unwrap();
    plain(&sims, &ctx)
        .send(ApiRequest::post("/_sim/tokens/expire"))
        .await
        .unwrap();
    let again = read_all(&second, None).await.unwrap();
    assert_eq!(tokens(&sims), 2);
    assert_eq!(second.api().metrics().reauths, 1);
    assert_eq!(again.accounts.len(), full.accounts.len());

    // The guide's token path works too when configured.
    let mut guide = config(&sims);
    guide.token_url = Some(format!("{}/v2/auth/token", guide.base_url));
    let third = HelpscoutConnector::new(guide, &ctx).unwrap();
    read_all(&third, None).await.unwrap();
    assert_eq!(route_count(&sims, "POST /v2/auth/token"), 1);

    // Bad client credentials: a clear error without the secret.
    let mut bad = config(&sims);
    bad.client_secret = Secret::new("wrong-secret-value");
    let err = HelpscoutConnector::new(bad, &ctx)
        .unwrap()
        .fetch("users", None, None)
        .await
        .unwrap_err();
    let shown = format!("{err} {err:?} {:?}", std::error::Error::source(&err));
    assert!(shown.contains("invalid_client"), "{shown}");
    assert!(!shown.contains("wrong-secret-value"), "{shown}");
    assert!(!shown.contains(&cred(&sims, "client_secret")), "{shown}");
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
    sims.shutdown().await;
}

#[tokio::test]
async fn helpscout_deactivated_users_vanish_from_rest_and_show_in_scim() {
    let sims = serve::start(sim_config(App::Helpscout, 300)).await.unwrap();
    let ctx = context();
    let rest = build(&sims, &ctx);
    let before = read_all(rest.as_ref(), None).await.unwrap();
    // A user in a team, deactivated as an admin would in the UI.
    let member: BTreeSet<&AccountKey> = before
        .grants
        .iter()
        .filter(|g| g.entitlement.kind == "team")
        .map(|g| &g.account)
        .collect();
    let gone = (*member.iter().next().unwrap()).clone();
    plain(&sims, &ctx)
        .send(ApiRequest::post(format!(
            "/_sim/records/users/{}/deactivate",
            gone.native_id
        )))
        .await
        .unwrap();
    // Another one back to "invited, not accepted": still listed, and as active, because
    // neither the v2 API nor the simulator marks invitations on a user (a known gap).
    let invited = before
        .accounts
        .iter()
        .find(|a| a.key != gone)
        .unwrap()
        .key
        .clone();
    plain(&sims, &ctx)
        .send(
            ApiRequest::patch(format!("/_sim/records/users/{}", invited.native_id))
                .json(&json!({"status": "pending"}))
                .unwrap(),
        )
        .await
        .unwrap();
    let after = read_all(rest.as_ref(), None).await.unwrap();
    let listed = after.accounts.iter().find(|a| a.key == invited).unwrap();
    assert_eq!(listed.status, AccountStatus::Active);
    assert_eq!(after.accounts.len(), before.accounts.len() - 1);
    assert!(after.accounts.iter().all(|a| a.key != gone), "vanished");
    assert!(
        after.grants.iter().all(|g| g.account != gone),
        "no grant left"
    );
    // Whoever lists the namespace lists it completely: the engine can mark the user missing.
    let users = rest
        .resources()
        .into_iter()
        .find(|r| r.name == "users")
        .unwrap();
    assert_eq!(users.namespaces, vec!["user"]);
    assert!(!rest.capabilities().read_deactivated);

    // With SCIM the same user is listed, inactive, under the same key.
    let scim = build_with_scim(&sims, &ctx);
    assert!(scim.capabilities().read_deactivated && scim.capabilities().scim);
    let with = read_all(scim.as_ref(), None).await.unwrap();
    let found = with.accounts.iter().find(|a| a.key == gone).unwrap();
    assert_eq!(found.status, AccountStatus::Inactive);
    let inactive = with
        .accounts
        .iter()
        .filter(|a| a.status == AccountStatus::Inactive)
        .count();
    let seeded_inactive = sims
        .company
        .accounts_of(App::Helpscout)
        .filter(|a| a.status == SeedStatus::Inactive)
        .count();
    assert_eq!(inactive, seeded_inactive + 1);
    sims.shutdown().await;
}

#[tokio::test]
async fn helpscout_email_index_finds_every_listed_user() {
    let sims = serve::start(sim_config(App::Helpscout, 300)).await.unwrap();
    let ctx = context();
    // An alternate email on one user, in other letter case.
    let snap0 = read_all(build(&sims, &ctx).as_ref(), None).await.unwrap();
    let first = &snap0.accounts[0].key.native_id;
    plain(&sims, &ctx)
        .send(
            ApiRequest::patch(format!("/_sim/records/users/{first}"))
                .json(&json!({"alternateEmails": ["Alias.Person@Acme.example"]}))
                .unwrap(),
        )
        .await
        .unwrap();
    let snap = read_all(build(&sims, &ctx).as_ref(), None).await.unwrap();
    let ix = EmailIndex::from_accounts(&snap.accounts);
    let mut checked = 0;
    for seed in sims.company.accounts_of(App::Helpscout) {
        let found = ix.lookup(&seed.email.to_uppercase());
        match seed.status {
            SeedStatus::Active | SeedStatus::Pending => {
                assert!(
                    found.contains(&seed.native_id.to_string()),
                    "{} → {found:?}",
                    seed.email
                );
                checked += 1;
            }
            _ => assert!(
                !found.contains(&seed.native_id.to_string()),
                "deactivated users are not found"
            ),
        }
    }
    assert!(checked > 0);
    assert_eq!(
        ix.lookup("alias.person@acme.example"),
        std::slice::from_ref(first)
    );
    sims.shutdown().await;
}

#[tokio::test]
async fn helpscout_truncated_pages_are_fetched_again() {
    let mut cfg = sim_config(App::Helpscout, 300);
    // From the first request on: the token request may be cut off too (safe to ask again).
    cfg.faults = Some(FaultConfig {
        seed: 23,
        malformed_rate: 0.4,
        ..FaultConfig::default()
    });
    let sims = serve::start(cfg).await.unwrap();
    let ctx = context();
    let snap = check(&subject(), &sims, &ctx).await;
    let injected = sims.envs[&App::Helpscout].faults.injected();
    assert!(injected.malformed > 0, "{injected:?}");
    let served = sims.envs[&App::Helpscout].counters.snapshot();
    let token_calls = route_count(&sims, "POST /v2/oauth2/token");
    assert_eq!(
        snap.requests + token_calls,
        served.total,
        "every attempt counted"
    );
    assert_eq!(
        snap.requests + token_calls,
        minimal_requests(&sims.company) + 1 + injected.malformed,
        "each bad answer asked once more"
    );
    sims.shutdown().await;
}

#[tokio::test]
async fn helpscout_wrong_shaped_pages_name_the_app_and_resource() {
    let token =
        json!({"token_type": "bearer", "access_token": "at", "expires_in": 172800}).to_string();
    let cases: BTreeMap<&str, Value> = BTreeMap::from([
        (
            "users",
            json!({"_embedded": {"users": [{"id": 1}, {"id": [2]}]}, "page": {"totalPages": 1}}),
        ),
        (
            "teams",
            json!({"_embedded": {"teams": {"id": 3}}, "page": {"totalPages": 1}}),
        ),
    ]);
    for (resource, body) in cases {
        let base = fake_api(vec![
            ("POST", "/v2/oauth2/token", token.clone()),
            ("GET", "/v2/users", body.to_string()),
            ("GET", "/v2/teams", body.to_string()),
        ])
        .await;
        let mut cfg = HelpscoutConfig::new("id", Secret::new("secret"));
        cfg.base_url = base;
        let conn = HelpscoutConnector::new(cfg, &context()).unwrap();
        let err = conn.fetch(resource, None, None).await.unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("helpscout: {resource}:")),
            "names app and resource: {msg}"
        );
        assert!(!err.is_retriable(), "{err:?}");
    }
}
