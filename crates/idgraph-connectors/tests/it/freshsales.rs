//! Compliance of the freshsales connector against its simulator: REST owners and roles plus
//! the SCIM roster in their own namespaces, joined by email; minimal requests; the hourly
//! account limit with pacing on; REST-only reads without a SCIM token; both host formats and
//! the hint after a refused key; resuming from a checkpointed cursor in a new process; and
//! pages that are truncated or of the wrong shape.

use crate::compliance::{self, context, context_on_sim_time, sim_config, Subject};
use crate::scim::{control, fixed_json_server, pages, sim_post};
use idgraph_connectors::freshsales::{
    FreshsalesConfig, FreshsalesConnector, FreshsalesHost, ROLES, SCIM_GROUPS, USERS,
};
use idgraph_connectors::{read_all, Connector, ConnectorContext, ConnectorError, Cursor};
use idgraph_core::{AccountKey, AccountStatus, Record};
use idgraph_http::Secret;
use idgraph_sim::common::{App, PlanTier, TenantOptions};
use idgraph_sim::company::{Company, SeedAccount, SeedStatus};
use idgraph_sim::faults::FaultConfig;
use idgraph_sim::serve::{self, RunningSims};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// The account's subdomain as the simulator derives it from the company's email domain.
fn subdomain(company: &Company) -> String {
    company
        .config
        .domain
        .split('.')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect::<String>()
        .to_ascii_lowercase()
}

fn tenant(company: &Company) -> String {
    format!("{}.myfreshworks.com", subdomain(company))
}

/// The connector's configuration on the running simulator (`scim`: with the SCIM token).
fn config(sims: &RunningSims, scim: bool) -> FreshsalesConfig {
    let creds = sims.credentials(App::Freshsales).unwrap();
    let domain = creds["domain"].as_str().unwrap();
    assert_eq!(domain, subdomain(&sims.company));
    let mut c = FreshsalesConfig::new(domain, Secret::new(creds["api_key"].as_str().unwrap()));
    c.base_url = Some(sims.base_url(App::Freshsales).unwrap().to_string());
    if scim {
        c.scim_token = Some(Secret::new(creds["scim_token"].as_str().unwrap()));
    }
    c
}

fn build(sims: &RunningSims, ctx: &ConnectorContext) -> Box<dyn Connector> {
    Box::new(FreshsalesConnector::new(config(sims, true), ctx).unwrap())
}

/// Listed by REST `selector/owners`: active users in the REST namespace.
fn rest_listed(seed: &SeedAccount) -> bool {
    seed.namespaces.rest && seed.status == SeedStatus::Active
}

fn user_key(company: &Company, seed: &SeedAccount) -> AccountKey {
    AccountKey {
        app: "freshsales".into(),
        tenant: tenant(company),
        namespace: "user".into(),
        native_id: seed.native_id.to_string(),
    }
}

fn scim_key(company: &Company, seed: &SeedAccount) -> AccountKey {
    AccountKey {
        app: "freshsales".into(),
        tenant: tenant(company),
        namespace: "scim_user".into(),
        native_id: seed.scim_id.clone().unwrap(),
    }
}

/// REST shows active owners only; SCIM shows everyone in its namespace, deactivated included.
fn expected_keys(company: &Company, seed: &SeedAccount) -> Vec<AccountKey> {
    let mut keys = Vec::new();
    if rest_listed(seed) {
        keys.push(user_key(company, seed));
    }
    if seed.namespaces.scim {
        keys.push(scim_key(company, seed));
    }
    keys
}

#[tokio::test]
async fn freshsales_compliance_calm_and_under_faults() {
    compliance::run_suite(Subject {
        app: App::Freshsales,
        build,
        expected_keys,
        // Roles show as grants in both namespaces; a seed's groups are territories, which no
        // read endpoint names (checked below for roles only).
        check_grants: |seed| seed.groups.is_empty(),
    })
    .await;
}

#[tokio::test]
async fn freshsales_joins_namespaces_by_email_and_grants_roles_in_both() {
    let sims = serve::start(sim_config(App::Freshsales, 300))
        .await
        .unwrap();
    let ctx = context();
    let connector = FreshsalesConnector::new(config(&sims, true), &ctx).unwrap();
    let caps = connector.capabilities();
    assert!(caps.read_deactivated && caps.scim && !caps.incremental);
    let snap = read_all(&connector, None).await.unwrap();
    let company = &sims.company;
    let by_key: BTreeMap<&AccountKey, &idgraph_core::Account> =
        snap.accounts.iter().map(|a| (&a.key, a)).collect();
    let ent_name: BTreeMap<_, _> = snap
        .entitlements
        .iter()
        .map(|e| (&e.key, (e.key.kind.as_str(), e.name.as_str())))
        .collect();
    let held = |key: &AccountKey| -> BTreeSet<(&str, &str)> {
        snap.grants
            .iter()
            .filter(|g| &g.account == key)
            .map(|g| ent_name[&g.entitlement])
            .collect()
    };
    let (mut joined, mut rest_only, mut scim_only) = (0, 0, 0);
    for seed in company.accounts_of(App::Freshsales) {
        let role = seed.roles[0].as_str();
        let (uk, sk) = (user_key(company, seed), scim_key(company, seed));
        let rest = by_key.get(&uk);
        let scim = by_key.get(&sk);
        assert_eq!(rest.is_some(), rest_listed(seed), "{uk:?}");
        assert_eq!(scim.is_some(), seed.namespaces.scim, "{sk:?}");
        if let Some(a) = rest {
            assert!(a.seat_consuming);
            assert_eq!(a.attributes["role"], role);
            assert_eq!(held(&uk), BTreeSet::from([("role", role)]), "{uk:?}");
            match scim {
                Some(_) => assert_eq!(a.attributes["scim_id"], sk.native_id.as_str()),
                None => assert!(!a.attributes.contains_key("scim_id"), "{uk:?}"),
            }
        }
        if let Some(a) = scim {
            assert!(a.seat_consuming);
            assert_eq!(a.attributes["role"], role);
            // The role (from SCIM `roles`, same key as selector/roles) and the SCIM group of
            // the same name.
            assert_eq!(
                held(&sk),
                BTreeSet::from([("role", role), ("group", role)]),
                "{sk:?}"
            );
            match rest {
                Some(_) => assert_eq!(a.attributes["crm_id"], uk.native_id.as_str()),
                None => assert!(!a.attributes.contains_key("crm_id"), "{sk:?}"),
            }
        }
        match (rest.is_some(), scim.is_some()) {
            (true, true) => joined += 1,
            (true, false) => rest_only += 1,
            (false, true) => scim_only += 1,
            (false, false) => panic!("{} listed nowhere", seed.email),
        }
    }
    assert!(
        joined > 10 && rest_only > 0 && scim_only > 0,
        "{joined} {rest_only} {scim_only}"
    );
    let deactivated = snap
        .accounts
        .iter()
        .filter(|a| a.status == AccountStatus::Inactive)
        .count();
    assert!(deactivated > 0, "SCIM shows deactivated users");
    assert!(snap
        .accounts
        .iter()
        .filter(|a| a.status == AccountStatus::Inactive)
        .all(|a| a.key.namespace == "scim_user"));
    let privileged: BTreeSet<(&str, &str)> = snap
        .entitlements
        .iter()
        .filter(|e| e.privileged)
        .map(|e| (e.key.kind.as_str(), e.name.as_str()))
        .collect();
    assert_eq!(
        privileged,
        BTreeSet::from([
            ("role", "Account Admin"),
            ("role", "Admin"),
            ("group", "Account Admin"),
            ("group", "Admin")
        ])
    );
}

/// Requests a minimal read takes: roles (1), owners until an empty page (the guide's stop
/// rule), SCIM users and groups until `totalResults`.
fn minimal_requests(company: &Company, per_page: usize, scim_count: usize) -> u64 {
    let seeds: Vec<&SeedAccount> = company.accounts_of(App::Freshsales).collect();
    let owners = seeds.iter().filter(|s| rest_listed(s)).count();
    let scim = seeds.iter().filter(|s| s.namespaces.scim).count();
    let roles = company.catalog(App::Freshsales).roles.len();
    // Owners: every non-empty page, then the empty one that ends the list.
    1 + owners.div_ceil(per_page) as u64 + 1 + pages(scim, scim_count) + pages(roles, scim_count)
}

#[tokio::test]
async fn freshsales_requests_are_the_minimum_for_the_data() {
    let sims = serve::start(sim_config(App::Freshsales, 300))
        .await
        .unwrap();
    let ctx = context();
    let company = &sims.company;
    let people = company.accounts_of(App::Freshsales).count();
    for size in [100_u32, 10] {
        let mut cfg = config(&sims, true);
        cfg.page_size = size;
        cfg.scim_page_size = size;
        let connector = FreshsalesConnector::new(cfg, &ctx).unwrap();
        let before = sims.envs[&App::Freshsales].counters.snapshot().total;
        let snap = read_all(&connector, None).await.unwrap();
        let served = sims.envs[&App::Freshsales].counters.snapshot().total - before;
        let want = minimal_requests(company, size as usize, size as usize);
        assert_eq!(snap.requests, want, "page size {size}");
        assert_eq!(served, want, "the simulator served as many");
        println!(
            "freshsales (page size {size}): {} requests for {} accounts ({people} users) = {:.3} requests per account synced, {:.3} per user",
            snap.requests,
            snap.accounts.len(),
            snap.requests as f64 / snap.accounts.len() as f64,
            snap.requests as f64 / people as f64
        );
    }
    // REST only: roles and owners.
    let connector = FreshsalesConnector::new(config(&sims, false), &ctx).unwrap();
    let snap = read_all(&connector, None).await.unwrap();
    let owners = company
        .accounts_of(App::Freshsales)
        .filter(|s| rest_listed(s))
        .count();
    assert_eq!(snap.requests, 1 + owners.div_ceil(100) as u64 + 1);
    println!(
        "freshsales REST only: {} requests for {} accounts = {:.3} requests per account synced",
        snap.requests,
        snap.accounts.len(),
        snap.requests as f64 / snap.accounts.len() as f64
    );
}

#[tokio::test]
async fn freshsales_pace_on_spans_hourly_windows_without_a_429() {
    // 1,000 requests an hour per account, REST and SCIM together; simulated time at 3600x
    // (an hour a second). Another integration already spent 990 of this hour, so the read
    // (small pages: ~25 requests) must finish in the next window, with no 429.
    let mut cfg = sim_config(App::Freshsales, 300);
    cfg.default_options.rate_limits = true;
    cfg.time_scale = 3600.0;
    let sims = serve::start(cfg).await.unwrap();
    let plain = context();
    sim_post(
        &control(&sims, App::Freshsales, &plain),
        "/_sim/ratelimit/consume",
        json!({"n": 990}),
    )
    .await;
    let ctx = context_on_sim_time(&sims);
    assert!(ctx.pace);
    let mut c = config(&sims, true);
    c.page_size = 5;
    c.scim_page_size = 5;
    let connector = FreshsalesConnector::new(c, &ctx).unwrap();
    let started = sims.clock.now();
    let snap = read_all(&connector, None).await.unwrap();
    assert!(snap.requests > 15, "{} requests", snap.requests);
    let expected: BTreeSet<AccountKey> = sims
        .company
        .accounts_of(App::Freshsales)
        .flat_map(|s| expected_keys(&sims.company, s))
        .collect();
    let got: BTreeSet<AccountKey> = snap.accounts.iter().map(|a| a.key.clone()).collect();
    assert_eq!(got, expected, "complete");
    let counters = sims.envs[&App::Freshsales].counters.snapshot();
    assert_eq!(counters.status_429, 0, "{counters:?}");
    assert_eq!(counters.rate_limited, 0);
    let budget = ctx
        .budgets
        .get(&format!("freshsales:{}", tenant(&sims.company)))
        .unwrap()
        .metrics();
    assert!(
        budget.corrections > 0,
        "learnt the other integration's use from headers"
    );
    assert!(budget.waits > 0, "waited for the next hour");
    let hour = |t: time::OffsetDateTime| t.unix_timestamp().div_euclid(3600);
    assert!(
        hour(sims.clock.now()) > hour(started),
        "the read crossed into the next hourly window ({started} → {})",
        sims.clock.now()
    );
}

#[tokio::test]
async fn freshsales_without_scim_reads_rest_owners_only_and_says_so() {
    let sims = serve::start(sim_config(App::Freshsales, 300))
        .await
        .unwrap();
    let ctx = context();
    let connector = FreshsalesConnector::new(config(&sims, false), &ctx).unwrap();
    let caps = connector.capabilities();
    assert!(caps.read_accounts && caps.read_entitlements);
    assert!(!caps.read_deactivated && !caps.scim);
    let names: Vec<String> = connector.resources().into_iter().map(|r| r.name).collect();
    assert_eq!(names, vec![ROLES.to_string(), USERS.to_string()]);
    assert_eq!(
        connector.resources()[1].namespaces,
        vec!["user".to_string()]
    );
    let snap = read_all(&connector, None).await.unwrap();
    let want: BTreeSet<AccountKey> = sims
        .company
        .accounts_of(App::Freshsales)
        .filter(|s| rest_listed(s))
        .map(|s| user_key(&sims.company, s))
        .collect();
    let got: BTreeSet<AccountKey> = snap.accounts.iter().map(|a| a.key.clone()).collect();
    assert_eq!(got, want);
    assert!(snap
        .accounts
        .iter()
        .all(|a| a.status == AccountStatus::Active
            && !a.attributes.contains_key("scim_id")
            && a.attributes.contains_key("role")));
    assert!(matches!(
        connector.fetch(SCIM_GROUPS, None, None).await,
        Err(ConnectorError::UnknownResource { .. })
    ));
    sims.shutdown().await;

    // A SCIM token on a plan without SCIM: a clear error, REST unaffected.
    let mut cfg = sim_config(App::Freshsales, 50);
    cfg.options.insert(
        App::Freshsales,
        TenantOptions {
            plan: PlanTier::Growth,
            rate_limits: false,
            ..TenantOptions::default()
        },
    );
    let sims = serve::start(cfg).await.unwrap();
    let connector = FreshsalesConnector::new(config(&sims, true), &ctx).unwrap();
    let err = read_all(&connector, None).await.unwrap_err();
    assert!(
        matches!(
            err,
            ConnectorError::Config {
                app: "freshsales",
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("users") && msg.contains("Enterprise plan") && msg.contains("403"),
        "{msg}"
    );
    let rest = FreshsalesConnector::new(config(&sims, false), &ctx).unwrap();
    assert!(read_all(&rest, None).await.is_ok());
}

#[tokio::test]
async fn freshsales_older_host_format_and_a_refused_key() {
    let sims = serve::start(sim_config(App::Freshsales, 100))
        .await
        .unwrap();
    let ctx = context();
    // An account on {domain}.freshsales.io: REST at /api.
    let mut old = config(&sims, true);
    old.host = FreshsalesHost::FreshsalesIo;
    let connector = FreshsalesConnector::new(old, &ctx).unwrap();
    assert!(connector.client().endpoints().rest_base.ends_with("/api"));
    assert!(connector.tenant().ends_with(".freshsales.io"));
    let snap = read_all(&connector, None).await.unwrap();
    let route = sims.envs[&App::Freshsales].counters.snapshot().by_route;
    assert!(
        route
            .keys()
            .any(|r| r.starts_with("GET /api/selector/owners")),
        "{route:?}"
    );
    let new = read_all(
        &FreshsalesConnector::new(config(&sims, true), &ctx).unwrap(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(snap.accounts.len(), new.accounts.len());

    // The key owner, through settings/profile.
    let creds = sims.credentials(App::Freshsales).unwrap();
    let me = FreshsalesConnector::new(config(&sims, false), &ctx)
        .unwrap()
        .check()
        .await
        .unwrap();
    assert_eq!(
        me.key.native_id,
        creds["api_keys"][0]["user_id"].to_string()
    );

    // A key refused: the error suggests the other host and never shows the key.
    let mut bad = config(&sims, false);
    bad.api_key = Secret::new("wrong-key-4242424242");
    let connector = FreshsalesConnector::new(bad, &ctx).unwrap();
    let err = read_all(&connector, None).await.unwrap_err();
    assert!(matches!(err, ConnectorError::Config { .. }), "{err:?}");
    let msg = format!("{err} {err:?}");
    assert!(msg.contains("roles: the API key was refused"), "{msg}");
    let shown = err.to_string();
    assert!(
        shown.contains(".freshsales.io/api") && shown.contains("host = \"freshsales_io\""),
        "{shown}"
    );
    assert!(!msg.contains("wrong-key-4242424242"), "{msg}");
    let err = connector.check().await.unwrap_err().to_string();
    assert!(err.contains("refused"), "{err}");
}

/// Fetches `users` page by page with `connector` from `cursor` until `stop` says so or the
/// listing ends; returns the accounts and the cursor reached.
async fn users_until(
    connector: &FreshsalesConnector,
    mut cursor: Option<Cursor>,
    stop: impl Fn(&Cursor) -> bool,
) -> (Vec<AccountKey>, Option<Cursor>) {
    let mut keys = Vec::new();
    loop {
        let page = connector.fetch(USERS, cursor.as_ref(), None).await.unwrap();
        keys.extend(page.records.into_iter().filter_map(|r| match r {
            Record::Account(a) => Some(a.key),
            _ => None,
        }));
        match page.next {
            None => return (keys, None),
            Some(next) if stop(&next) => return (keys, Some(next)),
            Some(next) => cursor = Some(next),
        }
    }
}

#[tokio::test]
async fn freshsales_users_resume_from_a_checkpoint_in_a_new_process() {
    let sims = serve::start(sim_config(App::Freshsales, 300))
        .await
        .unwrap();
    let ctx = context();
    let mk = || {
        let mut c = config(&sims, true);
        c.page_size = 10;
        c.scim_page_size = 10;
        FreshsalesConnector::new(c, &ctx).unwrap()
    };
    let expected: BTreeSet<AccountKey> = sims
        .company
        .accounts_of(App::Freshsales)
        .flat_map(|s| expected_keys(&sims.company, s))
        .collect();
    for phase in ["owners", "scim", "flush"] {
        // First process: stop once the cursor reaches `phase` (after a page of it for scim).
        let first = mk();
        // Owners and SCIM: stop after a page of the phase; flush: as soon as it starts.
        let needed = if phase == "flush" { 0 } else { 1 };
        let seen = std::sync::atomic::AtomicUsize::new(0);
        let (_, cursor) = users_until(&first, None, |c| {
            c["phase"] == phase && seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed) >= needed
        })
        .await;
        let checkpoint = serde_json::to_string(&cursor.expect("stopped mid-way")).unwrap();
        drop(first);
        // Second process: resumes from the stored checkpoint; the owners are gone from
        // memory, so `users` starts again and lists everyone exactly once from there.
        let second = mk();
        let resumed: Cursor = serde_json::from_str(&checkpoint).unwrap();
        let (keys, end) = users_until(&second, Some(resumed), |_| false).await;
        assert!(end.is_none());
        let unique: BTreeSet<AccountKey> = keys.iter().cloned().collect();
        assert_eq!(
            unique.len(),
            keys.len(),
            "{phase}: each account once after the restart"
        );
        assert_eq!(unique, expected, "{phase}: complete after the restart");
    }
    // In the same process the cursor continues where it was (no restart, no repeat).
    let one = mk();
    let (head, cursor) = users_until(&one, None, |c| c["phase"] == "scim").await;
    assert!(head.is_empty(), "owner pages hold no records");
    let (tail, _) = users_until(&one, cursor, |_| false).await;
    let all: BTreeSet<AccountKey> = tail.iter().cloned().collect();
    assert_eq!(all.len(), tail.len());
    assert_eq!(all, expected);
}

#[tokio::test]
async fn freshsales_truncated_pages_are_retried_and_wrong_shapes_named() {
    let mut cfg = sim_config(App::Freshsales, 300);
    cfg.faults = Some(FaultConfig {
        seed: 3,
        malformed_rate: 0.4,
        ..FaultConfig::default()
    });
    let sims = serve::start(cfg).await.unwrap();
    let ctx = context();
    let mut c = config(&sims, true);
    c.page_size = 10;
    c.scim_page_size = 10;
    let connector = FreshsalesConnector::new(c, &ctx).unwrap();
    let snap = read_all(&connector, None).await.unwrap();
    let expected: BTreeSet<AccountKey> = sims
        .company
        .accounts_of(App::Freshsales)
        .flat_map(|s| expected_keys(&sims.company, s))
        .collect();
    let got: BTreeSet<AccountKey> = snap.accounts.iter().map(|a| a.key.clone()).collect();
    assert_eq!(got, expected);
    let injected = sims.envs[&App::Freshsales].faults.injected();
    assert!(injected.malformed > 0, "{injected:?}");
    assert!(snap.requests > minimal_requests(&sims.company, 10, 10));

    // A server answering `{"users": 5}` everywhere: roles and users fail, naming themselves.
    let base = fixed_json_server(200, r#"{"users": 5, "totalResults": 1, "Resources": "x"}"#).await;
    let mut c = FreshsalesConfig::new("acme", Secret::new("k"));
    c.base_url = Some(base);
    c.scim_token = Some(Secret::new("s"));
    let connector = FreshsalesConnector::new(c, &ctx).unwrap();
    for (resource, cursor, want) in [
        (ROLES, None, "no `roles` array"),
        (USERS, None, "`users` is not an array"),
        (
            USERS,
            Some(json!({"phase": "scim", "run": 1, "page": "first"})),
            "`users` is not an array",
        ),
        (SCIM_GROUPS, None, "`Resources` must be an array"),
    ] {
        let err = connector
            .fetch(resource, cursor.as_ref(), None)
            .await
            .unwrap_err();
        assert!(
            matches!(err, ConnectorError::Decode { .. }),
            "{resource}: {err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("freshsales: {resource}: unexpected response")),
            "{msg}"
        );
        assert!(msg.contains(want), "{resource}: {msg}");
    }
    let err = connector
        .fetch(USERS, Some(&json!({"phase": "sideways"})), None)
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::Cursor { .. }), "{err:?}");
}
