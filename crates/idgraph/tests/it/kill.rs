//! The process-level kill test: `idgraph sync` is SIGKILLed at 20 random points (after a
//! seeded-random number of committed pages, read from its `--progress jsonl` output), then
//! run again to completion; the store must then hold exactly what an uninterrupted sync of an
//! identical simulator (same seed) wrote: the same accounts, entitlements and grants with
//! their fields, and the same events as a multiset (no duplicate, no loss).
//!
//! Kill points are counted in pages, not time, so a loaded machine only changes how far a
//! process got past its kill point, never whether the test holds. `IDGRAPH_KILL_SEED` picks
//! another seed.

use crate::support::{self, assert_same, contents, json_lines, open_store};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::io::{AsyncBufReadExt, BufReader};

const KILLS: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_20_random_points_then_resume_equals_an_uninterrupted_sync() {
    let seed: u64 = std::env::var("IDGRAPH_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_260_601);
    let reference_sims = support::start_sims(21, 300, None).await;
    let killed_sims = support::start_sims(21, 300, None).await;
    let reference_dir = tempfile::tempdir().unwrap();
    let killed_dir = tempfile::tempdir().unwrap();
    let reference_cfg = support::write_config(reference_dir.path(), &reference_sims, "");
    let killed_cfg = support::write_config(killed_dir.path(), &killed_sims, "");

    // The uninterrupted sync, with progress lines to size the kill points.
    let out = support::run(
        &reference_cfg,
        &["sync", "--progress", "jsonl", "--format", "json"],
    )
    .await;
    assert!(out.success, "{}", out.stderr);
    let lines = json_lines(&out.stdout);
    let summary = lines.last().unwrap();
    assert_eq!(summary["ok"], true, "{summary}");
    let pages = lines
        .iter()
        .filter(|l| l["event"] == "page_committed")
        .count();
    assert!(pages >= 25, "{pages} pages: too few to kill at 20 points");
    let max_pages_per_kill = (pages / 10).max(1);

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut mid_sync_kills = 0;
    let mut resumed_runs = 0;
    let mut freshbooks_token_saved = false;
    let mut report = Vec::new();
    for i in 0..KILLS {
        let target = rng.gen_range(0..=max_pages_per_kill);
        let mut child = support::idgraph(&killed_cfg, &["sync", "--progress", "jsonl"])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = 0;
        let mut killed = false;
        let mut finished_runs = 0;
        while let Some(line) = out.next_line().await.unwrap() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            match v["event"].as_str() {
                Some("run_started") if v["resumed"] == true => resumed_runs += 1,
                Some("run_finished") => finished_runs += 1,
                Some("page_committed") => {
                    seen += 1;
                    // FreshBooks refresh tokens are single-use: a kill between the vendor's
                    // rotation and the token file's save would lock the grant out (design 001:
                    // no client can prevent that). Its first page proves the save happened.
                    freshbooks_token_saved |= v["app"] == "freshbooks";
                }
                _ => {}
            }
            if !killed && seen >= target && freshbooks_token_saved {
                child.start_kill().unwrap();
                killed = true;
            }
        }
        let status = child.wait().await.unwrap();
        if killed && finished_runs < support::app_names().len() {
            mid_sync_kills += 1;
        }
        report.push(format!(
            "#{i}: kill after {target} page(s): {seen} committed, {finished_runs} runs finished, {status}"
        ));
    }

    // Resume to completion.
    let out = support::run(
        &killed_cfg,
        &["sync", "--progress", "none", "--format", "json"],
    )
    .await;
    assert!(out.success, "{}\n{}", out.stderr, report.join("\n"));
    let summary: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(summary["ok"], true, "{summary}");
    assert!(
        mid_sync_kills >= 5,
        "only {mid_sync_kills} kills landed before the sync completed:\n{}",
        report.join("\n")
    );
    assert!(
        resumed_runs > 0,
        "no run was resumed:\n{}",
        report.join("\n")
    );

    let reference = open_store(reference_dir.path()).await;
    let killed = open_store(killed_dir.path()).await;
    let want = contents(reference.as_ref(), &reference_sims).await;
    let got = contents(killed.as_ref(), &killed_sims).await;
    assert_same(&got, &want);
    eprintln!(
        "{KILLS} kills ({mid_sync_kills} mid-sync, {resumed_runs} runs resumed), {pages} pages, \
         {} accounts, {} events: same store\n{}",
        want.accounts.len(),
        want.events.len(),
        report.join("\n")
    );
    reference.close().await;
    killed.close().await;
    reference_sims.shutdown().await;
    killed_sims.shutdown().await;
}
