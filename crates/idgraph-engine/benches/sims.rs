//! Sync benchmark through the real connectors and HTTP: the five simulators (200,000 people,
//! full coverage: about 1,000,000 accounts, limits off) are read into a new SQLite file by a
//! full sync (wall time, peak RSS of the syncing process, database size); then 1 % of each
//! app's accounts are changed through the simulators' `/_sim/` control endpoints and an
//! incremental sync runs. Requests of both syncs are printed per app and resource with their
//! ratio: resources whose API filters by `updated_since` list only what changed, the others
//! list in full again.
//!
//! The generated data was last changed an hour before the full sync (see `serve_sims`).
//!
//! The simulators run in a child process (this binary, re-executed with
//! `IDGRAPH_BENCH_ROLE=sims`), so the peak RSS printed for the sync is the syncing process's
//! alone; the simulators' own peak is printed separately.
//!
//! `cargo bench -p idgraph-engine --bench sims` (release). `IDGRAPH_BENCH_PEOPLE` (default
//! 200,000), `IDGRAPH_BENCH_COVERAGE` (`full`, the default: everyone in every app, every
//! Freshservice and Freshdesk account an agent; `realistic`: everyone a Freshservice
//! requester and half as many Freshdesk customer contacts, the listings `updated_since`
//! serves), `IDGRAPH_BENCH_DIR` (where the database goes; default a temporary directory),
//! `IDGRAPH_BENCH_CHANGE_EVERY` (default 100: 1 %), `IDGRAPH_BENCH_FRESHDESK_MAX_PAGE`
//! (default 10,000; 0 keeps the simulator's 500): Freshdesk serves no page past its cap
//! and its agents list has no `updated_since` to split by, so 200,000 agents (full coverage)
//! need a raised cap on both sides — a real account holds far fewer agents.

use futures::StreamExt;
use idgraph_connectors::registry::{self, BuildOptions};
use idgraph_connectors::{Connector, ConnectorContext};
use idgraph_core::clock::SystemClock;
use idgraph_engine::{error_chain, AppOutcome, Cancel, SyncEngine};
use idgraph_http::{ApiConfig, ApiRequest, StaticAuth};
use idgraph_sim::common::{App, TenantOptions};
use idgraph_sim::company::{AccountKind, Coverage};
use idgraph_sim::serve::{self, SimConfig};
use idgraph_store::{SqliteStore, Store, SyncMode};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

type Error = Box<dyn std::error::Error>;

/// A change to make through a simulator's control endpoint.
#[derive(Debug, Serialize, Deserialize)]
struct Change {
    app: String,
    path: String,
    body: serde_json::Value,
}

/// What the simulator process prints once it listens.
#[derive(Debug, Serialize, Deserialize)]
struct Ready {
    /// App → (base URL, its `[apps.<app>]` section).
    apps: BTreeMap<String, (String, serde_json::Value)>,
    accounts: usize,
    /// Accounts per app.
    per_app: BTreeMap<String, usize>,
    changes: Vec<Change>,
    start_secs: f64,
}

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Every `every`-th account of each app, changed the way an admin would: a new job title.
fn changes(company: &idgraph_sim::company::Company, every: usize) -> Vec<Change> {
    let mut out = Vec::new();
    for app in App::ALL {
        for (i, a) in company
            .accounts_of(app)
            .filter(|a| a.kind != AccountKind::Invitation)
            .enumerate()
        {
            if i % every != every / 2 {
                continue;
            }
            let title = format!("Changed title {i}");
            let (path, body) = match (app, a.kind) {
                (App::Freshservice, AccountKind::Agent) => (
                    format!("/_sim/records/agents/{}", a.native_id),
                    json!({"job_title": title}),
                ),
                (App::Freshservice, _) => (
                    format!("/_sim/records/requesters/{}", a.native_id),
                    json!({"job_title": title}),
                ),
                (App::Freshdesk, AccountKind::Agent) => (
                    format!("/_sim/records/agents/{}", a.native_id),
                    json!({"job_title": title}),
                ),
                (App::Freshdesk, _) => (
                    format!("/_sim/records/contacts/{}", a.native_id),
                    json!({"job_title": title}),
                ),
                (App::Freshsales, _) => {
                    let id = match (&a.scim_id, a.namespaces.rest) {
                        (Some(s), false) => s.clone(),
                        _ => a.native_id.to_string(),
                    };
                    (
                        format!("/_sim/records/users/{id}"),
                        json!({"job_title": title}),
                    )
                }
                (App::Freshbooks, _) => (
                    format!("/_sim/records/members/{}", a.native_id),
                    json!({"job_title": title}),
                ),
                (App::Helpscout, _) => (
                    format!("/_sim/records/users/{}", a.native_id),
                    json!({"jobTitle": title}),
                ),
            };
            out.push(Change {
                app: app.as_str().to_string(),
                path,
                body,
            });
        }
    }
    out
}

/// The simulator process: serve, print [`Ready`] as one line, serve until stdin closes.
fn serve_sims() -> Result<(), Error> {
    let people = env_num("IDGRAPH_BENCH_PEOPLE", 200_000);
    let every = env_num("IDGRAPH_BENCH_CHANGE_EVERY", 100).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let started = Instant::now();
        let coverage = match std::env::var("IDGRAPH_BENCH_COVERAGE").as_deref() {
            Ok("realistic") => Coverage::Realistic,
            _ => Coverage::Full,
        };
        // The company's data was last touched an hour before the first sync: generated up to
        // an anchor an hour back, with the simulated clock moved to the real now (the syncing
        // process stamps watermarks with the real clock). Otherwise the accounts whose
        // generated `updated_at` is clamped to the anchor would sit inside the incremental
        // overlap (5 minutes before the full sync started) and be listed again.
        let anchor = idgraph_sim::clock::SimClock::real_now() - time::Duration::hours(1);
        let sims = serve::start(SimConfig {
            seed: 1,
            people,
            coverage,
            anchor: Some(anchor),
            time_scale: 1.0,
            default_options: TenantOptions {
                rate_limits: false,
                ..TenantOptions::default()
            },
            ..SimConfig::default()
        })
        .await?;
        sims.clock.advance(time::Duration::hours(1));
        let start_secs = started.elapsed().as_secs_f64();
        let mut per_app = BTreeMap::new();
        for app in App::ALL {
            per_app.insert(
                app.as_str().to_string(),
                sims.company.accounts_of(app).count(),
            );
        }
        let ready = Ready {
            apps: sims
                .info
                .apps
                .iter()
                .map(|(app, s)| {
                    (
                        app.as_str().to_string(),
                        (s.base_url.clone(), s.idgraph_config.clone()),
                    )
                })
                .collect(),
            accounts: sims.info.accounts,
            per_app,
            changes: changes(&sims.company, every),
            start_secs,
        };
        let mut out = std::io::stdout().lock();
        serde_json::to_writer(&mut out, &ready)?;
        writeln!(out)?;
        out.flush()?;
        drop(out);
        // Serve until the parent closes our stdin.
        tokio::task::spawn_blocking(|| {
            let mut sink = String::new();
            while std::io::stdin()
                .read_line(&mut sink)
                .map(|n| n > 0)
                .unwrap_or(false)
            {
                sink.clear();
            }
        })
        .await?;
        sims.shutdown().await;
        Ok::<_, Error>(())
    })
}

/// A client of a simulator's `/_sim/` control endpoints (no auth, no budget).
fn control(
    ctx: &ConnectorContext,
    base: &str,
    app: &str,
) -> Result<idgraph_http::ApiClient, idgraph_http::HttpError> {
    let account = format!("control:{app}");
    ctx.http.api(ApiConfig::new(
        base,
        account.clone(),
        Arc::new(StaticAuth::none()),
        ctx.budgets.unlimited(&account),
    ))
}

fn status_kib(pid: Option<u32>, field: &str) -> u64 {
    let path = match pid {
        Some(p) => format!("/proc/{p}/status"),
        None => "/proc/self/status".to_string(),
    };
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn db_bytes(path: &Path) -> u64 {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            std::fs::metadata(p).ok().map(|m| m.len())
        })
        .sum()
}

fn mib(kib_or_bytes: u64, bytes: bool) -> f64 {
    if bytes {
        kib_or_bytes as f64 / (1024.0 * 1024.0)
    } else {
        kib_or_bytes as f64 / 1024.0
    }
}

/// Per (app, resource): (incremental?, pages, records, requests, events).
type Table = BTreeMap<(String, String), (bool, u64, u64, u64, u64)>;

/// Per app: the run's wall time in seconds.
type Times = BTreeMap<String, f64>;

fn table(outcomes: &[AppOutcome], connectors: &[Arc<dyn Connector>]) -> (Table, Times) {
    let mut t = Table::new();
    let mut times = Times::new();
    for o in outcomes {
        let specs = connectors
            .iter()
            .find(|c| c.app() == o.app)
            .map(|c| c.resources())
            .unwrap_or_default();
        match &o.result {
            Ok(r) => {
                if let Some(end) = r.run.finished_at {
                    times.insert(o.app.clone(), (end - r.run.started_at).as_seconds_f64());
                }
                if !r.succeeded() {
                    for e in &r.errors {
                        eprintln!("{}: {}", o.app, error_chain(e));
                    }
                }
                for res in &r.resources {
                    let inc = specs
                        .iter()
                        .find(|s| s.name == res.name)
                        .is_some_and(|s| s.incremental);
                    t.insert(
                        (o.app.clone(), res.name.clone()),
                        (inc, res.pages, res.records, res.requests, res.events),
                    );
                }
            }
            Err(e) => eprintln!("{}: {}", o.app, error_chain(e)),
        }
    }
    (t, times)
}

fn main() -> Result<(), Error> {
    if std::env::var("IDGRAPH_BENCH_ROLE").as_deref() == Ok("sims") {
        return serve_sims();
    }
    let people = env_num("IDGRAPH_BENCH_PEOPLE", 200_000);
    let tmp = tempfile::tempdir()?;
    let dir = std::env::var("IDGRAPH_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| tmp.path().to_path_buf());
    let path = dir.join("sims-bench.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    // OAuth tokens of an earlier run belong to that run's simulators: a new simulator process
    // knows none of them (a kept FreshBooks refresh token is refused as `invalid_grant`).
    let _ = std::fs::remove_dir_all(dir.join("tokens"));

    // The simulators, in their own process.
    let mut child = Command::new(std::env::current_exe()?)
        .env("IDGRAPH_BENCH_ROLE", "sims")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let sims_pid = child.id();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().ok_or("no stdout")?).read_line(&mut line)?;
    let ready: Ready = serde_json::from_str(&line)?;
    println!(
        "simulators: {people} people, {} coverage, {} accounts ({}), started in {:.1} s \
         (process {sims_pid}, RSS {:.0} MiB)",
        std::env::var("IDGRAPH_BENCH_COVERAGE").unwrap_or_else(|_| "full".into()),
        ready.accounts,
        ready
            .per_app
            .iter()
            .map(|(a, n)| format!("{a} {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        ready.start_secs,
        mib(status_kib(Some(sims_pid), "VmRSS:"), false)
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(async {
        let mut ctx = ConnectorContext::system()?;
        ctx.pace = false;
        let opts = BuildOptions {
            token_dir: dir.join("tokens"),
        };
        std::fs::create_dir_all(&opts.token_dir)?;
        let max_page = env_num("IDGRAPH_BENCH_FRESHDESK_MAX_PAGE", 10_000);
        let mut connectors: Vec<Arc<dyn Connector>> = Vec::new();
        for (app, (base, section)) in &ready.apps {
            let mut section = section.clone();
            if app == "freshdesk" && max_page > 0 {
                section["max_page"] = json!(max_page);
                control(&ctx, base, "freshdesk")?
                    .send(ApiRequest::put("/_sim/pagination").json(&json!({"max_page": max_page}))?)
                    .await?;
            }
            connectors.push(Arc::from(registry::build(
                app, app, section, &ctx, &opts,
            )?));
        }
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await?);
        let engine = SyncEngine::new(store.clone(), Arc::new(SystemClock));
        let rss_before = status_kib(None, "VmHWM:");

        // 1. Full sync: the ingest.
        let t0 = Instant::now();
        let full = engine
            .sync_all(connectors.clone(), SyncMode::Full, &Cancel::new())
            .await;
        let full_secs = t0.elapsed().as_secs_f64();
        let (full_t, full_times) = table(&full, &connectors);
        let counts = store.counts().await?;
        let full_requests: u64 = full_t.values().map(|v| v.3).sum();
        let full_events: u64 = full_t.values().map(|v| v.4).sum();
        println!(
            "full sync: {} accounts, {} entitlements, {} grants, {} events in {full_secs:.1} s \
             = {:.0} accounts/s; {full_requests} requests; peak RSS {:.0} MiB (before: {:.0}); \
             database {:.0} MiB",
            counts.accounts,
            counts.entitlements,
            counts.grants,
            full_events,
            counts.accounts as f64 / full_secs,
            mib(status_kib(None, "VmHWM:"), false),
            mib(rss_before, false),
            mib(db_bytes(&path), true),
        );

        // 2. Change 1 % of each app's accounts.
        let t1 = Instant::now();
        let bases: BTreeMap<String, String> = ready
            .apps
            .iter()
            .map(|(a, (b, _))| (a.clone(), b.clone()))
            .collect();
        let results: Vec<(String, bool)> = futures::stream::iter(ready.changes.iter())
            .map(|c| {
                let ctx = ctx.clone();
                let base = bases.get(&c.app).cloned().unwrap_or_default();
                async move {
                    let api = control(&ctx, &base, &c.app);
                    let ok = match (api, ApiRequest::patch(&c.path).json(&c.body)) {
                        (Ok(api), Ok(req)) => api.send(req).await.is_ok(),
                        _ => false,
                    };
                    (c.app.clone(), ok)
                }
            })
            .buffer_unordered(16)
            .collect()
            .await;
        let mut changed: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for (app, ok) in results {
            let e = changed.entry(app).or_default();
            if ok {
                e.0 += 1;
            } else {
                e.1 += 1;
            }
        }
        println!(
            "changed through /_sim/ in {:.1} s: {}",
            t1.elapsed().as_secs_f64(),
            changed
                .iter()
                .map(|(a, (ok, bad))| format!("{a} {ok} ({:.2} %; {bad} refused)", {
                    let n = ready.per_app.get(a).copied().unwrap_or(1).max(1);
                    100.0 * *ok as f64 / n as f64
                }))
                .collect::<Vec<_>>()
                .join(", ")
        );

        // 3. Incremental sync.
        let t2 = Instant::now();
        let incr = engine
            .sync_all(connectors.clone(), SyncMode::Incremental, &Cancel::new())
            .await;
        let incr_secs = t2.elapsed().as_secs_f64();
        let (incr_t, incr_times) = table(&incr, &connectors);
        let incr_requests: u64 = incr_t.values().map(|v| v.3).sum();
        println!(
            "incremental sync: {incr_requests} requests in {incr_secs:.1} s \
             ({:.2} % of the full sync's {full_requests})",
            100.0 * incr_requests as f64 / full_requests.max(1) as f64
        );
        println!();
        println!("Records: accounts, entitlements and grants, as the connector yields them.");
        println!();
        println!(
            "| app | resource | updated_since | full: requests | records | incremental: requests \
             | records | events | ratio |"
        );
        println!("|---|---|---|---:|---:|---:|---:|---:|---:|");
        let mut per_app: BTreeMap<&str, (u64, u64, bool)> = BTreeMap::new();
        for ((app, res), (inc, _, recs, reqs, _)) in &full_t {
            let (_, _, irecs, ireqs, ievents) = incr_t
                .get(&(app.clone(), res.clone()))
                .copied()
                .unwrap_or_default();
            let e = per_app.entry(app).or_default();
            e.0 += reqs;
            e.1 += ireqs;
            e.2 |= *inc;
            println!(
                "| {app} | {res} | {} | {reqs} | {recs} | {ireqs} | {irecs} | {ievents} | {:.1} % |",
                if *inc { "yes" } else { "no" },
                100.0 * ireqs as f64 / (*reqs).max(1) as f64
            );
        }
        println!();
        println!("| app | full: requests | time | incremental: requests | time | ratio |");
        println!("|---|---:|---:|---:|---:|---:|");
        for (app, (f, i, _)) in &per_app {
            let secs = |t: &Times| {
                t.get(*app)
                    .map(|s| format!("{s:.1} s"))
                    .unwrap_or_else(|| "failed".into())
            };
            println!(
                "| {app} | {f} | {} | {i} | {} | {:.2} % |",
                secs(&full_times),
                secs(&incr_times),
                100.0 * *i as f64 / (*f).max(1) as f64
            );
        }
        println!(
            "\npeak RSS of the syncing process {:.0} MiB; simulators' process {:.0} MiB; \
             database {:.0} MiB",
            mib(status_kib(None, "VmHWM:"), false),
            mib(status_kib(Some(sims_pid), "VmHWM:"), false),
            mib(db_bytes(&path), true),
        );
        store.close().await;
        Ok::<_, Error>(())
    });
    drop(child.stdin.take());
    let _ = child.wait();
    result
}
