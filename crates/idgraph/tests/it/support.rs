//! Shared pieces of the binary's tests: simulators started in this process, an `idgraph.toml`
//! that reads them into a temporary SQLite store, the binary run as a child process, and a
//! comparison of two stores' contents that leaves out what legitimately differs between two
//! syncs of the same data (times, run ids, event ids).

use idgraph_sim::common::{App, TenantOptions};
use idgraph_sim::faults::FaultConfig;
use idgraph_sim::serve::{self, RunningSims, SimConfig};
use idgraph_store::{AccountFilter, EntitlementFilter, EventFilter, GrantFilter, Store};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use time::macros::datetime;
use tokio::process::Command;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_idgraph");

/// Simulators of all five apps: `people` people of company `seed`, generated at a fixed
/// anchor (two starts with the same seed serve the same data), rate limits off, real-time
/// clock (rate windows reset as they would).
pub async fn start_sims(seed: u64, people: usize, faults: Option<FaultConfig>) -> RunningSims {
    serve::start(SimConfig {
        seed,
        people,
        anchor: Some(datetime!(2026-06-01 00:00 UTC)),
        time_scale: 1.0,
        default_options: TenantOptions {
            rate_limits: false,
            ..TenantOptions::default()
        },
        faults,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

/// Writes `dir/idgraph.toml`: the store `dir/idgraph.db` and one `[apps.<app>]` section per
/// simulator, exactly as the simulators print it; `extra` is appended (more sections).
pub fn write_config(dir: &Path, sims: &RunningSims, extra: &str) -> PathBuf {
    let mut apps = toml::Table::new();
    for (app, served) in &sims.info.apps {
        let value = toml::Value::try_from(&served.idgraph_config).unwrap();
        apps.insert(app.as_str().to_string(), value);
    }
    let mut root = toml::Table::new();
    let mut store = toml::Table::new();
    store.insert("url".into(), store_url(dir).into());
    root.insert("store".into(), store.into());
    root.insert("apps".into(), apps.into());
    let path = dir.join("idgraph.toml");
    std::fs::write(
        &path,
        format!("{}\n{extra}", toml::to_string(&root).unwrap()),
    )
    .unwrap();
    path
}

pub fn store_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("idgraph.db").display())
}

/// `idgraph --config <config> <args>` with stdout piped and stderr captured.
pub fn idgraph(config: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--config")
        .arg(config)
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("IDGRAPH_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    c
}

/// What a finished command printed.
#[derive(Debug)]
pub struct Output {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

pub async fn run(config: &Path, args: &[&str]) -> Output {
    let out = idgraph(config, args).output().await.unwrap();
    Output {
        success: out.status.success(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// The JSON objects of a JSON-lines output.
pub fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

pub async fn open_store(dir: &Path) -> Arc<dyn Store> {
    idgraph_store::open(&store_url(dir)).await.unwrap()
}

/// A store's contents without what differs between two syncs of the same data: times
/// idgraph took (first/last seen, event times), run ids and event ids, and the simulators'
/// addresses (SCIM `meta.location` holds the port). Missing accounts keep whether they are
/// missing. Events are a sorted multiset of (app, tenant, kind, account, entitlement,
/// details).
#[derive(Debug, PartialEq)]
pub struct Contents {
    pub accounts: Vec<String>,
    pub entitlements: Vec<String>,
    pub grants: Vec<String>,
    pub events: Vec<String>,
}

pub async fn contents(store: &dyn Store, sims: &RunningSims) -> Contents {
    let bases: Vec<&str> = sims
        .info
        .apps
        .values()
        .map(|a| a.base_url.as_str())
        .collect();
    let text = |v: serde_json::Value| {
        let mut s = v.to_string();
        for b in &bases {
            s = s.replace(b, "http://simulator");
            // Help Scout's default tenant is the API host.
            s = s.replace(b.trim_start_matches("http://"), "simulator");
        }
        s
    };
    let accounts = store
        .accounts(&AccountFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|a| {
            serde_json::json!({
                "account": a.account,
                "listed_status": a.listed_status,
                "resource": a.resource,
                "missing": a.missing_since.is_some(),
            })
        })
        .map(text)
        .collect();
    let entitlements = store
        .entitlements(&EntitlementFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            serde_json::json!({
                "entitlement": e.entitlement,
                "resource": e.resource,
                "missing": e.missing_since.is_some(),
            })
        })
        .map(text)
        .collect();
    let mut grants: Vec<String> = store
        .grants(&GrantFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|g| text(serde_json::json!({"grant": g.grant, "resource": g.resource})))
        .collect();
    grants.sort();
    let mut events: Vec<String> = store
        .events(&EventFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            text(serde_json::json!([
                e.app,
                e.tenant,
                e.kind,
                e.account,
                e.entitlement,
                e.details
            ]))
        })
        .collect();
    events.sort();
    Contents {
        accounts,
        entitlements,
        grants,
        events,
    }
}

/// Asserts two stores hold the same data, naming the first difference.
pub fn assert_same(got: &Contents, want: &Contents) {
    fn first_diff(what: &str, got: &[String], want: &[String]) {
        let n = got.len().max(want.len());
        for i in 0..n {
            let g = got.get(i);
            let w = want.get(i);
            if g == w {
                continue;
            }
            assert_eq!(
                g,
                w,
                "{what} differ at #{i} ({} vs {} in all)",
                got.len(),
                want.len()
            );
        }
    }
    first_diff("accounts", &got.accounts, &want.accounts);
    first_diff("entitlements", &got.entitlements, &want.entitlements);
    first_diff("grants", &got.grants, &want.grants);
    first_diff("events", &got.events, &want.events);
    assert!(!want.accounts.is_empty() && !want.events.is_empty());
}

/// The apps the simulators serve.
pub fn app_names() -> Vec<&'static str> {
    App::ALL.iter().map(|a| a.as_str()).collect()
}
