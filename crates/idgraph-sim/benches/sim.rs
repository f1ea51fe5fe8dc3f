#![allow(clippy::expect_used)] // a benchmark binary: failing loudly is the point
//! Simulator benchmark: generation and start-up time for 10,000 people, and a full listing of
//! 10,000 Freshservice agents with `per_page=100` over HTTP (limits off). Run with
//! `cargo bench -p idgraph-sim --bench sim`; figures go to `docs/benchmarks.md`.

use idgraph_sim::common::{App, TenantOptions};
use idgraph_sim::company::{self, CompanyConfig, Coverage};
use idgraph_sim::serve::{self, SimConfig};
use std::time::Instant;
use time::macros::datetime;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let anchor = datetime!(2026-06-01 00:00 UTC);
    for people in [10_000usize, 200_000] {
        let t = Instant::now();
        let mut cfg = CompanyConfig::new(1, people, anchor);
        cfg.coverage = Coverage::Full;
        let c = company::generate(&cfg);
        println!(
            "generate {people} people (full coverage): {} accounts, {} drifts in {:.3} s",
            c.accounts.len(),
            c.drifts.len(),
            t.elapsed().as_secs_f64()
        );
    }
    rt.block_on(async {
        let t = Instant::now();
        let sims = serve::start(SimConfig {
            seed: 1,
            people: 10_000,
            coverage: Coverage::Full,
            anchor: Some(anchor),
            default_options: TenantOptions { rate_limits: false, ..TenantOptions::default() },
            ..SimConfig::default()
        })
        .await
        .expect("start");
        let startup = t.elapsed().as_secs_f64();
        println!("start all five simulators, 10,000 people (full coverage): {startup:.3} s");
        let base = sims.base_url(App::Freshservice).expect("fs").to_string();
        let key = sims.credentials(App::Freshservice).expect("creds")["api_key"]
            .as_str()
            .expect("api_key")
            .to_string();
        let http = reqwest::Client::new();
        for round in 0..3 {
            let t = Instant::now();
            let mut agents = 0usize;
            let mut requests = 0;
            // Active agents (the default listing), then deactivated ones (`active=false`).
            for filter in ["", "&active=false"] {
                let mut page = 1;
                loop {
                    let resp = http
                        .get(format!("{base}/api/v2/agents?per_page=100&page={page}{filter}"))
                        .basic_auth(&key, Some("X"))
                        .send()
                        .await
                        .expect("send");
                    requests += 1;
                    let body: serde_json::Value = resp.json().await.expect("json");
                    let n = body["agents"].as_array().map(|a| a.len()).unwrap_or(0);
                    agents += n;
                    if n < 100 {
                        break;
                    }
                    page += 1;
                }
            }
            let secs = t.elapsed().as_secs_f64();
            println!(
                "round {round}: listed {agents} agents (active and deactivated) in {requests} requests, {secs:.3} s ({:.0} agents/s)",
                agents as f64 / secs
            );
        }
        sims.shutdown().await;
    });
}
