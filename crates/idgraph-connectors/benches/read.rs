#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark binary: failing loudly is the point
//! Connector read benchmark (issue 3): a full read of 10,000 people's accounts per app against
//! the simulators (`Coverage::Full`: everyone in every app), each connector built through the
//! registry from the section the simulator prints.
//!
//! 1. Limits off, real clock, no pacing: accounts per second and requests per account.
//! 2. Plan limits on, on the simulators' frozen clock (simulated time moves only when the
//!    client waits, so request latency costs no simulated time and the figure is the pacing's
//!    own): the achieved request rate as a fraction of the plan's limit, and the 429 count.
//!
//! Run with `cargo bench -p idgraph-connectors --bench read` (add `-- 2000` for a quick run
//! with 2,000 people); figures go to `docs/benchmarks.md`.

use idgraph_connectors::registry::{self, BuildOptions};
use idgraph_connectors::{read_all, ConnectorContext};
use idgraph_sim::common::{App, PlanTier, TenantOptions};
use idgraph_sim::company::Coverage;
use idgraph_sim::serve::{self, SimConfig};
use std::sync::Arc;
use std::time::Instant;
use time::macros::datetime;

/// The plan each app is benchmarked on with limits on, its limit and window (seconds): the
/// binding limit of that plan (Freshservice Starter: the 40/min list-endpoint limit).
fn plan(app: App) -> (PlanTier, f64, f64) {
    match app {
        App::Freshservice => (PlanTier::Starter, 40.0, 60.0),
        App::Freshdesk => (PlanTier::Starter, 100.0, 60.0),
        App::Freshsales => (PlanTier::Enterprise, 1000.0, 3600.0),
        App::Freshbooks => (PlanTier::Enterprise, 120.0, 60.0),
        App::Helpscout => (PlanTier::Enterprise, 400.0, 60.0),
    }
}

fn main() {
    let people: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let tokens = tempfile::tempdir().expect("tempdir");
        let opts = BuildOptions {
            token_dir: tokens.path().to_path_buf(),
        };
        println!("# {people} people, full coverage\n");
        println!("## limits off\n");
        println!("| app | accounts | entitlements | grants | requests | requests/account | seconds | accounts/s |");
        println!("|---|---|---|---|---|---|---|---|");
        let sims = serve::start(SimConfig {
            seed: 1,
            people,
            coverage: Coverage::Full,
            anchor: Some(datetime!(2026-06-01 00:00 UTC)),
            default_options: TenantOptions {
                rate_limits: false,
                ..TenantOptions::default()
            },
            ..SimConfig::default()
        })
        .await
        .expect("start");
        let mut ctx = ConnectorContext::system().expect("context");
        ctx.pace = false;
        for app in App::ALL {
            let section = sims.info.apps[&app].idgraph_config.clone();
            let c = registry::build(app.as_str(), app.as_str(), section, &ctx, &opts)
                .expect("connector");
            let t = Instant::now();
            let snap = read_all(c.as_ref(), None).await.expect("read");
            let secs = t.elapsed().as_secs_f64();
            let n = snap.accounts.len();
            println!(
                "| {app} | {n} | {} | {} | {} | {:.4} | {secs:.2} | {:.0} |",
                snap.entitlements.len(),
                snap.grants.len(),
                snap.requests,
                snap.requests as f64 / n as f64,
                n as f64 / secs
            );
        }
        sims.shutdown().await;

        println!("\n## plan limits on, simulated time\n");
        println!("| app | plan | binding limit | requests | simulated time | achieved rate | fraction of limit | 429s |");
        println!("|---|---|---|---|---|---|---|---|");
        for app in App::ALL {
            let (tier, limit, window) = plan(app);
            let sims = serve::start(SimConfig {
                seed: 1,
                people,
                coverage: Coverage::Full,
                anchor: Some(datetime!(2026-06-01 00:00 UTC)),
                time_scale: 0.0,
                apps: vec![app],
                default_options: TenantOptions {
                    plan: tier,
                    rate_limits: true,
                    ..TenantOptions::default()
                },
                ..SimConfig::default()
            })
            .await
            .expect("start");
            // A fresh token store: these simulators issued their own tokens.
            let tokens = tempfile::tempdir().expect("tempdir");
            let opts = BuildOptions {
                token_dir: tokens.path().to_path_buf(),
            };
            let clock: idgraph_http::SharedClock = Arc::new(sims.clock.clone());
            let ctx = ConnectorContext::new(idgraph_http::HttpConfig::default(), clock)
                .expect("context");
            let section = sims.info.apps[&app].idgraph_config.clone();
            let c = registry::build(app.as_str(), app.as_str(), section, &ctx, &opts)
                .expect("connector");
            let started = sims.clock.now();
            let snap = read_all(c.as_ref(), None).await.expect("read");
            let elapsed = (sims.clock.now() - started).as_seconds_f64().max(1e-9);
            let rate = snap.requests as f64 / elapsed * window;
            let counters = sims.envs[&app].counters.snapshot();
            println!(
                "| {app} | {tier} | {limit:.0} per {window:.0} s | {} | {elapsed:.0} s | {rate:.1} per {window:.0} s | {:.3} | {} |",
                snap.requests,
                rate / limit,
                counters.rate_limited
            );
            sims.shutdown().await;
        }
    });
}
