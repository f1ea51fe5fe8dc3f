//! `idgraph demo`: the whole job in one command on a fresh machine — simulated vendors with a
//! seeded company, a sync of all five apps into a local SQLite file with progress, the
//! generated HR roster imported, reconciliation, and the access review.
//!
//! It reuses the commands' own parts (`sync_cmd::run_sync`, `roster_cmd::import_roster`,
//! `review_cmd::build`/`write_report`) and writes a real `idgraph.toml` next to the store, so
//! every other command can be pointed at the demo's data afterwards.

use crate::cli::{self, Format, Global};
use crate::{config, review_cmd, roster_cmd, sync_cmd};
use anyhow::{bail, Context, Result};
use clap::Args;
use idgraph_connectors::registry::{self, BuildOptions};
use idgraph_connectors::{Connector, ConnectorContext};
use idgraph_core::Clock;
use idgraph_sim::common::{App, TenantOptions};
use idgraph_sim::company::GroundTruth;
use idgraph_sim::serve::{self, RunningSims, SimConfig};
use idgraph_store::SyncMode;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Run idgraph end to end on simulated vendors: sync, reconcile, review.
///
/// Starts simulators of Freshservice, Freshdesk, Freshsales, FreshBooks and Help Scout on
/// 127.0.0.1 with a generated company (people, accounts and known problems: leavers still
/// active, stale invitations, unconfirmed agents, duplicates, unowned accounts, dormant seats…),
/// syncs all five apps into a SQLite file at their plan's rate limits (on compressed time, so
/// it takes seconds), imports the company's HR roster, reconciles and prints the access
/// review. Nothing leaves this machine.
///
/// Everything is written to --dir: `idgraph.toml`, `idgraph.db`, `roster.csv` and the
/// generator's `ground-truth.json`. Afterwards, point other commands at it (the simulators
/// stop with the demo, so `sync` will not reach them, but the data stays):
///   idgraph --config idgraph-demo/idgraph.toml accounts --status missing
///   idgraph --config idgraph-demo/idgraph.toml events --since 1h
///   idgraph --config idgraph-demo/idgraph.toml review --format csv
///
/// Examples:
///   idgraph demo
///   idgraph demo --seed 7 --people 1000 --dir /tmp/acme
///   idgraph demo --format json | jq '.totals'
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DemoArgs {
    /// Seed of the generated company (same seed, same company, same findings).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// People in the generated company.
    #[arg(long, default_value_t = 200)]
    pub people: usize,
    /// Directory for the demo's config, store, roster and ground truth (its previous demo
    /// store is replaced).
    #[arg(long, default_value = "idgraph-demo")]
    pub dir: PathBuf,
    /// Simulated seconds per real second: rate windows and token lifetimes pass this much
    /// faster (1 = real time).
    #[arg(long, default_value_t = 60.0)]
    pub time_scale: f64,
    /// How to print the review.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Print only the review (no progress, no explanations).
    #[arg(long, short)]
    pub quiet: bool,
}

/// The config file the demo writes: the store in the same directory, every app pointed at
/// its simulator.
fn write_config(dir: &Path, sims: &RunningSims) -> Result<PathBuf> {
    let mut apps = toml::Table::new();
    for (app, served) in &sims.info.apps {
        let section: toml::Table = serde_json::from_value(served.idgraph_config.clone())
            .with_context(|| format!("{app}: the simulator's config section"))?;
        apps.insert(app.as_str().to_string(), toml::Value::Table(section));
    }
    let mut store = toml::Table::new();
    store.insert(
        "url".into(),
        toml::Value::String(format!("sqlite://{}", dir.join("idgraph.db").display())),
    );
    let mut roster = toml::Table::new();
    roster.insert("name".into(), toml::Value::String("hr".into()));
    roster.insert(
        "path".into(),
        toml::Value::String(dir.join("roster.csv").display().to_string()),
    );
    let mut doc = toml::Table::new();
    doc.insert("store".into(), toml::Value::Table(store));
    doc.insert(
        "roster".into(),
        toml::Value::Array(vec![toml::Value::Table(roster)]),
    );
    doc.insert("apps".into(), toml::Value::Table(apps));
    let text = format!(
        "# Written by `idgraph demo`: the store of the demo and the simulators it read.\n\
         # The simulators stopped with the demo; the credentials below are theirs, not real.\n\n{}",
        toml::to_string(&doc).context("cannot write the demo's idgraph.toml")?
    );
    let path = dir.join("idgraph.toml");
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Removes the store files of an earlier demo in `dir` (only ours).
fn remove_old_store(dir: &Path) -> Result<()> {
    for name in ["idgraph.db", "idgraph.db-wal", "idgraph.db-shm"] {
        let p = dir.join(name);
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("cannot remove {}", p.display()))?;
        }
    }
    let tokens = dir.join(".idgraph-tokens");
    if tokens.exists() {
        std::fs::remove_dir_all(&tokens)
            .with_context(|| format!("cannot remove {}", tokens.display()))?;
    }
    Ok(())
}

pub async fn run(args: DemoArgs, global: &Global) -> Result<()> {
    if !(args.time_scale.is_finite() && args.time_scale > 0.0) {
        bail!("--time-scale must be a number > 0, got {}", args.time_scale);
    }
    if args.people == 0 {
        bail!("--people must be at least 1");
    }
    let dir = args.dir.clone();
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the demo directory {}", dir.display()))?;
    remove_old_store(&dir)?;
    let say = |line: String| {
        if !args.quiet {
            eprintln!("{line}");
        }
    };

    // 1. Simulated vendors with a seeded company, at their plans' rate limits.
    let sims = serve::start(SimConfig {
        seed: args.seed,
        people: args.people,
        time_scale: args.time_scale,
        default_options: TenantOptions::default(),
        out_dir: Some(dir.clone()),
        ..SimConfig::default()
    })
    .await
    .context("cannot start the simulators")?;
    say(format!(
        "Simulating 5 apps for a company of {} people ({} accounts, {} known problems), seed {}.",
        args.people, sims.info.accounts, sims.info.drifts, args.seed
    ));
    let config_path = write_config(&dir, &sims)?;
    let cfg = config::load(&config_path, true, Vec::new(), &[])?;
    let _ = global; // the demo's own config replaces --config and --store

    // 2. Connectors on the simulators' clock, so that budgets pace against their windows.
    let clock = Arc::new(sims.clock.clone());
    let ctx = ConnectorContext::new(cfg.config.http.clone(), clock.clone())
        .context("cannot set up the HTTP client")?;
    let opts = BuildOptions {
        token_dir: cli::token_dir(&cfg),
    };
    let mut connectors: Vec<Arc<dyn Connector>> = Vec::new();
    for app in App::ALL {
        let section = sims.info.apps[&app].idgraph_config.clone();
        let c = registry::build(app.as_str(), app.as_str(), section, &ctx, &opts)
            .with_context(|| format!("{app}: connector"))?;
        connectors.push(Arc::from(c));
    }
    let store = cli::open_store(&cfg).await?;
    say(format!("Syncing into {} …", store.location()));
    let core_clock: Arc<dyn Clock> = clock.clone();
    let summary = sync_cmd::run_sync(
        connectors,
        store.clone(),
        sync_cmd::SyncSettings {
            mode: SyncMode::Full,
            progress: if args.quiet {
                sync_cmd::ProgressMode::None
            } else {
                sync_cmd::ProgressMode::Auto
            },
            concurrency: App::ALL.len(),
            budgets: Some(ctx.budgets.clone()),
            clock: core_clock,
            handle_ctrl_c: true,
            ..sync_cmd::SyncSettings::default()
        },
    )
    .await?;
    // The sync table goes with the review only in table form: stdout stays one JSON or CSV
    // document otherwise.
    if !args.quiet && args.format == Format::Table {
        sync_cmd::print_summary(&summary, sync_cmd::SummaryFormat::Table)?;
        println!();
    }
    if !summary.ok {
        bail!(
            "the demo sync failed:\n  {}",
            summary.failures().join("\n  ")
        );
    }

    // 3. The HR roster the generator wrote, imported all or nothing.
    let sources = vec![roster_cmd::SourceFile {
        name: "hr".into(),
        path: sims
            .info
            .roster_csv
            .clone()
            .unwrap_or_else(|| dir.join("roster.csv")),
    }];
    let roster = roster_cmd::read_sources(&sources)?;
    let imported =
        roster_cmd::import_roster(store.as_ref(), &roster, "idgraph demo", sims.clock.now())
            .await?;
    if !args.quiet {
        roster_cmd::print_import(&mut std::io::stderr().lock(), &imported)?;
        eprintln!();
    }

    // 4. Reconcile and review.
    let report = review_cmd::build(store.as_ref(), &cfg, None, sims.clock.now(), true).await;
    let tenants = store.tenants().await;
    store.close().await;
    let report = report?;
    review_cmd::write_report(&mut std::io::stdout().lock(), &report, args.format)?;

    // 5. How it did against what the generator injected (tenants as the connectors named
    // them; FreshBooks accounts are per business).
    let tenants: BTreeMap<String, String> = tenants?
        .into_iter()
        .filter(|t| t.app != App::Freshbooks.as_str())
        .map(|t| (t.app, t.tenant))
        .collect();
    let tenant_of = |app: App, scope: Option<u64>| match app {
        App::Freshbooks => scope.map(|s| s.to_string()).unwrap_or_default(),
        _ => tenants.get(app.as_str()).cloned().unwrap_or_default(),
    };
    let expected = idgraph_sim::truth::expected(&GroundTruth::of(&sims.company), &tenant_of);
    let score = idgraph_core::score::score(&expected, &report.review.findings);
    if !args.quiet {
        let mut err = std::io::stderr().lock();
        writeln!(
            err,
            "\nAgainst the generator's ground truth: {} of {} injected problems found; {} of {} findings are injected problems (recall {:.2}, precision {:.2}).",
            score.found,
            score.expected,
            score.matching_findings,
            score.findings,
            score.recall(),
            score.precision()
        )?;
        writeln!(
            err,
            "Explore the data: idgraph --config {} accounts | events --since 1d | review --format csv | correlate",
            config_path.display()
        )?;
    }
    sims.shutdown().await;
    Ok(())
}
