//! The access review through the store at scale: 200,000 people and about 1,000,000 accounts
//! in a SQLite store, loaded and reviewed as `idgraph review` does it.
//!
//! The parent generates the company (`Coverage::Full`: everyone in every app, with the usual
//! drift), turns its accounts into connector records (`idgraph_sim::truth`), adds each app's
//! roles as entitlements and every account's role as a grant, and writes them into a new
//! SQLite store with the store's own write API (one sync run per app, pages of 1,000
//! records: diff, events, grants, checkpoints as a sync writes them), then imports the roster
//! CSV into the store (timed: validation, hashing, one transaction). A fresh child process
//! then measures what the review command does: the current roster, the accounts (no `raw`),
//! the privileged grants, the decisions and the sync times read back (each timed), the review
//! (correlation, findings, summaries) and the recording of its summary; it prints peak RSS
//! (VmHWM) and the RSS after loading, and scores the findings against the generator's ground
//! truth.
//!
//! Run: `cargo bench -p idgraph --bench review`. `IDGRAPH_BENCH_PEOPLE` resizes (default
//! 200,000); `IDGRAPH_BENCH_DIR` keeps the store there (default: a temporary directory); with
//! `IDGRAPH_BENCH_REUSE=1` and a store already in that directory only the child runs.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark binary: failing loudly is the point

use idgraph_core::score::{score, Expected};
use idgraph_core::{Account, Entitlement, EntitlementKey, Grant, Policy, Record, Roster};
use idgraph_sim::common::App;
use idgraph_sim::company::{
    generate, write_roster_csv, CompanyConfig, Coverage, GroundTruth, DORMANT_DAYS, PENDING_DAYS,
};
use idgraph_sim::truth;
use idgraph_store::{
    DecisionFilter, GrantPolicy, PageCommit, ReviewData, ReviewRecord, RunFinish, RunStatus,
    SqliteStore, Store, SyncMode,
};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;
use time::macros::datetime;
use time::OffsetDateTime;

/// The binary's allocator (`src/main.rs`), so that the figures are the command's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ANCHOR: OffsetDateTime = datetime!(2026-06-01 00:00 UTC);
const CHILD: &str = "IDGRAPH_BENCH_REVIEW_DIR";
const PAGE: usize = 1_000;

fn status_kb(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn mib(kb: Option<u64>) -> String {
    kb.map_or("n/a".into(), |k| format!("{:.0} MiB", k as f64 / 1024.0))
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match std::env::var_os(CHILD) {
        Some(dir) => runtime.block_on(child(Path::new(&dir))),
        None => runtime.block_on(parent()),
    }
}

/// The role entitlement of a role name in an app's tenant.
fn role_key(a: &Account, role: &str) -> EntitlementKey {
    EntitlementKey {
        app: a.key.app.clone(),
        tenant: a.key.tenant.clone(),
        kind: "role".into(),
        native_id: role.to_string(),
    }
}

/// Generates the company, fills the store and runs the measuring child on it.
async fn parent() {
    let people: usize = std::env::var("IDGRAPH_BENCH_PEOPLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let keep = std::env::var_os("IDGRAPH_BENCH_DIR").map(PathBuf::from);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = keep.clone().unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir).expect("bench dir");
    let db = dir.join("review-bench.db");
    let reuse = std::env::var("IDGRAPH_BENCH_REUSE").is_ok_and(|v| v == "1") && db.exists();
    if !reuse {
        let _ = std::fs::remove_file(&db);
        fill(&dir, &db, people).await;
    }
    let status = std::process::Command::new(std::env::current_exe().expect("own path"))
        .env(CHILD, &dir)
        .status()
        .expect("child runs");
    assert!(status.success(), "child failed: {status}");
}

async fn fill(dir: &Path, db: &Path, people: usize) {
    let t = Instant::now();
    let company = generate(&CompanyConfig {
        coverage: Coverage::Full,
        ..CompanyConfig::new(1, people, ANCHOR)
    });
    println!("generate {people} people: {:.2?}", t.elapsed());
    let expected = truth::expected(&GroundTruth::of(&company), &truth::tenant_of);
    std::fs::write(
        dir.join("expected.json"),
        serde_json::to_vec(&expected).expect("expected json"),
    )
    .expect("expected file");
    let roster_path = dir.join("roster.csv");
    let file = std::fs::File::create(&roster_path).expect("roster file");
    write_roster_csv(&company, std::io::BufWriter::new(file)).expect("roster csv");

    // Records per app: the roles every account holds as entitlements, and a grant each.
    let mut by_app: BTreeMap<&'static str, Vec<Record>> = BTreeMap::new();
    let mut roles: BTreeMap<&'static str, BTreeSet<(String, String)>> = BTreeMap::new();
    let mut accounts = 0usize;
    for s in &company.accounts {
        for a in truth::accounts_of(s) {
            let app = s.app.as_str();
            let recs = by_app.entry(app).or_default();
            for r in &s.roles {
                roles
                    .entry(app)
                    .or_default()
                    .insert((a.key.tenant.clone(), r.clone()));
                recs.push(Record::Grant(Grant {
                    account: a.key.clone(),
                    entitlement: role_key(&a, r),
                    attributes: Default::default(),
                }));
            }
            accounts += 1;
            recs.push(Record::Account(a));
        }
    }
    drop(company);
    let store = SqliteStore::open(db).await.expect("store");
    let t = Instant::now();
    let synced = ANCHOR - time::Duration::hours(1);
    let mut grants = 0usize;
    for app in App::ALL {
        let name = app.as_str();
        let Some(mut recs) = by_app.remove(name) else {
            continue;
        };
        // FreshBooks: one connector tenant reads every business.
        let connector_tenant = match app {
            App::Freshbooks => "owner@acme.example".to_string(),
            _ => truth::tenant_of(app, None),
        };
        let mut first: Vec<Record> = roles
            .remove(name)
            .unwrap_or_default()
            .into_iter()
            .map(|(tenant, role)| {
                let lower = role.to_ascii_lowercase();
                Record::Entitlement(Entitlement {
                    key: EntitlementKey {
                        app: name.into(),
                        tenant,
                        kind: "role".into(),
                        native_id: role.clone(),
                    },
                    privileged: lower.contains("admin") || lower.contains("owner"),
                    name: role,
                    raw: serde_json::Value::Null,
                })
            })
            .collect();
        grants += recs
            .iter()
            .filter(|r| matches!(r, Record::Grant(_)))
            .count();
        first.append(&mut recs);
        let run = store
            .open_run(name, &connector_tenant, SyncMode::Full, synced)
            .await
            .expect("run")
            .run;
        store
            .start_resource(run.id, "users", None, synced)
            .await
            .expect("resource");
        let mut rest = first.into_iter().peekable();
        let mut page = 1;
        while rest.peek().is_some() {
            let records: Vec<Record> = rest.by_ref().take(PAGE).collect();
            page += 1;
            store
                .commit_page(PageCommit {
                    run_id: run.id,
                    resource: "users".into(),
                    grants: GrantPolicy::Additive,
                    records,
                    next: rest
                        .peek()
                        .is_some()
                        .then(|| serde_json::json!({ "page": page })),
                    requests: 1,
                    at: synced,
                })
                .await
                .expect("page");
        }
        store
            .finish_run(RunFinish {
                run_id: run.id,
                status: RunStatus::Succeeded,
                error: None,
                complete_namespaces: vec![],
                complete_kinds: vec![],
                at: synced,
            })
            .await
            .expect("finish");
    }
    println!(
        "store filled: {accounts} accounts, {grants} grants in {:.2?} ({})",
        t.elapsed(),
        db.display()
    );

    // The roster into the store: read, validated, hashed, written in one transaction.
    let t = Instant::now();
    let csv = std::fs::read(&roster_path).expect("roster file");
    let roster: Roster = idgraph_core::import_csv("roster.csv", csv.as_slice()).expect("roster");
    let parsed = t.elapsed();
    let imported = store
        .import_roster(&roster, "bench", ANCHOR)
        .await
        .expect("import");
    println!(
        "roster import ({} rows, {:.1} MiB CSV): validated and hashed in {parsed:.2?}, with the store transaction {:.2?} (version {})",
        roster.len(),
        csv.len() as f64 / 1048576.0,
        t.elapsed(),
        imported.version.id
    );
    store.close().await;
    let size = std::fs::metadata(db).map(|m| m.len()).unwrap_or(0);
    println!("database size: {:.0} MiB", size as f64 / 1048576.0);
}

/// Loads everything from the store as `idgraph review` does, and measures.
async fn child(dir: &Path) {
    let expected: Vec<Expected> =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).expect("expected file"))
            .expect("expected json");
    let store = SqliteStore::open(&dir.join("review-bench.db"))
        .await
        .expect("store");
    let rss_start = status_kb("VmRSS:");
    let total = Instant::now();

    let t = Instant::now();
    let (roster_version, roster) = store.current_roster().await.expect("roster").expect("one");
    println!(
        "load roster ({} people, revalidated, hash checked): {:.2?}",
        roster.len(),
        t.elapsed()
    );
    let t = Instant::now();
    let accounts = store.review_accounts(None).await.expect("accounts");
    println!("load accounts ({}): {:.2?}", accounts.len(), t.elapsed());
    let t = Instant::now();
    let (entitlements, grants) = store.privileged_grants(None).await.expect("grants");
    println!(
        "load privileged grants ({} entitlements, {} grants): {:.2?}",
        entitlements.len(),
        grants.len(),
        t.elapsed()
    );
    let t = Instant::now();
    let decisions = store
        .decisions(&DecisionFilter::default())
        .await
        .expect("decisions")
        .into_iter()
        .map(|d| d.decision)
        .collect();
    let syncs = idgraph_store::people::sync_times(
        &store.last_syncs().await.expect("syncs"),
        &store.tenants().await.expect("tenants"),
        None,
    );
    println!(
        "load decisions and sync times ({} tenants): {:.2?}",
        syncs.len(),
        t.elapsed()
    );
    let data = ReviewData {
        roster_version,
        roster,
        accounts,
        entitlements,
        grants,
        decisions,
        syncs,
    };
    let loaded = total.elapsed();
    let rss_loaded = status_kb("VmRSS:");
    println!(
        "everything loaded: {loaded:.2?}; RSS {} (process start {})",
        mib(rss_loaded),
        mib(rss_start)
    );

    let policy = Policy {
        pending_days: PENDING_DAYS,
        dormant_days: DORMANT_DAYS,
        ..Policy::default()
    };
    let t = Instant::now();
    let review = idgraph_core::review(&data.input(&policy, ANCHOR));
    let reviewed = t.elapsed();
    println!(
        "review (correlation, findings, summaries): {reviewed:.2?}; {} findings, {} cases",
        review.findings.len(),
        review.cases.len()
    );
    let t = Instant::now();
    store
        .record_review(&ReviewRecord {
            id: 0,
            generated_at: ANCHOR,
            scope: None,
            roster_version: data.roster_version.id,
            roster_hash: data.roster_version.version.hash.clone(),
            syncs: data.syncs.clone(),
            totals: review.totals.clone(),
            apps: review.apps.clone(),
            findings: Some(review.findings.iter().map(|f| f.id.clone()).collect()),
        })
        .await
        .expect("record");
    println!("record the review's summary: {:.2?}", t.elapsed());
    println!(
        "store to review, in all: {:.2?}; peak RSS (VmHWM) {}",
        total.elapsed(),
        mib(status_kb("VmHWM:"))
    );
    let s = score(&expected, &review.findings);
    println!(
        "against the ground truth: {} drifts, {} findings, recall {:.4}, precision {:.4}",
        s.expected,
        s.findings,
        s.recall(),
        s.precision()
    );
    store.close().await;
}
