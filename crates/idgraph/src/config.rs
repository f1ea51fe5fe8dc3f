//! `idgraph.toml` and its layers: defaults → TOML file → `IDGRAPH_` environment variables
//! (`__` separates nesting: `IDGRAPH_STORE__URL`, `IDGRAPH_APPS__FRESHDESK__API_KEY`) →
//! command-line flags. Unknown keys are errors that name the key and where it came from.
//!
//! Secrets are best given through the environment or files: any key `X_file` under an app
//! (`api_key_file = "/run/secrets/freshdesk"`) is replaced by `X` holding the file's contents
//! (trailing newline removed). Setting both `X` and `X_file` is an error.
//!
//! Each app's section is kept as raw configuration here and typed by the connector registry
//! ([`LoadedConfig::app_section`]), so a connector's own `deny_unknown_fields` config type
//! decides which keys are valid for it.

use anyhow::{bail, Context, Result};
use figment::providers::{Format, Toml};
use figment::value::{Dict, Value};
use figment::Figment;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Top-level sections; environment variables naming anything else are ignored (so that
/// `IDGRAPH_TEST_PG_URL` and friends are not read as configuration).
const SECTIONS: [&str; 6] = ["store", "http", "sync", "review", "roster", "apps"];

/// The configuration file looked for when `--config` is not given.
pub const DEFAULT_PATH: &str = "idgraph.toml";

/// Where the identity graph lives.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StoreSection {
    /// `sqlite://idgraph.db` (default; created if missing) or `postgres://user@host/db`.
    pub url: String,
}

impl Default for StoreSection {
    fn default() -> Self {
        Self {
            url: "sqlite://idgraph.db".to_string(),
        }
    }
}

/// How syncs run.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SyncSection {
    /// Incremental syncs ask for records changed since the last sync minus this many minutes
    /// (`updated_since` is inclusive and clocks differ).
    pub overlap_minutes: u64,
    /// Apps synced at the same time.
    pub concurrency: usize,
}

impl Default for SyncSection {
    fn default() -> Self {
        Self {
            overlap_minutes: 5,
            concurrency: 5,
        }
    }
}

/// One source of truth file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RosterSource {
    /// A name for the source (`hr`, `contractors`).
    pub name: String,
    /// A CSV or JSON file.
    pub path: PathBuf,
}

/// The typed part of the configuration (apps are typed by their connectors).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub store: StoreSection,
    pub http: idgraph_http::HttpConfig,
    pub sync: SyncSection,
    /// Review policy; typed by the review command.
    pub review: Dict,
    pub roster: Vec<RosterSource>,
    /// Section name → its settings (`connector = "freshdesk"` picks the connector when the name
    /// is not the connector's).
    pub apps: BTreeMap<String, Dict>,
}

/// The loaded layers and the typed configuration.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    /// The file read, if it existed.
    pub file: Option<PathBuf>,
    figment: Figment,
}

/// Builds the layered configuration. `path`: the file (missing is fine unless `required`);
/// `env`: the environment variables to consider (normally `std::env::vars()`); `overrides`:
/// flags as dotted keys (`store.url`).
pub fn load(
    path: &Path,
    required: bool,
    env: impl IntoIterator<Item = (String, String)>,
    overrides: &[(&str, String)],
) -> Result<LoadedConfig> {
    let exists = path.exists();
    if required && !exists {
        bail!(
            "config file {} not found (create one with `idgraph init`)",
            path.display()
        );
    }
    let mut figment = Figment::new();
    if exists {
        // Read once up front so that an unreadable file is reported as such.
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        figment = figment.merge(Toml::file(path));
    }
    figment = figment.merge(env_provider(env));
    for (key, value) in overrides {
        figment = figment.merge((*key, value.clone()));
    }
    let config: Config = figment.extract().map_err(config_error)?;
    Ok(LoadedConfig {
        config,
        file: exists.then(|| path.to_path_buf()),
        figment,
    })
}

/// `IDGRAPH_`-prefixed variables of known sections, nested on `__`.
fn env_provider(
    env: impl IntoIterator<Item = (String, String)>,
) -> figment::providers::Serialized<Dict> {
    let mut root = Dict::new();
    for (k, v) in env {
        let Some(rest) = k.strip_prefix("IDGRAPH_") else {
            continue;
        };
        let path: Vec<String> = rest.split("__").map(|s| s.to_ascii_lowercase()).collect();
        if path.is_empty()
            || !SECTIONS.contains(&path[0].as_str())
            || path.iter().any(String::is_empty)
        {
            continue;
        }
        insert_path(&mut root, &path, env_value(&v));
    }
    figment::providers::Serialized::defaults(root)
}

/// Environment values are strings; integers (only when they read back identically, so
/// `0123` stays text) and booleans are read as such so that `IDGRAPH_SYNC__CONCURRENCY=2` fills
/// a number. (Secrets accept integers as their digits.)
fn env_value(v: &str) -> Value {
    if let Ok(n) = v.parse::<i64>() {
        if n.to_string() == v {
            return Value::from(n);
        }
    }
    match v {
        "true" => Value::from(true),
        "false" => Value::from(false),
        _ => Value::from(v.to_string()),
    }
}

fn insert_path(dict: &mut Dict, path: &[String], value: Value) {
    match path {
        [] => {}
        [last] => {
            dict.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = dict
                .entry(first.clone())
                .or_insert_with(|| Value::from(Dict::new()));
            if let Value::Dict(_, inner) = entry {
                insert_path(inner, rest, value);
            } else {
                let mut inner = Dict::new();
                insert_path(&mut inner, rest, value);
                *entry = Value::from(inner);
            }
        }
    }
}

/// A figment error as one line per problem, naming the key and its source.
fn config_error(e: figment::Error) -> anyhow::Error {
    let lines: Vec<String> = e.into_iter().map(|e| format!("config: {e}")).collect();
    anyhow::anyhow!(lines.join("\n"))
}

impl LoadedConfig {
    /// The names of the configured apps.
    pub fn app_names(&self) -> Vec<String> {
        self.config.apps.keys().cloned().collect()
    }

    /// Which connector an app section uses: its `connector` key, else its name.
    pub fn app_kind(&self, name: &str) -> Option<String> {
        let section = self.config.apps.get(name)?;
        Some(
            section
                .get("connector")
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .unwrap_or_else(|| name.to_string()),
        )
    }

    /// The section of app `name` typed as `T` (the connector's config), with `X_file` secrets
    /// read and the `connector` selector removed. Errors name `apps.<name>.<key>`.
    pub fn app_section<T: DeserializeOwned>(&self, name: &str) -> Result<T> {
        let key = format!("apps.{name}");
        let mut dict: Dict = self
            .figment
            .extract_inner(&key)
            .map_err(config_error)
            .with_context(|| format!("config: no section [{key}]"))?;
        dict.remove("connector");
        resolve_secret_files(&mut dict, &key)?;
        Figment::from(figment::providers::Serialized::defaults(dict))
            .extract::<T>()
            .map_err(|e| {
                let lines: Vec<String> = e
                    .into_iter()
                    .map(|e| {
                        let at = if e.path.is_empty() {
                            key.clone()
                        } else {
                            format!("{key}.{}", e.path.join("."))
                        };
                        format!("config: {at}: {}", e.kind)
                    })
                    .collect();
                anyhow::anyhow!(lines.join("\n"))
            })
    }

    /// The review section typed as `T`.
    pub fn review_section<T: DeserializeOwned + Default>(&self) -> Result<T> {
        if self.config.review.is_empty() {
            return Ok(T::default());
        }
        self.figment.extract_inner("review").map_err(config_error)
    }
}

/// Replaces every `X_file` key by `X` = the file's contents.
fn resolve_secret_files(dict: &mut Dict, at: &str) -> Result<()> {
    let file_keys: Vec<String> = dict
        .keys()
        .filter(|k| k.ends_with("_file") && k.len() > 5)
        .cloned()
        .collect();
    for fk in file_keys {
        let target = fk.trim_end_matches("_file").to_string();
        if dict.contains_key(&target) {
            bail!("config: {at}: both `{target}` and `{fk}` are set; keep one");
        }
        let Some(path) = dict.remove(&fk).and_then(|v| v.into_string()) else {
            bail!("config: {at}.{fk}: expected a file path");
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("config: {at}.{fk}: cannot read {path}"))?;
        let value = text.trim_end_matches(['\n', '\r']).to_string();
        if value.is_empty() {
            bail!("config: {at}.{fk}: {path} is empty");
        }
        dict.insert(target, Value::from(value));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct FakeApp {
        domain: String,
        api_key: String,
        #[serde(default)]
        plan: Option<String>,
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn defaults_without_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let c = load(&dir.path().join("none.toml"), false, Vec::new(), &[]).unwrap();
        assert_eq!(c.config.store.url, "sqlite://idgraph.db");
        assert_eq!(c.config.sync, SyncSection::default());
        assert!(c.file.is_none());
        let err = load(&dir.path().join("none.toml"), true, Vec::new(), &[]).unwrap_err();
        assert!(err.to_string().contains("idgraph init"), "{err}");
    }

    #[test]
    fn layers_file_then_env_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "idgraph.toml",
            "[store]\nurl = \"sqlite://a.db\"\n[sync]\nconcurrency = 3\noverlap_minutes = 7\n",
        );
        let env = vec![
            ("IDGRAPH_SYNC__CONCURRENCY".to_string(), "2".to_string()),
            (
                "IDGRAPH_TEST_PG_URL".to_string(),
                "postgres://ignored".to_string(),
            ),
            ("HOME".to_string(), "/root".to_string()),
        ];
        let c = load(&p, true, env.clone(), &[]).unwrap();
        assert_eq!(c.config.store.url, "sqlite://a.db");
        assert_eq!(c.config.sync.concurrency, 2);
        assert_eq!(c.config.sync.overlap_minutes, 7);
        let c = load(&p, true, env, &[("store.url", "sqlite://b.db".to_string())]).unwrap();
        assert_eq!(c.config.store.url, "sqlite://b.db");
    }

    #[test]
    fn unknown_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "idgraph.toml", "[sync]\nconcurency = 3\n");
        let err = load(&p, true, Vec::new(), &[]).unwrap_err().to_string();
        assert!(err.contains("concurency") && err.contains("sync"), "{err}");
        assert!(err.contains("idgraph.toml"), "{err}");

        let p = write(
            dir.path(),
            "apps.toml",
            "[apps.freshdesk]\ndomain = \"acme.freshdesk.com\"\napi_key = \"k\"\nplna = \"pro\"\n",
        );
        let c = load(&p, true, Vec::new(), &[]).unwrap();
        let err = c
            .app_section::<FakeApp>("freshdesk")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("apps.freshdesk") && err.contains("plna"),
            "{err}"
        );
    }

    #[test]
    fn secrets_from_env_and_files_and_never_both() {
        let dir = tempfile::tempdir().unwrap();
        let secret = write(dir.path(), "key", "s3cr3t-value\n");
        let p = write(
            dir.path(),
            "idgraph.toml",
            &format!(
                "[apps.support]\nconnector = \"freshdesk\"\ndomain = \"acme.freshdesk.com\"\napi_key_file = {:?}\n",
                secret.display().to_string()
            ),
        );
        let c = load(&p, true, Vec::new(), &[]).unwrap();
        assert_eq!(c.app_kind("support").as_deref(), Some("freshdesk"));
        let app: FakeApp = c.app_section("support").unwrap();
        assert_eq!(app.api_key, "s3cr3t-value");

        let env = vec![(
            "IDGRAPH_APPS__SUPPORT__API_KEY".to_string(),
            "from-env".to_string(),
        )];
        let c = load(&p, true, env, &[]).unwrap();
        let err = c.app_section::<FakeApp>("support").unwrap_err().to_string();
        assert!(
            err.contains("api_key") && err.contains("api_key_file"),
            "{err}"
        );
        assert!(!err.contains("s3cr3t"), "{err}");

        let p = write(
            dir.path(),
            "env-only.toml",
            "[apps.freshdesk]\ndomain = \"acme.freshdesk.com\"\n",
        );
        let env = vec![(
            "IDGRAPH_APPS__FRESHDESK__API_KEY".to_string(),
            "from-env".to_string(),
        )];
        let c = load(&p, true, env, &[]).unwrap();
        let app: FakeApp = c.app_section("freshdesk").unwrap();
        assert_eq!(app.api_key, "from-env");
        assert_eq!(c.app_kind("freshdesk").as_deref(), Some("freshdesk"));
    }
}
