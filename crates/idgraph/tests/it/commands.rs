//! The commands end to end against the simulators: `init`, `sync` (quiet, JSON summary with
//! events by kind, a failing app named with its resource and cause, Ctrl-C between pages
//! and the resume), `accounts` (table, JSON with and without raw, CSV, filters) and `events`
//! (JSON lines, kinds, table).

use crate::support::{self, json_lines, open_store};
use idgraph_core::AccountStatus;
use idgraph_sim::faults::FaultConfig;
use idgraph_store::{AccountFilter, EventFilter, RunFilter, RunStatus};
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_then_sync_then_accounts_and_events() {
    let dir = tempfile::tempdir().unwrap();

    // init writes a template that refuses to be overwritten and configures no app yet.
    let fresh = dir.path().join("fresh").join("idgraph.toml");
    let out = support::run(&fresh, &["init"]).await;
    assert!(out.success, "{}", out.stderr);
    assert!(std::fs::read_to_string(&fresh)
        .unwrap()
        .contains("[apps.freshservice]"));
    let out = support::run(&fresh, &["init"]).await;
    assert!(!out.success && out.stderr.contains("--force"), "{out:?}");
    let out = support::run(&fresh, &["sync"]).await;
    assert!(
        !out.success && out.stderr.contains("no apps are configured"),
        "{out:?}"
    );

    let sims = support::start_sims(5, 60, None).await;
    let cfg = support::write_config(dir.path(), &sims, "");

    // A first sync: JSON summary only on stdout; every account's appearance counted.
    let out = support::run(&cfg, &["sync", "--format", "json"]).await;
    assert!(out.success, "{}", out.stderr);
    let summary: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(summary["ok"], true);
    let apps = summary["apps"].as_array().unwrap();
    assert_eq!(apps.len(), 5);
    let store = open_store(dir.path()).await;
    let counts = store.counts().await.unwrap();
    let appeared: u64 = apps
        .iter()
        .map(|a| a["events"]["account_appeared"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(appeared, counts.accounts);
    let by_resource: u64 = apps
        .iter()
        .flat_map(|a| a["resources"].as_array().unwrap())
        .map(|r| r["events"]["account_appeared"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(by_resource, counts.accounts);
    let granted: u64 = apps
        .iter()
        .map(|a| a["events"]["entitlement_granted"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(granted, counts.grants);
    for a in apps {
        assert_eq!(a["status"], "succeeded", "{a}");
        assert!(a["requests"].as_u64().unwrap() > 0, "{a}");
    }

    // Nothing changed: a quiet incremental sync prints nothing and writes no event.
    let out = support::run(&cfg, &["sync", "--quiet"]).await;
    assert!(out.success, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert_eq!(store.counts().await.unwrap().events, counts.events);

    // A table summary names every app.
    let out = support::run(&cfg, &["sync", "--progress", "none"]).await;
    assert!(out.success, "{}", out.stderr);
    for app in support::app_names() {
        assert!(out.stdout.contains(app), "{}", out.stdout);
    }
    assert!(out.stdout.contains("succeeded"), "{}", out.stdout);

    // accounts: JSON (raw only on request), CSV, filters.
    let out = support::run(&cfg, &["accounts", "--format", "json"]).await;
    assert!(out.success, "{}", out.stderr);
    let all: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(all.len() as u64, counts.accounts);
    assert!(all.iter().all(|a| a.get("raw").is_none()));
    let out = support::run(
        &cfg,
        &["accounts", "--format", "json", "--raw", "--limit", "3"],
    )
    .await;
    let some: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(some.len(), 3);
    assert!(some.iter().all(|a| a["raw"].is_object()));

    let out = support::run(&cfg, &["accounts", "--format", "csv"]).await;
    assert!(out.success, "{}", out.stderr);
    let mut csv = csv::Reader::from_reader(out.stdout.as_bytes());
    let headers = csv.headers().unwrap().clone();
    assert!(headers.iter().any(|h| h == "primary_email"), "{headers:?}");
    assert_eq!(csv.records().count() as u64, counts.accounts);

    let email = all
        .iter()
        .find_map(|a| a["primary_email"].as_str())
        .unwrap()
        .to_string();
    let out = support::run(
        &cfg,
        &[
            "accounts",
            "--email",
            &email.to_uppercase(),
            "--format",
            "json",
        ],
    )
    .await;
    let found: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
    let want = store
        .accounts(&AccountFilter {
            email: Some(email.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!found.is_empty());
    assert_eq!(found.len(), want.len());
    assert!(found.iter().all(|a| a["primary_email"] == email.as_str()));

    let out = support::run(
        &cfg,
        &[
            "accounts",
            "--app",
            "freshdesk",
            "--status",
            "inactive",
            "--format",
            "json",
        ],
    )
    .await;
    let inactive: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
    let want = store
        .accounts(&AccountFilter {
            app: Some("freshdesk".into()),
            status: Some(AccountStatus::Inactive),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(inactive.len(), want.len());
    assert!(inactive
        .iter()
        .all(|a| a["app"] == "freshdesk" && a["status"] == "inactive"));
    let out = support::run(&cfg, &["accounts", "--app", "helpscout"]).await;
    assert!(out.stdout.contains("account(s)"), "{}", out.stdout);

    // events: JSON lines, filtered by kind; a table.
    let out = support::run(&cfg, &["events", "--since", "1h", "--format", "json"]).await;
    assert!(out.success, "{}", out.stderr);
    let events = json_lines(&out.stdout);
    assert_eq!(events.len() as u64, counts.events);
    let out = support::run(
        &cfg,
        &[
            "events",
            "--since",
            "2020-01-01",
            "--kind",
            "account_appeared",
            "--format",
            "json",
        ],
    )
    .await;
    let appeared = json_lines(&out.stdout);
    assert_eq!(appeared.len() as u64, counts.accounts);
    assert!(appeared.iter().all(|e| e["kind"] == "account_appeared"));
    let out = support::run(
        &cfg,
        &[
            "events",
            "--since",
            "1h",
            "--app",
            "helpscout",
            "--limit",
            "5",
        ],
    )
    .await;
    assert!(out.stdout.contains("5 event(s)"), "{}", out.stdout);
    let out = support::run(&cfg, &["events", "--since", "yesterday"]).await;
    assert!(!out.success && out.stderr.contains("--since"), "{out:?}");

    store.close().await;
    sims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_app_is_named_with_its_resource_and_cause() {
    let dir = tempfile::tempdir().unwrap();
    let sims = support::start_sims(6, 30, None).await;
    // Nothing listens on port 1: connection refused at once; no HTTP retries.
    let cfg = support::write_config(
        dir.path(),
        &sims,
        "[apps.broken]\nconnector = \"freshdesk\"\ndomain = \"broken\"\napi_key_file = \"KEYFILE\"\n\
         base_url = \"http://127.0.0.1:1\"\n\n[http.retry]\nmax_attempts = 1\n",
    );
    let key = dir.path().join("broken.key");
    std::fs::write(&key, "s3cret-broken-key\n").unwrap();
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("KEYFILE", &key.display().to_string());
    std::fs::write(&cfg, text).unwrap();

    let out = support::run(&cfg, &["sync", "--format", "json", "--progress", "lines"]).await;
    assert!(!out.success, "{out:?}");
    let summary: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(summary["ok"], false);
    let apps = summary["apps"].as_array().unwrap();
    let broken = apps
        .iter()
        .find(|a| a["tenant"] == "broken.freshdesk.com")
        .unwrap();
    assert_eq!(broken["status"], "failed");
    assert!(apps
        .iter()
        .filter(|a| a["tenant"] != "broken.freshdesk.com")
        .all(|a| a["status"] == "succeeded"));
    let last = out
        .stderr
        .lines()
        .rev()
        .take(8)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(last.contains("sync failed for freshdesk"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("freshdesk (broken.freshdesk.com): resource `roles` failed"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("request failed"), "{}", out.stderr);
    assert!(!out.stderr.contains("s3cret") && !out.stdout.contains("s3cret"));
    sims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_between_pages_and_the_next_sync_resumes() {
    let dir = tempfile::tempdir().unwrap();
    // Every request takes 300 ms, so a sync is still running when Ctrl-C arrives.
    let slow = FaultConfig {
        latency_ms: 300,
        ..FaultConfig::default()
    };
    let sims = support::start_sims(7, 120, Some(slow)).await;
    let cfg = support::write_config(dir.path(), &sims, "");
    let mut child = support::idgraph(&cfg, &["sync", "--progress", "jsonl"])
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut interrupted = 0;
    let mut signalled = false;
    while let Some(line) = lines.next_line().await.unwrap() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if v["event"] == "page_committed" && !signalled {
            let pid = child.id().unwrap().to_string();
            let st = tokio::process::Command::new("kill")
                .args(["-INT", &pid])
                .status()
                .await
                .unwrap();
            assert!(st.success());
            signalled = true;
        }
        if v["event"] == "run_interrupted" {
            interrupted += 1;
        }
    }
    let out = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(interrupted > 0, "{stderr}");

    let store = open_store(dir.path()).await;
    let runs = store.runs(&RunFilter::default()).await.unwrap();
    let stopped: Vec<_> = runs
        .iter()
        .filter(|r| r.status == RunStatus::Interrupted && r.finished_at.is_none())
        .collect();
    assert_eq!(stopped.len(), interrupted, "{runs:#?}");
    let events_before = store.events(&EventFilter::default()).await.unwrap().len();

    let out = support::run(&cfg, &["sync", "--format", "json", "--progress", "none"]).await;
    assert!(out.success, "{}", out.stderr);
    let summary: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    for r in &stopped {
        let app = summary["apps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["app"] == r.app.as_str())
            .unwrap();
        assert_eq!(app["resumed"], true, "{app}");
        assert_eq!(app["run_id"], r.id, "{app}");
        assert_eq!(app["status"], "succeeded", "{app}");
    }
    // Every account appeared exactly once across the two processes.
    let counts = store.counts().await.unwrap();
    let appeared = store
        .events(&EventFilter {
            kinds: vec![idgraph_core::diff::EventKind::AccountAppeared],
            ..Default::default()
        })
        .await
        .unwrap()
        .len() as u64;
    assert_eq!(appeared, counts.accounts);
    assert!(counts.events as usize > events_before);
    store.close().await;
    sims.shutdown().await;
}
