//! What every command shares: the global options, loading the layered configuration, opening
//! the store, building the configured connectors, output formats and tables, and logging.

use crate::config::{self, LoadedConfig};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use idgraph_connectors::registry::{self, BuildOptions};
use idgraph_connectors::{Connector, ConnectorContext};
use idgraph_store::Store;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Configuration file (see `idgraph init`). Settings also come from `IDGRAPH_…`
    /// environment variables (`IDGRAPH_STORE__URL`, `IDGRAPH_APPS__FRESHDESK__API_KEY`).
    #[arg(long, global = true, env = "IDGRAPH_CONFIG", default_value = config::DEFAULT_PATH)]
    pub config: PathBuf,
    /// Store URL, overriding `[store] url`: `sqlite://idgraph.db` or `postgres://user@host/db`.
    #[arg(long, global = true, value_name = "URL")]
    pub store: Option<String>,
    /// Diagnostics on stderr: error, warn, info, debug or trace (`RUST_LOG` takes precedence).
    #[arg(long, global = true, default_value = "warn", value_name = "LEVEL")]
    pub log: String,
}

/// How a command prints what it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for a person.
    Table,
    /// JSON (one document; `events` prints one object per line).
    Json,
    /// CSV with a header row.
    Csv,
}

/// Diagnostics go to stderr so that stdout stays parseable.
pub fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The configuration: defaults → file → environment → the global flags. With `required`, a
/// missing file is an error that says how to make one.
pub fn load_config(global: &Global, required: bool) -> Result<LoadedConfig> {
    let mut overrides = Vec::new();
    if let Some(url) = &global.store {
        overrides.push(("store.url", url.clone()));
    }
    config::load(&global.config, required, std::env::vars(), &overrides)
}

/// The directory relative paths in the configuration are read from: the config file's.
pub fn config_dir(cfg: &LoadedConfig) -> PathBuf {
    cfg.file
        .as_deref()
        .and_then(Path::parent)
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Opens (and migrates) the store the configuration names.
pub async fn open_store(cfg: &LoadedConfig) -> Result<Arc<dyn Store>> {
    let url = &cfg.config.store.url;
    idgraph_store::open(url)
        .await
        .with_context(|| format!("cannot open the store {}", idgraph_store::redact_url(url)))
}

/// The HTTP machinery connectors share, from `[http]`.
pub fn connector_context(cfg: &LoadedConfig) -> Result<ConnectorContext> {
    ConnectorContext::new(cfg.config.http.clone(), idgraph_http::SystemClock::shared())
        .context("cannot set up the HTTP client (check [http] ca_bundle)")
}

/// Where OAuth token stores go when an app section names none.
pub fn token_dir(cfg: &LoadedConfig) -> PathBuf {
    config_dir(cfg).join(".idgraph-tokens")
}

/// Creates `dir` (owner-only on Unix) if it does not exist: OAuth token files go there.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
        .with_context(|| format!("cannot create the token directory {}", dir.display()))
}

/// Builds the connectors of the configured apps (`only`: these section names; empty: all).
pub fn build_connectors(
    cfg: &LoadedConfig,
    ctx: &ConnectorContext,
    only: &[String],
) -> Result<Vec<Arc<dyn Connector>>> {
    let names = cfg.app_names();
    if names.is_empty() {
        anyhow::bail!(
            "no apps are configured: add an [apps.<name>] section to {} (see `idgraph init`)",
            cfg.file
                .as_deref()
                .unwrap_or(Path::new(config::DEFAULT_PATH))
                .display()
        );
    }
    for name in only {
        if !names.contains(name) {
            anyhow::bail!(
                "--app {name}: no such app in the configuration (configured: {})",
                names.join(", ")
            );
        }
    }
    let opts = BuildOptions {
        token_dir: token_dir(cfg),
    };
    ensure_private_dir(&opts.token_dir)?;
    let mut out = Vec::new();
    for name in names {
        if !only.is_empty() && !only.contains(&name) {
            continue;
        }
        let kind = cfg.app_kind(&name).unwrap_or_else(|| name.clone());
        let section: serde_json::Value = cfg.app_section(&name)?;
        let c = registry::build(&kind, &name, section, ctx, &opts)
            .with_context(|| format!("apps.{name}"))?;
        out.push(Arc::from(c));
    }
    Ok(out)
}

/// A table for a person: a header row, then one row per item.
pub fn table(headers: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut t = comfy_table::Table::new();
    // A rule under the header and nothing else: rows stay one line each, easy to scan and
    // to grep (comfy-table's preset string: header line and its intersections only).
    t.load_preset("     ──            ")
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_header(headers.iter().copied());
    for r in rows {
        t.add_row(r);
    }
    t.to_string()
}

/// A command's verdict that ends the process with `code` after printing `message` on stderr;
/// not an error (e.g. `idgraph review --fail-on` found findings at the threshold). `main`
/// turns it into the exit status.
#[derive(Debug)]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}

/// Exit status of `idgraph review --fail-on` when findings reach the threshold (1 is an
/// error, 2 a usage error).
pub const EXIT_FINDINGS: u8 = 3;

/// Who is recorded as doing something (`--by`, else `$USER` / `$USERNAME`, else `unknown`).
pub fn who(by: Option<&str>) -> String {
    by.map(str::to_string)
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("USERNAME").ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// The current time: the one place commands read the system clock.
pub fn now() -> time::OffsetDateTime {
    use idgraph_core::Clock;
    idgraph_core::clock::SystemClock.now()
}

/// A time as RFC 3339 (`2026-06-01T10:00:00Z`).
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    // For people: UTC, whole seconds (JSON output keeps the full precision).
    let t = t.to_offset(time::UtcOffset::UTC);
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connectors_are_built_from_sections_and_unknown_apps_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("idgraph.toml");
        std::fs::write(
            &path,
            "[apps.helpdesk]\nconnector = \"freshdesk\"\ndomain = \"acme\"\napi_key = \"k\"\n",
        )
        .unwrap();
        let global = Global {
            config: path,
            store: None,
            log: "warn".into(),
        };
        let cfg = load_config(&global, true).unwrap();
        let ctx = connector_context(&cfg).unwrap();
        let cs = build_connectors(&cfg, &ctx, &[]).unwrap();
        assert_eq!(cs.len(), 1);
        assert_eq!(cs[0].app(), "freshdesk");
        let err = build_connectors(&cfg, &ctx, &["helpscout".into()])
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("helpscout") && err.contains("helpdesk"),
            "{err}"
        );
        assert_eq!(token_dir(&cfg), dir.path().join(".idgraph-tokens"));
    }

    #[test]
    fn tables_have_headers_and_rows() {
        let t = table(
            &["app", "accounts"],
            vec![vec!["freshdesk".into(), "3".into()]],
        );
        assert!(
            t.contains("app") && t.contains("freshdesk") && t.contains('3'),
            "{t}"
        );
    }
}
