//! The whole pipeline against the company generator's ground truth, seeds 1 to 20: the five
//! simulators (200 people, limits off) read by the real connectors built from the sections
//! the simulators print (`registry::build`), synced by the engine into a SQLite store, the
//! generated roster imported and the review run by the `idgraph` binary, its findings scored
//! with `idgraph_core::score`: every injected drift found (recall 1.0) and nothing else
//! reported (precision 1.0) on every seed.

use crate::support;
use idgraph_connectors::registry::{self, BuildOptions};
use idgraph_connectors::{Connector, ConnectorContext};
use idgraph_core::score::{score, Score};
use idgraph_core::{FixedClock, Review};
use idgraph_engine::{Cancel, SyncEngine};
use idgraph_sim::common::{App, TenantOptions};
use idgraph_sim::company::{GroundTruth, DORMANT_DAYS, PENDING_DAYS};
use idgraph_sim::serve::{self, SimConfig};
use idgraph_sim::truth;
use idgraph_store::{SqliteStore, Store, SyncMode};
use std::collections::BTreeMap;
use std::sync::Arc;
use time::macros::datetime;
use time::OffsetDateTime;

const ANCHOR: OffsetDateTime = datetime!(2026-06-01 00:00 UTC);
const PEOPLE: usize = 200;
/// Seeds run at once (2 cores: the simulators, the engine and the child processes share them).
const AT_ONCE: usize = 4;

/// One seed through the pipeline: its score and a one-line account of it.
async fn run_seed(seed: u64) -> (Score, String) {
    let dir = tempfile::tempdir().unwrap();
    let sims = serve::start(SimConfig {
        seed,
        people: PEOPLE,
        anchor: Some(ANCHOR),
        // Frozen at the anchor: the data's "now" is the review's.
        time_scale: 0.0,
        default_options: TenantOptions {
            rate_limits: false,
            ..TenantOptions::default()
        },
        out_dir: Some(dir.path().join("sim")),
        ..SimConfig::default()
    })
    .await
    .unwrap();

    let clock: idgraph_http::SharedClock = Arc::new(sims.clock.clone());
    let mut ctx = ConnectorContext::new(idgraph_http::HttpConfig::default(), clock).unwrap();
    ctx.pace = false;
    let opts = BuildOptions {
        token_dir: dir.path().join("tokens"),
    };
    std::fs::create_dir(&opts.token_dir).unwrap();
    let connectors: Vec<Arc<dyn Connector>> = App::ALL
        .iter()
        .map(|app| {
            let section = sims.info.apps[app].idgraph_config.clone();
            let c = registry::build(app.as_str(), app.as_str(), section, &ctx, &opts)
                .unwrap_or_else(|e| panic!("seed {seed} {app}: {e}"));
            Arc::from(c)
        })
        .collect();
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&dir.path().join("idgraph.db"))
            .await
            .unwrap(),
    );
    let engine = SyncEngine::new(store.clone(), Arc::new(FixedClock(ANCHOR)));
    for outcome in engine
        .sync_all(connectors, SyncMode::Full, &Cancel::new())
        .await
    {
        let report = outcome
            .result
            .unwrap_or_else(|e| panic!("seed {seed} {}: {e}", outcome.app));
        assert!(
            report.succeeded(),
            "seed {seed} {}: {:?}",
            outcome.app,
            report.errors
        );
    }
    // The tenant each app's records got from its connector (FreshBooks: the business id).
    let tenants: BTreeMap<String, String> = store
        .tenants()
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.app != App::Freshbooks.as_str())
        .map(|t| (t.app, t.tenant))
        .collect();
    store.close().await;

    // The roster and the review through the command line.
    let cfg = dir.path().join("idgraph.toml");
    std::fs::write(
        &cfg,
        format!(
            "[store]\nurl = \"{}\"\n\n[review]\npending_days = {PENDING_DAYS}\ndormant_days = {DORMANT_DAYS}\n",
            support::store_url(dir.path())
        ),
    )
    .unwrap();
    let roster = sims.info.roster_csv.clone().unwrap();
    let out = support::run(&cfg, &["roster", "import", roster.to_str().unwrap()]).await;
    assert!(out.success, "seed {seed}: {out:?}");
    let out = support::run(
        &cfg,
        &[
            "review",
            "--format",
            "json",
            "--as-of",
            "2026-06-01T00:00:00Z",
        ],
    )
    .await;
    assert!(out.success, "seed {seed}: {}", out.stderr);
    let review: Review = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(review.totals.people, PEOPLE);

    let tenant_of = |app: App, scope: Option<u64>| match app {
        App::Freshbooks => scope.map(|s| s.to_string()).unwrap_or_default(),
        _ => tenants.get(app.as_str()).cloned().unwrap_or_default(),
    };
    let expected = truth::expected(&GroundTruth::of(&sims.company), &tenant_of);
    let s = score(&expected, &review.findings);
    let line = format!(
        "seed {seed}: {} accounts, {} drifts, {} findings, recall {:.3}, precision {:.3}",
        review.totals.accounts,
        s.expected,
        s.findings,
        s.recall(),
        s.precision()
    );
    sims.shutdown().await;
    (s, line)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeds_1_to_20_through_sync_and_review_find_every_drift_and_nothing_else() {
    let mut results = Vec::new();
    let seeds: Vec<u64> = (1..=20).collect();
    for batch in seeds.chunks(AT_ONCE) {
        let mut set = tokio::task::JoinSet::new();
        for &seed in batch {
            set.spawn(run_seed(seed));
        }
        while let Some(r) = set.join_next().await {
            results.push(r.unwrap());
        }
    }
    let mut failures = Vec::new();
    let (mut drifts, mut findings) = (0, 0);
    for (s, line) in &results {
        eprintln!("{line}");
        drifts += s.expected;
        findings += s.findings;
        if s.recall() < 1.0 || s.precision() < 1.0 {
            failures.push(format!(
                "{line}\n  missed: {:#?}\n  unexpected: {:#?}",
                s.missed.iter().map(|m| &m.label).collect::<Vec<_>>(),
                s.unexpected
                    .iter()
                    .map(|f| format!("{} {}", f.kind, f.evidence))
                    .collect::<Vec<_>>()
            ));
        }
    }
    eprintln!("seeds 1-20 end to end: {drifts} drifts, {findings} findings");
    assert_eq!(results.len(), 20);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(drifts >= 20 * 10, "the generator injected drift: {drifts}");
}
