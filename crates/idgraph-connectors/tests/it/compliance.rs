//! The compliance suite every connector passes against its simulator (after vector's
//! `component_spec_compliance`): complete listing (every account of the generated company,
//! deactivated included, exactly once), correct status mapping, and grants equal to the
//! generator's truth — in calm conditions and under injected faults.
//!
//! Each app contributes a [`Subject`]: how to build its connector from the running simulators,
//! which seeded accounts its listing must contain, and under which key.

use idgraph_connectors::{read_all, Connector, ConnectorContext, Snapshot};
use idgraph_core::{AccountKey, AccountStatus};
use idgraph_sim::common::{App, TenantOptions};
use idgraph_sim::company::{Company, SeedAccount, SeedStatus};
use idgraph_sim::faults::FaultConfig;
use idgraph_sim::serve::{self, RunningSims, SimConfig};
use std::collections::{BTreeMap, BTreeSet};
use time::macros::datetime;

/// How one app takes part in the suite.
pub struct Subject {
    pub app: App,
    /// Builds the connector against the running simulators.
    pub build: fn(&RunningSims, &ConnectorContext) -> Box<dyn Connector>,
    /// The keys under which a seeded account must be listed (empty: not visible to this
    /// connector, e.g. a FreshBooks member removed from the business).
    pub expected_keys: fn(&Company, &SeedAccount) -> Vec<AccountKey>,
    /// Whether a seeded account's roles and groups must show as grants (by entitlement name).
    pub check_grants: fn(&SeedAccount) -> bool,
}

pub fn expected_status(s: SeedStatus) -> AccountStatus {
    match s {
        SeedStatus::Active => AccountStatus::Active,
        SeedStatus::Inactive => AccountStatus::Inactive,
        SeedStatus::Pending => AccountStatus::Pending,
        SeedStatus::Deleted => AccountStatus::Deleted,
    }
}

pub fn sim_config(app: App, people: usize) -> SimConfig {
    SimConfig {
        seed: 17,
        people,
        anchor: Some(datetime!(2026-06-01 00:00 UTC)),
        apps: vec![app],
        default_options: TenantOptions {
            rate_limits: false,
            ..TenantOptions::default()
        },
        ..SimConfig::default()
    }
}

pub fn context() -> ConnectorContext {
    let mut ctx = ConnectorContext::system().unwrap();
    ctx.pace = false;
    ctx
}

/// Reads everything and checks it against the company the simulator was seeded with.
pub async fn check(subject: &Subject, sims: &RunningSims, ctx: &ConnectorContext) -> Snapshot {
    let connector = (subject.build)(sims, ctx);
    let snap = read_all(connector.as_ref(), None)
        .await
        .unwrap_or_else(|e| panic!("{}: read failed: {e:#?}", subject.app));
    let company = &sims.company;

    // Every listed account exactly once.
    let mut listed: BTreeMap<&AccountKey, usize> = BTreeMap::new();
    for a in &snap.accounts {
        *listed.entry(&a.key).or_default() += 1;
    }
    let dups: Vec<_> = listed.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        dups.is_empty(),
        "{}: listed more than once: {dups:?}",
        subject.app
    );

    let by_key: BTreeMap<&AccountKey, &idgraph_core::Account> =
        snap.accounts.iter().map(|a| (&a.key, a)).collect();
    let mut expected: BTreeSet<AccountKey> = BTreeSet::new();
    for seed in company.accounts_of(subject.app) {
        for key in (subject.expected_keys)(company, seed) {
            let acc = by_key.get(&key).unwrap_or_else(|| {
                panic!(
                    "{}: missing {key:?} ({} {:?})",
                    subject.app, seed.email, seed.status
                )
            });
            assert_eq!(
                acc.status,
                expected_status(seed.status),
                "{}: status of {key:?}",
                subject.app
            );
            assert!(
                acc.emails
                    .iter()
                    .any(|e| e.eq_ignore_ascii_case(&seed.email)),
                "{}: {key:?} emails {:?}, expected {}",
                subject.app,
                acc.emails,
                seed.email
            );
            if (subject.check_grants)(seed) {
                let granted: BTreeSet<&str> = snap
                    .grants
                    .iter()
                    .filter(|g| g.account == key)
                    .filter_map(|g| {
                        snap.entitlements
                            .iter()
                            .find(|e| e.key == g.entitlement)
                            .map(|e| e.name.as_str())
                    })
                    .collect();
                for want in seed.roles.iter().chain(seed.groups.iter()) {
                    assert!(
                        granted.contains(want.as_str()),
                        "{}: {key:?} lacks grant {want}; has {granted:?}",
                        subject.app
                    );
                }
            }
            expected.insert(key);
        }
    }
    let unexpected: Vec<_> = listed.keys().filter(|k| !expected.contains(**k)).collect();
    assert!(
        unexpected.is_empty(),
        "{}: listed accounts the company does not have: {unexpected:?}",
        subject.app
    );
    // Every grant points at a listed account and a listed entitlement.
    let ents: BTreeSet<_> = snap.entitlements.iter().map(|e| &e.key).collect();
    for g in &snap.grants {
        assert!(
            listed.contains_key(&g.account),
            "{}: grant to unlisted {:?}",
            subject.app,
            g.account
        );
        assert!(
            ents.contains(&g.entitlement),
            "{}: grant of unlisted {:?}",
            subject.app,
            g.entitlement
        );
    }
    snap
}

/// The full suite for one subject: calm, then under faults (20% 5xx, 429 storms, dropped
/// connections), with the same result. Both runs are on the simulators' frozen clock, which
/// moves only when the client sleeps: a 429 without `Retry-After` waits for the vendor's next
/// window in simulated time, not for up to a real minute.
pub async fn run_suite(subject: Subject) {
    let mut cfg = sim_config(subject.app, 300);
    cfg.time_scale = 0.0;
    let sims = serve::start(cfg).await.unwrap();
    let ctx = context_on_frozen_sim_time(&sims);
    let calm = check(&subject, &sims, &ctx).await;
    assert!(calm.requests > 0);
    sims.shutdown().await;

    let mut cfg = sim_config(subject.app, 300);
    cfg.time_scale = 0.0;
    cfg.faults = Some(FaultConfig::chaos(5));
    let sims = serve::start(cfg).await.unwrap();
    let ctx = context_on_frozen_sim_time(&sims);
    let stormy = check(&subject, &sims, &ctx).await;
    let keys = |s: &Snapshot| {
        s.accounts
            .iter()
            .map(|a| (a.key.clone(), a.status))
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(
        keys(&calm),
        keys(&stormy),
        "{}: same result under faults",
        subject.app
    );
    let injected = sims.envs[&subject.app].faults.injected();
    assert!(
        injected.server_errors > 0,
        "{}: faults were injected: {injected:?}",
        subject.app
    );
    sims.shutdown().await;
}

/// Pacing off (the simulator's limits are off too), on the simulators' clock.
pub fn context_on_frozen_sim_time(sims: &RunningSims) -> ConnectorContext {
    let mut ctx = context_on_sim_time(sims);
    ctx.pace = false;
    ctx
}

/// A connector context whose clock is the running simulators' clock, pacing on (plan limits).
pub fn context_on_sim_time(sims: &RunningSims) -> ConnectorContext {
    let clock: idgraph_http::SharedClock = std::sync::Arc::new(sims.clock.clone());
    ConnectorContext::new(idgraph_http::HttpConfig::default(), clock).unwrap()
}
