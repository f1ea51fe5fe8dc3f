//! Reconciliation at scale: 200,000 people and about 1,000,000 accounts.
//!
//! The company generator (`Coverage::Full`: everyone has an account in every app, with the
//! usual drift) gives the people and accounts; the accounts go through the same
//! connector-contract adapter as the seeds test. To measure memory without the generator's
//! freed heap, the bench writes the roster CSV, the accounts (JSON lines) and the expected
//! problems to a temporary directory and re-runs itself on them: that child imports the
//! roster (timed), loads the accounts, then times correlation alone and correlation +
//! findings (`reconcile`, best and median of 3 runs), and prints peak RSS (VmHWM from
//! /proc/self/status) next to the RSS of its loaded inputs, and precision and recall against
//! the generator's ground truth at this scale.
//!
//! Run: `cargo bench -p idgraph-core --bench reconcile` (`IDGRAPH_BENCH_PEOPLE` to resize).

#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark binary: failing loudly is the point

use idgraph_core::score::{score, Expected};
use idgraph_core::{correlate, import_csv, reconcile, Account, AppSync, Policy, ReconcileInput};
use idgraph_sim::company::{
    generate, write_roster_csv, CompanyConfig, Coverage, GroundTruth, DORMANT_DAYS, PENDING_DAYS,
};
use idgraph_sim::truth;
use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::path::Path;
use std::time::Instant;
use time::macros::datetime;
use time::OffsetDateTime;

const ANCHOR: OffsetDateTime = datetime!(2026-06-01 00:00 UTC);
const CHILD: &str = "IDGRAPH_BENCH_RECONCILE_DIR";

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
    match std::env::var_os(CHILD) {
        Some(dir) => child(Path::new(&dir)),
        None => parent(),
    }
}

/// Generates the company and runs the measuring child on its files.
fn parent() {
    let people: usize = std::env::var("IDGRAPH_BENCH_PEOPLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let t = Instant::now();
    let company = generate(&CompanyConfig {
        coverage: Coverage::Full,
        ..CompanyConfig::new(1, people, ANCHOR)
    });
    println!("generate {people} people: {:.2?}", t.elapsed());
    let dir = tempfile::tempdir().expect("temp dir");
    let roster = std::fs::File::create(dir.path().join("roster.csv")).expect("roster file");
    write_roster_csv(&company, std::io::BufWriter::new(roster)).expect("roster csv");
    let file = std::fs::File::create(dir.path().join("accounts.jsonl")).expect("accounts file");
    let mut out = std::io::BufWriter::new(file);
    for s in &company.accounts {
        for a in truth::accounts_of(s) {
            serde_json::to_writer(&mut out, &a).expect("account json");
            out.write_all(b"\n").expect("write");
        }
    }
    out.flush().expect("flush");
    let expected = truth::expected(&GroundTruth::of(&company), &truth::tenant_of);
    std::fs::write(
        dir.path().join("expected.json"),
        serde_json::to_vec(&expected).expect("expected json"),
    )
    .expect("expected file");
    drop(company);
    let status = std::process::Command::new(std::env::current_exe().expect("own path"))
        .env(CHILD, dir.path())
        .status()
        .expect("child runs");
    assert!(status.success(), "child failed: {status}");
}

/// Loads the files and measures.
fn child(dir: &Path) {
    let csv = std::fs::read(dir.join("roster.csv")).expect("roster file");
    let t = Instant::now();
    let roster = import_csv("roster.csv", csv.as_slice()).expect("roster imports");
    println!(
        "import roster CSV ({} rows, {:.1} MiB): {:.2?}",
        roster.len(),
        csv.len() as f64 / 1048576.0,
        t.elapsed()
    );
    drop(csv);

    let file = std::fs::File::open(dir.join("accounts.jsonl")).expect("accounts file");
    let accounts: Vec<Account> = std::io::BufReader::new(file)
        .lines()
        .map(|l| serde_json::from_str(&l.expect("line")).expect("account"))
        .collect();
    let expected: Vec<Expected> =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).expect("expected file"))
            .expect("expected json");
    let syncs: Vec<AppSync> = accounts
        .iter()
        .map(|a| (a.key.app.clone(), a.key.tenant.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|(app, tenant)| AppSync {
            app,
            tenant,
            last_synced_at: Some(ANCHOR - time::Duration::hours(1)),
        })
        .collect();
    let policy = Policy {
        pending_days: PENDING_DAYS,
        dormant_days: DORMANT_DAYS,
        ..Policy::default()
    };
    let input = ReconcileInput {
        syncs: &syncs,
        ..ReconcileInput::new(&roster, &accounts, &policy, ANCHOR)
    };

    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let rss_inputs = status_kb("VmRSS:");
    println!(
        "inputs: {} accounts, {} people; RSS {}{}",
        accounts.len(),
        roster.len(),
        mib(rss_inputs),
        if reset {
            ""
        } else {
            " (peak not reset: clear_refs refused)"
        }
    );

    let t = Instant::now();
    let corr = correlate(&roster, &accounts, &[], &policy.correlation);
    println!(
        "correlate alone: {:.2?} ({} cases)",
        t.elapsed(),
        corr.cases.len()
    );
    drop(corr);

    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..3 {
        drop(last.take()); // free the previous run before the next
        let t = Instant::now();
        let rec = reconcile(&input);
        times.push(t.elapsed());
        last = Some(rec);
    }
    times.sort();
    let rec = last.expect("ran");
    println!(
        "reconcile (correlation + findings): best {:.2?}, median {:.2?} of 3",
        times[0], times[1]
    );
    println!(
        "peak RSS (VmHWM) {}; over the inputs: {}",
        mib(status_kb("VmHWM:")),
        mib(status_kb("VmHWM:")
            .zip(rss_inputs)
            .map(|(h, r)| h.saturating_sub(r)))
    );
    let identities: usize = rec.apps.iter().map(|a| a.identities).sum();
    let wasted: usize = rec.apps.iter().map(|a| a.wasted_seats).sum();
    println!(
        "{} findings, {identities} identities, {wasted} wasted seats",
        rec.findings.len()
    );
    let s = score(&expected, &rec.findings);
    println!(
        "against the ground truth: {} drifts, recall {:.4}, precision {:.4}",
        s.expected,
        s.recall(),
        s.precision()
    );
}
