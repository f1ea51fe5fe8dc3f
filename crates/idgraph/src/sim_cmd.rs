//! `idgraph sim`: serve the five vendor simulators with a generated company.

use anyhow::{bail, Context, Result};
use clap::Args;
use idgraph_sim::common::{App, PlanTier, TenantOptions};
use idgraph_sim::company::Coverage;
use idgraph_sim::faults::FaultConfig;
use idgraph_sim::serve::{self, SimConfig};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

/// Serve simulators of the five vendor APIs on 127.0.0.1, seeded with a generated company.
///
/// Prints one JSON object on stdout: per app its base URL, API/token/SCIM URLs and
/// credentials, and where the HR roster (CSV) and the ground truth of every injected drift were
/// written. Then serves until interrupted (Ctrl-C).
///
/// Example:
///   idgraph sim --seed 7 --people 10000 --plan enterprise --time-scale 60
///   idgraph sim --plan freshdesk=pro,helpscout=standard --tls --out ./sim-out
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SimArgs {
    /// Seed of the generated company, credentials and ids (same seed, same company).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of people in the generated company.
    #[arg(long, default_value_t = 200)]
    people: usize,
    /// `realistic` (accounts by department) or `full` (everyone in every app, for benchmarks).
    #[arg(long, default_value = "realistic")]
    coverage: Coverage,
    /// Vendor plan: one for all apps (`starter`, `growth`, `pro`, `enterprise`, or a vendor's own
    /// name like `forest`), or per app (`freshdesk=pro,helpscout=standard`). Decides rate limits
    /// and SCIM availability.
    #[arg(long, default_value = "enterprise")]
    plan: String,
    /// Simulated seconds per real second (60: a one-minute rate window passes in one second).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Do not enforce rate limits (headers are still sent).
    #[arg(long)]
    no_rate_limits: bool,
    /// Tenants without SSO (SCIM refused; Freshservice email changes apply).
    #[arg(long)]
    no_sso: bool,
    /// Paid agent seats in Freshservice and Freshdesk (default: generated agents + 10%).
    #[arg(long)]
    seats: Option<u32>,
    /// Serve HTTPS with a generated certificate (localhost, 127.0.0.1 and the vendors' hosts).
    #[arg(long)]
    tls: bool,
    /// Faults to inject, as JSON (e.g. '{"seed":1,"error_rate":0.2,"storm_rate":0.02,"storm_length":5}').
    #[arg(long)]
    faults: Option<String>,
    /// Directory for roster.csv, ground-truth.json and the certificate [default: a new temp dir].
    #[arg(long)]
    out: Option<PathBuf>,
    /// First port; apps take consecutive ports (freshservice, freshdesk, freshsales, freshbooks,
    /// helpscout) [default: any free port].
    #[arg(long)]
    port_base: Option<u16>,
    /// Print the JSON and exit instead of serving (for scripts checking the set-up).
    #[arg(long, hide = true)]
    exit_after_start: bool,
}

/// Parses `--plan`: one tier for all apps, or `app=tier` pairs separated by commas.
pub fn parse_plans(spec: &str) -> Result<(PlanTier, BTreeMap<App, PlanTier>)> {
    let spec = spec.trim();
    if !spec.contains('=') {
        let tier: PlanTier = spec.parse().map_err(anyhow::Error::msg).context("--plan")?;
        return Ok((tier, BTreeMap::new()));
    }
    let mut per_app = BTreeMap::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((app, tier)) = part.split_once('=') else {
            bail!("--plan: `{part}` is not of the form app=plan");
        };
        let app: App = app
            .trim()
            .parse()
            .map_err(anyhow::Error::msg)
            .context("--plan")?;
        let tier: PlanTier = tier
            .trim()
            .parse()
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("--plan for {app}"))?;
        per_app.insert(app, tier);
    }
    Ok((PlanTier::Enterprise, per_app))
}

pub async fn run(args: SimArgs) -> Result<()> {
    if !(args.time_scale.is_finite() && args.time_scale >= 0.0) {
        bail!(
            "--time-scale must be a number >= 0, got {}",
            args.time_scale
        );
    }
    let (default_tier, per_app) = parse_plans(&args.plan)?;
    let faults = match &args.faults {
        Some(json) => Some(
            serde_json::from_str::<FaultConfig>(json)
                .context("--faults is not a valid fault configuration")?,
        ),
        None => None,
    };
    let base = TenantOptions {
        plan: default_tier,
        rate_limits: !args.no_rate_limits,
        sso: !args.no_sso,
        seat_limit: args.seats,
    };
    let options = per_app
        .into_iter()
        .map(|(app, plan)| {
            (
                app,
                TenantOptions {
                    plan,
                    ..base.clone()
                },
            )
        })
        .collect();
    let out = match args.out {
        Some(dir) => dir,
        None => {
            std::env::temp_dir().join(format!("idgraph-sim-{}-{}", args.seed, std::process::id()))
        }
    };
    let cfg = SimConfig {
        seed: args.seed,
        people: args.people,
        coverage: args.coverage,
        anchor: None,
        time_scale: args.time_scale,
        options,
        default_options: base,
        faults,
        tls: args.tls,
        out_dir: Some(out),
        port_base: args.port_base,
        apps: App::ALL.to_vec(),
    };
    let sims = serve::start(cfg).await.context("starting the simulators")?;
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, &sims.info)?;
    writeln!(stdout)?;
    stdout.flush()?;
    drop(stdout);
    if args.exit_after_start {
        sims.shutdown().await;
        return Ok(());
    }
    eprintln!("serving {} apps; Ctrl-C to stop", sims.info.apps.len());
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    sims.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_specs() {
        let (t, m) = parse_plans("pro").unwrap();
        assert_eq!(t, PlanTier::Pro);
        assert!(m.is_empty());
        let (_, m) = parse_plans("freshdesk=forest, helpscout=standard").unwrap();
        assert_eq!(m[&App::Freshdesk], PlanTier::Enterprise);
        assert_eq!(m[&App::Helpscout], PlanTier::Starter);
        let e = parse_plans("freshdesk=gold").unwrap_err();
        assert!(format!("{e:#}").contains("gold"), "{e:#}");
        assert!(parse_plans("zendesk=pro").is_err());
    }
}
