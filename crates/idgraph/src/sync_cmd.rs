//! `idgraph sync`: reads every configured app into the store, apps concurrently, with a
//! progress display and a summary per app and resource.
//!
//! [`run_sync`] is the reusable part (the demo calls it too): it runs the engine over the
//! given connectors with a [`ProgressMode`] (indicatif bars on a terminal, one plain line
//! per resource otherwise, JSON lines for scripts, or nothing), cancels cleanly between pages
//! on Ctrl-C, counts each resource's events by kind, and returns a [`SyncSummary`] that
//! [`print_summary`] shows as a table or JSON.

use crate::cli::{self, Global};
use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use idgraph_connectors::Connector;
use idgraph_core::diff::EventKind;
use idgraph_core::Clock;
use idgraph_engine::{
    error_chain, Cancel, Progress, ProgressEvent, ResourceOutcome, RunReport, SyncEngine,
    SyncError, SyncObserver, SyncOptions,
};
use idgraph_http::{BudgetRegistry, RateBudget};
use idgraph_store::{EventFilter, ResourceStatus, RunId, Store, SyncMode};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::sync::mpsc;

/// Read every configured app (or the ones named) into the store.
///
/// Apps are read at the same time, each at its own vendor's rate limit. By default a sync is
/// incremental: resources whose API filters by update time ask only for what changed since
/// their last complete listing (minus `[sync] overlap_minutes`); the others, and every
/// resource with --full, list everything. Only complete listings mark vanished accounts
/// `missing`. Each page is committed with its position, so a sync that is stopped (Ctrl-C
/// stops between pages) or killed resumes where it was on the next run.
///
/// On a terminal, progress bars show per app and resource the records, pages, requests, the
/// rate budget left in the vendor's window and an ETA when the size is known from the last
/// full listing; elsewhere one line per finished resource goes to stderr. Then a summary
/// table per app and resource: records, new/changed/deactivated/missing events, grants
/// granted and revoked, requests, time and status. The exit status is non-zero when any app
/// failed; the error names the app, resource and cause.
///
/// Examples:
///   idgraph sync
///   idgraph sync --app freshservice --app helpscout --full
///   idgraph sync --quiet                      # cron: only errors
///   idgraph sync --format json | jq '.apps[] | {app, status, records}'
///   idgraph sync --progress jsonl             # one JSON object per progress event
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SyncArgs {
    /// Sync only this app (its `[apps.<name>]` section name); repeat for several.
    #[arg(long = "app", value_name = "NAME")]
    pub apps: Vec<String>,
    /// List everything instead of only what changed (and mark what vanished as missing).
    #[arg(long)]
    pub full: bool,
    /// Print nothing but errors (no progress, no summary).
    #[arg(long, short)]
    pub quiet: bool,
    /// Summary format: `table`, or `json` (one JSON document on stdout, nothing else).
    #[arg(long, value_enum, default_value = "table")]
    pub format: SummaryFormat,
    /// Progress display: `auto` (bars on a terminal, else one line per resource on stderr),
    /// `bars`, `lines`, `jsonl` (one JSON object per event on stdout) or `none`.
    #[arg(long, value_enum, default_value = "auto")]
    pub progress: ProgressMode,
}

/// How the summary is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    Table,
    Json,
}

/// How progress is shown while syncing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgressMode {
    /// Bars when stderr is a terminal, else lines.
    Auto,
    /// indicatif bars on stderr, one per app and resource (only drawn on a terminal).
    Bars,
    /// One plain line per resource finished or failed, on stderr (logs, CI).
    Lines,
    /// One JSON object per progress event on stdout (scripts, tests).
    Jsonl,
    /// Nothing.
    None,
}

impl ProgressMode {
    /// `Auto` decided for this process.
    pub fn resolve(self) -> Self {
        match self {
            ProgressMode::Auto if std::io::stderr().is_terminal() => ProgressMode::Bars,
            ProgressMode::Auto => ProgressMode::Lines,
            other => other,
        }
    }
}

/// What [`run_sync`] needs besides the connectors and the store.
#[derive(Clone)]
pub struct SyncSettings {
    pub mode: SyncMode,
    pub progress: ProgressMode,
    /// Apps synced at the same time (at least 1).
    pub concurrency: usize,
    pub options: SyncOptions,
    /// The connectors' rate budgets, to show what is left in each window.
    pub budgets: Option<Arc<BudgetRegistry>>,
    pub clock: Arc<dyn Clock>,
    /// Stop between pages on Ctrl-C (a second Ctrl-C exits at once).
    pub handle_ctrl_c: bool,
}

impl std::fmt::Debug for SyncSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncSettings")
            .field("mode", &self.mode)
            .field("progress", &self.progress)
            .field("concurrency", &self.concurrency)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            mode: SyncMode::Incremental,
            progress: ProgressMode::Auto,
            concurrency: 5,
            options: SyncOptions::default(),
            budgets: None,
            clock: Arc::new(idgraph_core::clock::SystemClock),
            handle_ctrl_c: true,
        }
    }
}

/// Events of a resource or run, counted by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EventCounts(pub BTreeMap<String, u64>);

impl EventCounts {
    fn add(&mut self, kind: EventKind, n: u64) {
        *self.0.entry(kind.as_str().to_string()).or_default() += n;
    }

    fn merge(&mut self, other: &EventCounts) {
        for (k, v) in &other.0 {
            *self.0.entry(k.clone()).or_default() += v;
        }
    }

    fn sum(&self, kinds: &[EventKind]) -> u64 {
        kinds
            .iter()
            .map(|k| self.0.get(k.as_str()).copied().unwrap_or(0))
            .sum()
    }

    /// Accounts and entitlements seen for the first time.
    pub fn new_records(&self) -> u64 {
        self.sum(&[EventKind::AccountAppeared, EventKind::EntitlementAppeared])
    }

    /// Fields or statuses that changed (deactivations and tombstones aside).
    pub fn changed(&self) -> u64 {
        self.sum(&[
            EventKind::AccountChanged,
            EventKind::AccountReactivated,
            EventKind::AccountStatusChanged,
            EventKind::EntitlementChanged,
            EventKind::EntitlementGrantChanged,
        ])
    }

    pub fn deactivated(&self) -> u64 {
        self.sum(&[EventKind::AccountDeactivated])
    }

    pub fn missing(&self) -> u64 {
        self.sum(&[
            EventKind::AccountWentMissing,
            EventKind::EntitlementWentMissing,
        ])
    }

    pub fn granted(&self) -> u64 {
        self.sum(&[EventKind::EntitlementGranted])
    }

    pub fn revoked(&self) -> u64 {
        self.sum(&[EventKind::EntitlementRevoked])
    }
}

/// One resource of one app's sync.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceSummary {
    pub name: String,
    /// `done`, `skipped` (finished earlier in this resumed run), `failed`, `interrupted`,
    /// `not_run`.
    pub status: String,
    /// Listed without `since`.
    pub full: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub since: Option<OffsetDateTime>,
    /// Totals in the run (pages committed before a resume included).
    pub pages: u64,
    pub records: u64,
    pub requests: u64,
    /// Events written by this process, by kind.
    pub events: EventCounts,
    /// Seconds spent on it by this process.
    pub duration_s: Option<f64>,
    pub error: Option<String>,
}

/// One app's sync.
#[derive(Debug, Clone, Serialize)]
pub struct AppSummary {
    /// The section name's connector app (`freshservice`, …).
    pub app: String,
    pub tenant: String,
    /// `succeeded`, `failed` (a resource failed), `interrupted`, or `error` (the run could not
    /// go on: store failure; it resumes next time).
    pub status: String,
    pub run_id: Option<RunId>,
    pub mode: Option<SyncMode>,
    pub resumed: bool,
    pub pages: u64,
    pub records: u64,
    pub requests: u64,
    /// Events of the run by kind (tombstones included).
    pub events: EventCounts,
    pub accounts_missing: u64,
    pub entitlements_missing: u64,
    pub duration_s: f64,
    pub resources: Vec<ResourceSummary>,
    /// Each failure: app, tenant, resource and cause.
    pub errors: Vec<String>,
}

/// What a sync did, app by app.
#[derive(Debug, Clone, Serialize)]
pub struct SyncSummary {
    pub mode: SyncMode,
    /// Every app succeeded.
    pub ok: bool,
    /// Stopped by Ctrl-C (the runs resume next time).
    pub interrupted: bool,
    pub duration_s: f64,
    pub apps: Vec<AppSummary>,
}

impl SyncSummary {
    /// Every failure, one per line.
    pub fn failures(&self) -> Vec<String> {
        self.apps.iter().flat_map(|a| a.errors.clone()).collect()
    }
}

/// Where a resource stands, as the observer saw it.
#[derive(Debug, Default)]
struct ResState {
    started: Option<Instant>,
    elapsed: Option<Duration>,
    status: Option<&'static str>,
    pages: u64,
    records: u64,
    requests: u64,
    error: Option<String>,
    bar: Option<ProgressBar>,
    /// Records expected (the last full listing's), when this one lists in full from the start.
    estimate: Option<u64>,
}

/// One page's events to be counted by kind.
#[derive(Debug)]
struct TallyPage {
    app: String,
    resource: String,
    run_id: RunId,
    /// When this process (re)started the run: older events of the run are a killed process's.
    run_started: OffsetDateTime,
    events: u64,
}

type ResKey = (String, String);

/// The observer: draws progress, records per-resource state and queues event counting.
struct Display {
    mode: ProgressMode,
    multi: Option<MultiProgress>,
    state: Mutex<HashMap<ResKey, ResState>>,
    runs: Mutex<HashMap<RunId, OffsetDateTime>>,
    budgets: HashMap<String, Arc<RateBudget>>,
    estimates: HashMap<ResKey, u64>,
    tally: Mutex<Option<mpsc::UnboundedSender<TallyPage>>>,
    clock: Arc<dyn Clock>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

fn fmt_since(t: Option<OffsetDateTime>) -> Option<String> {
    t.and_then(|t| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    })
}

/// A progress event as one JSON object (`--progress jsonl`).
pub fn progress_json(p: &Progress) -> serde_json::Value {
    let mut v = json!({"type": "progress", "app": p.app, "tenant": p.tenant, "run_id": p.run_id});
    let body = match &p.event {
        ProgressEvent::RunStarted {
            mode,
            resumed,
            resources,
        } => {
            json!({"event": "run_started", "mode": mode, "resumed": resumed, "resources": resources})
        }
        ProgressEvent::ResourceStarted {
            resource,
            since,
            pages_before,
        } => {
            json!({"event": "resource_started", "resource": resource, "since": fmt_since(*since), "pages_before": pages_before})
        }
        ProgressEvent::ResourceSkipped { resource } => {
            json!({"event": "resource_skipped", "resource": resource})
        }
        ProgressEvent::PageCommitted {
            resource,
            records,
            requests,
            events,
            next,
            pages_total,
            records_total,
            requests_total,
        } => json!({
            "event": "page_committed", "resource": resource, "records": records,
            "requests": requests, "events": events, "done": next.is_none(),
            "pages_total": pages_total, "records_total": records_total,
            "requests_total": requests_total,
        }),
        ProgressEvent::PageRetried {
            resource,
            attempt,
            error,
        } => {
            json!({"event": "page_retried", "resource": resource, "attempt": attempt, "error": error})
        }
        ProgressEvent::ResourceDone {
            resource,
            pages,
            records,
            requests,
        } => {
            json!({"event": "resource_done", "resource": resource, "pages": pages, "records": records, "requests": requests})
        }
        ProgressEvent::ResourceFailed { resource, error } => {
            json!({"event": "resource_failed", "resource": resource, "error": error})
        }
        ProgressEvent::RunFinished {
            run,
            accounts_missing,
            entitlements_missing,
        } => json!({
            "event": "run_finished", "status": run.status, "pages": run.pages,
            "records": run.records, "requests": run.requests, "events": run.events,
            "accounts_missing": accounts_missing, "entitlements_missing": entitlements_missing,
        }),
        ProgressEvent::RunInterrupted => json!({"event": "run_interrupted"}),
    };
    if let (Some(obj), serde_json::Value::Object(b)) = (v.as_object_mut(), body) {
        obj.extend(b);
    }
    v
}

impl Display {
    fn budget_text(&self, app: &str, tenant: &str) -> String {
        match self
            .budgets
            .get(&format!("{app}:{tenant}"))
            .and_then(|b| b.window_status())
        {
            Some(w) => format!(
                " · budget {}/{} (resets {}s)",
                w.remaining,
                w.limit,
                w.resets_in.as_secs()
            ),
            None => String::new(),
        }
    }

    fn line(&self, text: String) {
        match &self.multi {
            Some(m) => {
                let _ = m.println(text);
            }
            None => eprintln!("{text}"),
        }
    }

    fn observe(&self, p: &Progress) {
        let app = p.app.as_str();
        match &p.event {
            ProgressEvent::RunStarted {
                mode,
                resumed,
                resources,
            } => {
                lock(&self.runs).insert(p.run_id, self.clock.now());
                let mut state = lock(&self.state);
                for r in resources {
                    let st = state.entry((app.to_string(), r.clone())).or_default();
                    if let Some(m) = &self.multi {
                        let bar = m.add(ProgressBar::new_spinner());
                        bar.set_style(style("{prefix:.bold} {msg:.dim}"));
                        bar.set_prefix(format!("{app:<13} {r:<20}"));
                        bar.set_message("waiting");
                        st.bar = Some(bar);
                    }
                }
                if self.mode == ProgressMode::Lines {
                    let how = if *resumed { ", resumed" } else { "" };
                    eprintln!(
                        "{app} ({}): run {} ({}{how}) started",
                        p.tenant,
                        p.run_id,
                        mode.as_str()
                    );
                }
            }
            ProgressEvent::ResourceStarted {
                resource,
                since,
                pages_before,
            } => {
                let key = (app.to_string(), resource.clone());
                let estimate = (since.is_none() && *pages_before == 0)
                    .then(|| self.estimates.get(&key).copied())
                    .flatten()
                    .filter(|n| *n > 0);
                let mut state = lock(&self.state);
                let st = state.entry(key).or_default();
                st.started = Some(Instant::now());
                st.status = Some("running");
                st.estimate = estimate;
                if let Some(bar) = &st.bar {
                    match estimate {
                        Some(n) => {
                            bar.set_style(style(
                                "{prefix:.bold} [{bar:24.cyan/blue}] {pos:>8}/{len:<8} {per_sec:>9} ETA {eta:<4} {msg}",
                            ));
                            bar.set_length(n);
                        }
                        None => bar.set_style(style(
                            "{prefix:.bold} {spinner} {pos:>8} records {per_sec:>9} {msg}",
                        )),
                    }
                    let how = match since {
                        Some(_) => "changes only",
                        None if *pages_before > 0 => "resuming",
                        None => "full listing",
                    };
                    bar.set_message(how.to_string());
                    bar.enable_steady_tick(Duration::from_millis(200));
                }
            }
            ProgressEvent::ResourceSkipped { resource } => {
                let mut state = lock(&self.state);
                let st = state
                    .entry((app.to_string(), resource.clone()))
                    .or_default();
                st.status = Some("skipped");
                if let Some(bar) = &st.bar {
                    bar.set_style(style("{prefix:.bold} {msg:.dim}"));
                    bar.finish_with_message("done earlier in this run");
                }
            }
            ProgressEvent::PageCommitted {
                resource,
                events,
                pages_total,
                records_total,
                requests_total,
                ..
            } => {
                {
                    let mut state = lock(&self.state);
                    let st = state
                        .entry((app.to_string(), resource.clone()))
                        .or_default();
                    st.pages = *pages_total;
                    st.records = *records_total;
                    st.requests = *requests_total;
                    if let Some(bar) = &st.bar {
                        if let Some(len) = bar.length() {
                            if *records_total > len && st.estimate.is_some() {
                                bar.set_length(*records_total);
                            }
                        }
                        bar.set_position(*records_total);
                        bar.set_message(format!(
                            "{pages_total} pages · {requests_total} req{}",
                            self.budget_text(app, &p.tenant)
                        ));
                    }
                }
                if *events > 0 {
                    let run_started = lock(&self.runs)
                        .get(&p.run_id)
                        .copied()
                        .unwrap_or_else(|| self.clock.now());
                    if let Some(tx) = lock(&self.tally).as_ref() {
                        let _ = tx.send(TallyPage {
                            app: app.to_string(),
                            resource: resource.clone(),
                            run_id: p.run_id,
                            run_started,
                            events: *events,
                        });
                    }
                }
            }
            ProgressEvent::PageRetried {
                resource,
                attempt,
                error,
            } => {
                self.line(format!(
                    "{app} {resource}: page failed, trying again ({attempt}): {error}"
                ));
            }
            ProgressEvent::ResourceDone {
                resource,
                pages,
                records,
                requests,
            } => {
                let mut state = lock(&self.state);
                let st = state
                    .entry((app.to_string(), resource.clone()))
                    .or_default();
                st.status = Some("done");
                st.elapsed = st.started.map(|s| s.elapsed());
                let secs = st.elapsed.map(|d| d.as_secs_f64()).unwrap_or(0.0);
                if let Some(bar) = &st.bar {
                    bar.set_style(style("{prefix:.bold} {msg}"));
                    bar.finish_with_message(format!(
                        "done: {records} records, {pages} pages, {requests} requests in {secs:.1}s"
                    ));
                }
                if self.mode == ProgressMode::Lines {
                    eprintln!(
                        "{app} {resource}: {records} records, {pages} pages, {requests} requests in {secs:.1}s"
                    );
                }
            }
            ProgressEvent::ResourceFailed { resource, error } => {
                let mut state = lock(&self.state);
                let st = state
                    .entry((app.to_string(), resource.clone()))
                    .or_default();
                st.status = Some("failed");
                st.error = Some(error.clone());
                st.elapsed = st.started.map(|s| s.elapsed());
                if let Some(bar) = &st.bar {
                    bar.set_style(style("{prefix:.bold} {msg:.red}"));
                    bar.abandon_with_message(format!("failed: {error}"));
                }
                if self.mode == ProgressMode::Lines {
                    eprintln!("{app} {resource}: failed: {error}");
                }
            }
            ProgressEvent::RunFinished { run, .. } => {
                if self.mode == ProgressMode::Lines {
                    eprintln!(
                        "{app} ({}): run {} {}: {} records, {} requests, {} events",
                        p.tenant,
                        run.id,
                        run.status.as_str(),
                        run.records,
                        run.requests,
                        run.events
                    );
                }
            }
            ProgressEvent::RunInterrupted => {
                let mut state = lock(&self.state);
                for ((a, _), st) in state.iter_mut() {
                    if a == app && st.status == Some("running") {
                        st.status = Some("interrupted");
                        st.elapsed = st.started.map(|s| s.elapsed());
                        if let Some(bar) = &st.bar {
                            bar.abandon_with_message("interrupted: resumes next time");
                        }
                    } else if a == app && st.status.is_none() {
                        if let Some(bar) = &st.bar {
                            bar.abandon_with_message("not started");
                        }
                    }
                }
                if self.mode == ProgressMode::Lines {
                    eprintln!(
                        "{app} ({}): interrupted; the next sync resumes run {}",
                        p.tenant, p.run_id
                    );
                }
            }
        }
    }
}

impl SyncObserver for Display {
    fn on_progress(&self, p: &Progress) {
        if self.mode == ProgressMode::Jsonl {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", progress_json(p));
            let _ = out.flush();
        }
        self.observe(p);
    }
}

/// Counts each committed page's events by kind, reading them back from the store: a page's
/// events are the next `n` of its run in id order (one transaction each, pages in order).
async fn tally(
    store: Arc<dyn Store>,
    mut rx: mpsc::UnboundedReceiver<TallyPage>,
) -> HashMap<ResKey, EventCounts> {
    let mut out: HashMap<ResKey, EventCounts> = HashMap::new();
    let mut cursors: HashMap<RunId, i64> = HashMap::new();
    while let Some(page) = rx.recv().await {
        let filter = EventFilter {
            run_id: Some(page.run_id),
            after_id: cursors.get(&page.run_id).copied(),
            since: Some(page.run_started),
            limit: Some(page.events),
            ..EventFilter::default()
        };
        match store.events(&filter).await {
            Ok(events) => {
                let counts = out.entry((page.app, page.resource)).or_default();
                for e in &events {
                    counts.add(e.kind, 1);
                }
                if let Some(last) = events.last() {
                    cursors.insert(page.run_id, last.id);
                }
            }
            Err(e) => {
                tracing::warn!(error = %error_chain(&e), "cannot count a page's events by kind");
            }
        }
    }
    out
}

/// Previous full listings' record counts, per (app, resource), for ETAs.
async fn estimates(store: &dyn Store, connectors: &[Arc<dyn Connector>]) -> HashMap<ResKey, u64> {
    let mut out = HashMap::new();
    for c in connectors {
        if let Ok(cps) = store.checkpoints(Some(c.app()), Some(c.tenant())).await {
            for cp in cps {
                if cp.status == ResourceStatus::Done && cp.since.is_none() {
                    out.insert((cp.app, cp.resource), cp.records);
                }
            }
        }
    }
    out
}

fn resource_status(outcome: &ResourceOutcome) -> &'static str {
    match outcome {
        ResourceOutcome::Done => "done",
        ResourceOutcome::Skipped => "skipped",
        ResourceOutcome::Failed => "failed",
    }
}

/// The resource a sync error is about, if one.
fn error_resource(e: &SyncError) -> Option<&str> {
    match e {
        SyncError::Resource { resource, .. } | SyncError::Contract { resource, .. } => {
            Some(resource)
        }
        _ => None,
    }
}

/// Syncs `connectors` into `store` with the progress display of `settings.progress`; returns
/// what happened per app and resource. Fails only when the sync could not start; app
/// failures are in the summary (`ok == false`).
pub async fn run_sync(
    connectors: Vec<Arc<dyn Connector>>,
    store: Arc<dyn Store>,
    settings: SyncSettings,
) -> Result<SyncSummary> {
    let started = Instant::now();
    let mode_shown = settings.progress.resolve();
    let budgets: HashMap<String, Arc<RateBudget>> = match &settings.budgets {
        Some(reg) => connectors
            .iter()
            .filter_map(|c| {
                let id = format!("{}:{}", c.app(), c.tenant());
                reg.get(&id).map(|b| (id, b))
            })
            .collect(),
        None => HashMap::new(),
    };
    let multi = (mode_shown == ProgressMode::Bars)
        .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
    let (tx, rx) = mpsc::unbounded_channel();
    let display = Arc::new(Display {
        mode: mode_shown,
        multi,
        state: Mutex::new(HashMap::new()),
        runs: Mutex::new(HashMap::new()),
        budgets,
        estimates: estimates(store.as_ref(), &connectors).await,
        tally: Mutex::new(Some(tx)),
        clock: settings.clock.clone(),
    });
    let tally_task = tokio::spawn(tally(store.clone(), rx));
    let engine = SyncEngine::new(store.clone(), settings.clock.clone())
        .with_observer(display.clone())
        .with_options(settings.options.clone());
    let cancel = Cancel::new();
    let ctrl_c = settings.handle_ctrl_c.then(|| {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            eprintln!("stopping after the pages in flight (Ctrl-C again to quit at once)…");
            cancel.cancel();
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("quit; the next sync resumes where this one stopped");
                std::process::exit(130);
            }
        })
    });

    let limit = Arc::new(tokio::sync::Semaphore::new(settings.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let names: Vec<(String, String)> = connectors
        .iter()
        .map(|c| (c.app().to_string(), c.tenant().to_string()))
        .collect();
    for (i, connector) in connectors.into_iter().enumerate() {
        let engine = engine.clone();
        let cancel = cancel.clone();
        let limit = limit.clone();
        let mode = settings.mode;
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let t0 = Instant::now();
            let r = engine
                .sync_with_cancel(connector.as_ref(), mode, &cancel)
                .await;
            (i, r, t0.elapsed())
        });
    }
    let mut results: Vec<Option<(Result<RunReport, SyncError>, Duration)>> =
        (0..names.len()).map(|_| None).collect();
    let mut task_errors = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((i, r, d)) => results[i] = Some((r, d)),
            Err(e) => task_errors.push(e),
        }
    }
    if let Some(h) = ctrl_c {
        h.abort();
    }
    // Every page has been reported: close the queue and wait for the counts.
    lock(&display.tally).take();
    let counts = tally_task.await.unwrap_or_default();
    if let Some(m) = &display.multi {
        let _ = m.clear();
    }

    let state = lock(&display.state);
    let mut apps = Vec::new();
    for (i, (app, tenant)) in names.into_iter().enumerate() {
        let res_state = |r: &str| state.get(&(app.clone(), r.to_string()));
        let res_counts = |r: &str| {
            counts
                .get(&(app.clone(), r.to_string()))
                .cloned()
                .unwrap_or_default()
        };
        let mut summary = AppSummary {
            app: app.clone(),
            tenant: tenant.clone(),
            status: "error".into(),
            run_id: None,
            mode: None,
            resumed: false,
            pages: 0,
            records: 0,
            requests: 0,
            events: EventCounts::default(),
            accounts_missing: 0,
            entitlements_missing: 0,
            duration_s: 0.0,
            resources: Vec::new(),
            errors: Vec::new(),
        };
        match results[i].take() {
            Some((Ok(report), d)) => {
                summary.status = report.run.status.as_str().to_string();
                summary.run_id = Some(report.run.id);
                summary.mode = Some(report.run.mode);
                summary.resumed = report.resumed;
                summary.pages = report.run.pages;
                summary.records = report.run.records;
                summary.requests = report.run.requests;
                summary.accounts_missing = report.accounts_missing;
                summary.entitlements_missing = report.entitlements_missing;
                summary.duration_s = d.as_secs_f64();
                let mut errors: HashMap<&str, String> = HashMap::new();
                for e in &report.errors {
                    if let Some(r) = error_resource(e) {
                        errors.insert(r, error_chain(e));
                    }
                    summary.errors.push(error_chain(e));
                }
                for r in &report.resources {
                    let st = res_state(&r.name);
                    summary.resources.push(ResourceSummary {
                        name: r.name.clone(),
                        status: resource_status(&r.outcome).to_string(),
                        full: r.full,
                        since: r.since,
                        pages: r.pages,
                        records: r.records,
                        requests: r.requests,
                        events: res_counts(&r.name),
                        duration_s: st.and_then(|s| s.elapsed).map(|d| d.as_secs_f64()),
                        error: errors.get(r.name.as_str()).cloned(),
                    });
                }
                for r in &summary.resources {
                    summary.events.merge(&r.events);
                }
                if report.accounts_missing > 0 {
                    summary
                        .events
                        .add(EventKind::AccountWentMissing, report.accounts_missing);
                }
                if report.entitlements_missing > 0 {
                    summary.events.add(
                        EventKind::EntitlementWentMissing,
                        report.entitlements_missing,
                    );
                }
            }
            Some((Err(e), d)) => {
                let interrupted = matches!(e, SyncError::Interrupted { .. });
                summary.status = if interrupted { "interrupted" } else { "error" }.into();
                if let SyncError::Interrupted { run_id, .. } = &e {
                    summary.run_id = Some(*run_id);
                }
                summary.duration_s = d.as_secs_f64();
                if !interrupted {
                    summary.errors.push(error_chain(&e));
                }
                let mut rows: Vec<(&String, &ResState)> = state
                    .iter()
                    .filter(|((a, _), _)| *a == app)
                    .map(|((_, r), s)| (r, s))
                    .collect();
                rows.sort_by_key(|(_, s)| s.started);
                for (name, st) in rows {
                    let events = res_counts(name);
                    summary.events.merge(&events);
                    summary.pages += st.pages;
                    summary.records += st.records;
                    summary.requests += st.requests;
                    summary.resources.push(ResourceSummary {
                        name: name.clone(),
                        status: st.status.unwrap_or("not_run").to_string(),
                        full: false,
                        since: None,
                        pages: st.pages,
                        records: st.records,
                        requests: st.requests,
                        events,
                        duration_s: st
                            .elapsed
                            .or_else(|| st.started.map(|s| s.elapsed()))
                            .map(|d| d.as_secs_f64()),
                        error: st.error.clone(),
                    });
                }
            }
            None => {
                summary.errors.push(format!(
                    "{app} ({tenant}): sync task ended abnormally: {}",
                    task_errors
                        .iter()
                        .map(|e| e.to_string())
                        .collect::<Vec<_>>()
                        .join("; ")
                ));
            }
        }
        apps.push(summary);
    }
    let interrupted = cancel.is_cancelled();
    let ok = apps.iter().all(|a| a.status == "succeeded");
    Ok(SyncSummary {
        mode: settings.mode,
        ok,
        interrupted,
        duration_s: started.elapsed().as_secs_f64(),
        apps,
    })
}

fn secs(d: Option<f64>) -> String {
    match d {
        Some(s) if s < 60.0 => format!("{s:.1}s"),
        Some(s) => format!("{}m{:02}s", (s / 60.0).floor(), (s % 60.0).round() as u64),
        None => "-".into(),
    }
}

fn grants(e: &EventCounts) -> String {
    match (e.granted(), e.revoked()) {
        (0, 0) => "0".into(),
        (g, 0) => format!("+{g}"),
        (0, r) => format!("-{r}"),
        (g, r) => format!("+{g} -{r}"),
    }
}

/// The summary as a table: one row per resource, then one per app's run.
pub fn summary_table(s: &SyncSummary) -> String {
    let mut rows = Vec::new();
    for a in &s.apps {
        for r in &a.resources {
            rows.push(vec![
                a.app.clone(),
                r.name.clone(),
                r.records.to_string(),
                r.events.new_records().to_string(),
                r.events.changed().to_string(),
                r.events.deactivated().to_string(),
                "".into(),
                grants(&r.events),
                r.requests.to_string(),
                secs(r.duration_s),
                match &r.since {
                    Some(_) if r.status == "done" => "done (changes)".into(),
                    _ => r.status.clone(),
                },
            ]);
        }
        let run = match (a.run_id, a.mode) {
            (Some(id), Some(m)) => format!(
                "run {id}, {}{}",
                m.as_str(),
                if a.resumed { ", resumed" } else { "" }
            ),
            (Some(id), None) => format!("run {id}"),
            _ => "run".into(),
        };
        rows.push(vec![
            a.app.clone(),
            format!("= {run}"),
            a.records.to_string(),
            a.events.new_records().to_string(),
            a.events.changed().to_string(),
            a.events.deactivated().to_string(),
            a.events.missing().to_string(),
            grants(&a.events),
            a.requests.to_string(),
            secs(Some(a.duration_s)),
            a.status.clone(),
        ]);
    }
    cli::table(
        &[
            "app",
            "resource",
            "records",
            "new",
            "changed",
            "deactivated",
            "missing",
            "grants",
            "requests",
            "time",
            "status",
        ],
        rows,
    )
}

/// Prints the summary on stdout (table, or one JSON document).
pub fn print_summary(s: &SyncSummary, format: SummaryFormat) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        SummaryFormat::Json => {
            serde_json::to_writer(&mut out, s)?;
            writeln!(out)?;
        }
        SummaryFormat::Table => {
            writeln!(out, "{}", summary_table(s))?;
            if s.interrupted {
                writeln!(
                    out,
                    "interrupted: the next `idgraph sync` resumes where this one stopped"
                )?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

pub async fn run(args: SyncArgs, global: &Global) -> Result<()> {
    let cfg = cli::load_config(global, true)?;
    let ctx = cli::connector_context(&cfg)?;
    let connectors = cli::build_connectors(&cfg, &ctx, &args.apps)?;
    let store = cli::open_store(&cfg).await?;
    let settings = SyncSettings {
        mode: if args.full {
            SyncMode::Full
        } else {
            SyncMode::Incremental
        },
        progress: if args.quiet {
            ProgressMode::None
        } else {
            args.progress
        },
        concurrency: cfg.config.sync.concurrency,
        options: SyncOptions {
            overlap: time::Duration::minutes(
                i64::try_from(cfg.config.sync.overlap_minutes).unwrap_or(i64::MAX / 60_000_000),
            ),
            ..SyncOptions::default()
        },
        budgets: Some(ctx.budgets.clone()),
        ..SyncSettings::default()
    };
    let summary = run_sync(connectors, store.clone(), settings).await;
    store.close().await;
    let summary = summary?;
    if !args.quiet {
        print_summary(&summary, args.format)?;
    }
    if summary.interrupted {
        bail!("sync interrupted; the next `idgraph sync` resumes where it stopped");
    }
    if !summary.ok {
        let failures = summary.failures();
        bail!(
            "sync failed for {}:\n  {}",
            summary
                .apps
                .iter()
                .filter(|a| a.status != "succeeded")
                .map(|a| a.app.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            failures.join("\n  ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_counts_group_kinds() {
        let mut c = EventCounts::default();
        c.add(EventKind::AccountAppeared, 3);
        c.add(EventKind::EntitlementAppeared, 1);
        c.add(EventKind::AccountChanged, 2);
        c.add(EventKind::AccountReactivated, 1);
        c.add(EventKind::AccountDeactivated, 4);
        c.add(EventKind::AccountWentMissing, 5);
        c.add(EventKind::EntitlementGranted, 6);
        c.add(EventKind::EntitlementRevoked, 7);
        assert_eq!(c.new_records(), 4);
        assert_eq!(c.changed(), 3);
        assert_eq!(c.deactivated(), 4);
        assert_eq!(c.missing(), 5);
        assert_eq!(grants(&c), "+6 -7");
        let mut d = EventCounts::default();
        d.merge(&c);
        d.merge(&c);
        assert_eq!(d.missing(), 10);
    }

    fn display(
        budgets: HashMap<String, Arc<RateBudget>>,
        estimates: HashMap<ResKey, u64>,
    ) -> Display {
        Display {
            mode: ProgressMode::Bars,
            multi: Some(MultiProgress::with_draw_target(ProgressDrawTarget::hidden())),
            state: Mutex::new(HashMap::new()),
            runs: Mutex::new(HashMap::new()),
            budgets,
            estimates,
            tally: Mutex::new(None),
            clock: Arc::new(idgraph_core::FixedClock(
                time::macros::datetime!(2026-01-01 10:00 UTC),
            )),
        }
    }

    fn progress(event: ProgressEvent) -> Progress {
        Progress {
            app: "freshdesk".into(),
            tenant: "acme.freshdesk.com".into(),
            run_id: 3,
            event,
        }
    }

    fn page(resource: &str, records_total: u64) -> ProgressEvent {
        ProgressEvent::PageCommitted {
            resource: resource.into(),
            records: 100,
            requests: 1,
            events: 0,
            next: Some(json!({"page": 2})),
            pages_total: records_total / 100,
            records_total,
            requests_total: records_total / 100,
        }
    }

    #[tokio::test]
    async fn bars_take_their_total_from_the_last_full_listing_and_show_the_budget() {
        let clock =
            idgraph_http::ManualClock::new(time::macros::datetime!(2026-01-01 10:00:30 UTC));
        let budget = Arc::new(RateBudget::new(
            "freshdesk:acme.freshdesk.com",
            idgraph_http::RatePlan::per_minute(10),
            clock.shared(),
        ));
        budget
            .acquire(&reqwest::Method::GET, "/api/v2/agents")
            .await;
        let d = display(
            [("freshdesk:acme.freshdesk.com".to_string(), budget)].into(),
            [(("freshdesk".to_string(), "agents".to_string()), 250)].into(),
        );
        d.observe(&progress(ProgressEvent::RunStarted {
            mode: SyncMode::Incremental,
            resumed: false,
            resources: vec!["agents".into(), "contacts".into()],
        }));
        d.observe(&progress(ProgressEvent::ResourceStarted {
            resource: "agents".into(),
            since: None,
            pages_before: 0,
        }));
        d.observe(&progress(ProgressEvent::ResourceStarted {
            resource: "contacts".into(),
            since: Some(time::macros::datetime!(2026-01-01 09:00 UTC)),
            pages_before: 0,
        }));
        let bar = |r: &str| {
            lock(&d.state)[&("freshdesk".to_string(), r.to_string())]
                .bar
                .clone()
                .unwrap()
        };
        assert_eq!(bar("agents").length(), Some(250));
        assert_eq!(
            bar("contacts").length(),
            None,
            "no total for a listing of changes"
        );
        d.observe(&progress(page("agents", 100)));
        assert_eq!(bar("agents").position(), 100);
        let msg = bar("agents").message();
        assert!(msg.contains("budget 9/10 (resets 30s)"), "{msg}");
        d.observe(&progress(page("agents", 300)));
        assert_eq!(bar("agents").length(), Some(300), "the listing grew");
        d.observe(&progress(ProgressEvent::ResourceDone {
            resource: "agents".into(),
            pages: 3,
            records: 300,
            requests: 3,
        }));
        d.observe(&progress(ProgressEvent::RunInterrupted));
        let state = lock(&d.state);
        let agents = &state[&("freshdesk".to_string(), "agents".to_string())];
        assert_eq!(agents.status, Some("done"));
        assert!(agents.elapsed.is_some());
        assert_eq!(
            state[&("freshdesk".to_string(), "contacts".to_string())].status,
            Some("interrupted")
        );
    }

    #[test]
    fn progress_lines_are_flat_json_objects() {
        let p = Progress {
            app: "freshdesk".into(),
            tenant: "acme.freshdesk.com".into(),
            run_id: 7,
            event: ProgressEvent::PageCommitted {
                resource: "agents".into(),
                records: 100,
                requests: 1,
                events: 3,
                next: Some(json!({"page": 2})),
                pages_total: 1,
                records_total: 100,
                requests_total: 1,
            },
        };
        let v = progress_json(&p);
        assert_eq!(v["type"], "progress");
        assert_eq!(v["event"], "page_committed");
        assert_eq!(v["app"], "freshdesk");
        assert_eq!(v["run_id"], 7);
        assert_eq!(v["records_total"], 100);
        assert_eq!(v["done"], false);
        assert!(!v.to_string().contains('\n'));
    }
}
