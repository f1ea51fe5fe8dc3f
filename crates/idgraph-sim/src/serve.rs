//! Serving the five simulators on 127.0.0.1 ports, over HTTP or HTTPS with a generated
//! certificate, from one [`SimConfig`]: what `idgraph sim`, the demo, the integration tests and
//! the benchmarks all start.

use crate::clock::SimClock;
use crate::common::{App, PlanTier, SimEnv, TenantOptions};
use crate::company::{self, Company, CompanyConfig, Coverage};
use crate::faults::FaultConfig;
use crate::AppSim;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Everything `idgraph sim` can be asked for.
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub seed: u64,
    pub people: usize,
    pub coverage: Coverage,
    /// "Now" of the generated data and the start of the simulated clock (default: real now).
    pub anchor: Option<OffsetDateTime>,
    /// Simulated seconds per real second.
    pub time_scale: f64,
    /// Per-app tenant options (plan, rate limits, SSO, seats); apps not listed get `default_options`.
    pub options: BTreeMap<App, TenantOptions>,
    pub default_options: TenantOptions,
    /// Faults injected from the start (per app seed derived from this config's seed).
    pub faults: Option<FaultConfig>,
    pub tls: bool,
    /// Where the roster, the ground truth and the certificate are written (`None`: not written).
    pub out_dir: Option<PathBuf>,
    /// First port (apps take consecutive ports in [`App::ALL`] order); `None` or 0: any free port.
    pub port_base: Option<u16>,
    /// Apps to serve (default: all five).
    pub apps: Vec<App>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            people: 200,
            coverage: Coverage::Realistic,
            anchor: None,
            time_scale: 1.0,
            options: BTreeMap::new(),
            default_options: TenantOptions::default(),
            faults: None,
            tls: false,
            out_dir: None,
            port_base: None,
            apps: App::ALL.to_vec(),
        }
    }
}

/// Why the simulators could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot bind {app} simulator to {addr}")]
    Bind {
        app: App,
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {what} to {path}")]
    Write {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the roster CSV to {path}")]
    Roster {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error("cannot generate the TLS certificate")]
    Certificate(#[source] rcgen::Error),
    #[error("cannot set up TLS")]
    Tls(#[source] rustls::Error),
}

/// One served app, as printed by `idgraph sim`.
#[derive(Clone, Debug, Serialize)]
pub struct ServedApp {
    pub app: App,
    /// `http(s)://127.0.0.1:PORT`: the vendor's host part; API paths are as in the real API.
    pub base_url: String,
    /// The main API and auth URLs of this vendor on the simulator.
    pub urls: BTreeMap<&'static str, String>,
    pub plan: String,
    pub rate_limits: bool,
    pub credentials: serde_json::Value,
    /// The `[apps.<app>]` section of an `idgraph.toml` that reads this simulator (the keys of
    /// the app's connector config; secrets included, as in `credentials`).
    pub idgraph_config: serde_json::Value,
}

/// What `idgraph sim` prints: one JSON object.
#[derive(Clone, Debug, Serialize)]
pub struct SimInfo {
    pub seed: u64,
    pub people: usize,
    pub coverage: Coverage,
    #[serde(with = "time::serde::rfc3339")]
    pub anchor: OffsetDateTime,
    pub time_scale: f64,
    pub apps: BTreeMap<App, ServedApp>,
    pub roster_csv: Option<PathBuf>,
    pub ground_truth: Option<PathBuf>,
    pub tls_certificate: Option<PathBuf>,
    pub accounts: usize,
    pub drifts: usize,
}

/// The running simulators. Dropping it (or calling [`RunningSims::shutdown`]) stops them.
#[derive(Debug)]
pub struct RunningSims {
    pub info: SimInfo,
    pub company: Arc<Company>,
    /// The environment of each app (clock, counters, faults) for in-process control.
    pub envs: BTreeMap<App, SimEnv>,
    /// The clock shared by all apps.
    pub clock: SimClock,
    /// The certificate (PEM) when serving HTTPS, for clients to trust.
    pub certificate_pem: Option<String>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningSims {
    pub fn base_url(&self, app: App) -> Option<&str> {
        self.info.apps.get(&app).map(|a| a.base_url.as_str())
    }

    pub fn credentials(&self, app: App) -> Option<&serde_json::Value> {
        self.info.apps.get(&app).map(|a| &a.credentials)
    }

    /// Stops serving and waits for the servers to finish.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

impl Drop for RunningSims {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Host names the generated certificate covers, besides localhost and 127.0.0.1.
pub const VENDOR_HOSTS: &[&str] = &[
    "*.freshservice.com",
    "scim.freshservice.com",
    "*.freshdesk.com",
    "*.myfreshworks.com",
    "*.freshsales.io",
    "api.freshbooks.com",
    "auth.freshbooks.com",
    "my.freshbooks.com",
    "api.helpscout.net",
];

fn build_app(app: App, company: &Company, env: SimEnv) -> AppSim {
    match app {
        App::Freshservice => crate::freshservice::build(company, env),
        App::Freshdesk => crate::freshdesk::build(company, env),
        App::Freshsales => crate::freshsales::build(company, env),
        App::Freshbooks => crate::freshbooks::build(company, env),
        App::Helpscout => crate::helpscout::build(company, env),
    }
}

fn urls(app: App, base: &str) -> BTreeMap<&'static str, String> {
    let mut m = BTreeMap::new();
    let mut put = |k: &'static str, path: &str| {
        m.insert(k, format!("{base}{path}"));
    };
    match app {
        App::Freshservice | App::Freshdesk => {
            put("api", "/api/v2");
            put("scim", "/scim/v2");
        }
        App::Freshsales => {
            put("api", "/crm/sales/api");
            put("scim", "/scim/v2");
        }
        App::Freshbooks => {
            put("api", "/auth/api/v1");
            put("authorize", "/oauth/authorize");
            put("token", "/auth/oauth/token");
        }
        App::Helpscout => {
            put("api", "/v2");
            put("token", "/v2/oauth2/token");
            put("authorize", "/v2/oauth2/authorize");
            put("scim", "/v2/scim");
        }
    }
    put("control", "/_sim");
    m
}

/// The connector settings that read `app` served at `base`: what `idgraph demo` and
/// `idgraph sim --config-out` hand to the connectors.
fn idgraph_section(
    app: App,
    base: &str,
    opts: &TenantOptions,
    creds: &serde_json::Value,
) -> serde_json::Value {
    use serde_json::json;
    let c = |k: &str| creds.get(k).cloned().unwrap_or(serde_json::Value::Null);
    let scim = opts.sso && matches!(opts.plan, PlanTier::Pro | PlanTier::Enterprise);
    match app {
        App::Freshservice | App::Freshdesk => json!({
            "domain": c("domain"),
            "api_key": c("api_key"),
            "plan": opts.plan.to_string(),
            "base_url": base,
        }),
        App::Freshsales => {
            let mut v = json!({
                "domain": c("domain"),
                "api_key": c("api_key"),
                // Freshsales has no Starter plan: the simulator's lowest tier is Growth.
                "plan": match opts.plan {
                    PlanTier::Starter | PlanTier::Growth => "growth".to_string(),
                    p => p.to_string(),
                },
                "base_url": base,
            });
            if creds.get("scim_available").and_then(|v| v.as_bool()) == Some(true) {
                v["scim_token"] = c("scim_token");
            }
            v
        }
        App::Freshbooks => json!({
            "client_id": c("client_id"),
            "client_secret": c("client_secret"),
            "redirect_uri": c("redirect_uri"),
            "refresh_token": c("refresh_token"),
            "base_url": base,
            // A readable name for the grant (the default, the client id, is 64 hex digits).
            "grant": "acme",
        }),
        App::Helpscout => {
            let mut v = json!({
                "client_id": c("client_id"),
                "client_secret": c("client_secret"),
                "base_url": base,
                // A stable tenant name (the default, the API host, is a port here).
                "account": "acme",
            });
            if scim {
                v["scim_token"] = c("scim_token");
            }
            v
        }
    }
}

/// Builds every app's router in-process without binding ports (for `oneshot` tests).
pub fn build_all(company: &Company, clock: &SimClock, cfg: &SimConfig) -> Vec<AppSim> {
    cfg.apps
        .iter()
        .map(|&app| {
            let opts = cfg
                .options
                .get(&app)
                .cloned()
                .unwrap_or_else(|| cfg.default_options.clone());
            let mut env = SimEnv::new(app, clock.clone(), opts, cfg.seed);
            env.tls = cfg.tls;
            if let Some(f) = &cfg.faults {
                let mut f = f.clone();
                f.seed = f.seed.wrapping_add(app as u64);
                env.faults.set(f);
            }
            build_app(app, company, env)
        })
        .collect()
}

/// Generates the company, writes the roster and ground truth, and serves every app.
pub async fn start(cfg: SimConfig) -> Result<RunningSims, ServeError> {
    let anchor = cfg.anchor.unwrap_or_else(SimClock::real_now);
    let mut ccfg = CompanyConfig::new(cfg.seed, cfg.people, anchor);
    ccfg.coverage = cfg.coverage;
    let company = Arc::new(company::generate(&ccfg));
    start_with(cfg, company, anchor).await
}

/// Like [`start`], with a company generated (or edited) by the caller.
pub async fn start_with(
    cfg: SimConfig,
    company: Arc<Company>,
    anchor: OffsetDateTime,
) -> Result<RunningSims, ServeError> {
    let clock = SimClock::new(anchor, cfg.time_scale);
    let (roster_csv, ground_truth) = match &cfg.out_dir {
        Some(dir) => {
            let (r, t) = write_company_files(&company, dir)?;
            (Some(r), Some(t))
        }
        None => (None, None),
    };
    let (tls_config, certificate_pem, tls_certificate) = if cfg.tls {
        let (config, pem) = tls_server_config()?;
        let path = match &cfg.out_dir {
            Some(dir) => {
                let p = dir.join("sim-cert.pem");
                std::fs::write(&p, &pem).map_err(|source| ServeError::Write {
                    what: "the TLS certificate",
                    path: p.clone(),
                    source,
                })?;
                Some(p)
            }
            None => None,
        };
        (Some(config), Some(pem), path)
    } else {
        (None, None, None)
    };
    let (stop, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let mut apps = BTreeMap::new();
    let mut envs = BTreeMap::new();
    for (k, sim) in build_all(&company, &clock, &cfg).into_iter().enumerate() {
        let port = match cfg.port_base {
            Some(p) if p > 0 => p.saturating_add(k as u16),
            _ => 0,
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind {
                app: sim.app,
                addr,
                source,
            })?;
        let local = listener.local_addr().map_err(|source| ServeError::Bind {
            app: sim.app,
            addr,
            source,
        })?;
        let scheme = if tls_config.is_some() {
            "https"
        } else {
            "http"
        };
        let base_url = format!("{scheme}://{local}");
        let mut rx = stop_rx.clone();
        let router = sim.router.clone();
        let task = match &tls_config {
            None => tokio::spawn(async move {
                let _ = axum::serve(listener, router)
                    .with_graceful_shutdown(async move {
                        let _ = rx.wait_for(|s| *s).await;
                    })
                    .await;
            }),
            Some(tls) => {
                let tls = tls.clone();
                let std_listener = listener.into_std().map_err(|source| ServeError::Bind {
                    app: sim.app,
                    addr,
                    source,
                })?;
                let handle = axum_server::Handle::new();
                let h2 = handle.clone();
                tokio::spawn(async move {
                    let _ = rx.wait_for(|s| *s).await;
                    h2.shutdown();
                });
                tokio::spawn(async move {
                    let server = axum_server::from_tcp_rustls(std_listener, tls).handle(handle);
                    let _ = server.serve(router.into_make_service()).await;
                })
            }
        };
        tasks.push(task);
        apps.insert(
            sim.app,
            ServedApp {
                app: sim.app,
                urls: urls(sim.app, &base_url),
                base_url: base_url.clone(),
                plan: sim.env.options.plan.to_string(),
                rate_limits: sim.env.options.rate_limits,
                idgraph_config: idgraph_section(
                    sim.app,
                    &base_url,
                    &sim.env.options,
                    &sim.credentials,
                ),
                credentials: sim.credentials.clone(),
            },
        );
        envs.insert(sim.app, sim.env.clone());
    }
    let info = SimInfo {
        seed: cfg.seed,
        people: cfg.people,
        coverage: cfg.coverage,
        anchor,
        time_scale: cfg.time_scale,
        apps,
        roster_csv,
        ground_truth,
        tls_certificate,
        accounts: company.accounts.len(),
        drifts: company.drifts.len(),
    };
    Ok(RunningSims {
        info,
        company,
        envs,
        clock,
        certificate_pem,
        stop,
        tasks,
    })
}

/// Writes `roster.csv` and `ground-truth.json` into `dir` (created if missing).
pub fn write_company_files(
    company: &Company,
    dir: &Path,
) -> Result<(PathBuf, PathBuf), ServeError> {
    std::fs::create_dir_all(dir).map_err(|source| ServeError::Write {
        what: "the output directory",
        path: dir.to_path_buf(),
        source,
    })?;
    let roster = dir.join("roster.csv");
    let file = std::fs::File::create(&roster).map_err(|source| ServeError::Write {
        what: "the roster",
        path: roster.clone(),
        source,
    })?;
    company::write_roster_csv(company, std::io::BufWriter::new(file)).map_err(|source| {
        ServeError::Roster {
            path: roster.clone(),
            source,
        }
    })?;
    let truth = dir.join("ground-truth.json");
    company::write_ground_truth(company, &truth).map_err(|source| ServeError::Write {
        what: "the ground truth",
        path: truth.clone(),
        source,
    })?;
    Ok((roster, truth))
}

/// A self-signed certificate for localhost, 127.0.0.1 and the vendors' host names, and the
/// rustls server config serving it (ring provider, no global state).
fn tls_server_config() -> Result<(axum_server::tls_rustls::RustlsConfig, String), ServeError> {
    let mut names: Vec<String> = vec!["localhost".into(), "127.0.0.1".into()];
    names.extend(VENDOR_HOSTS.iter().map(|s| s.to_string()));
    let cert = rcgen::generate_simple_self_signed(names).map_err(ServeError::Certificate)?;
    let cert_pem = cert.cert.pem();
    let cert_der = cert.cert.der().clone();
    let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(
        rustls::pki_types::PrivatePkcs8KeyDer::from(cert.key_pair.serialize_der()),
    );
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(ServeError::Tls)?
        .with_no_client_auth()
        .with_single_cert(vec![cert_der], key_der)
        .map_err(ServeError::Tls)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((
        axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(config)),
        cert_pem,
    ))
}
