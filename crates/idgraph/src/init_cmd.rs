//! `idgraph init`: writes a commented `idgraph.toml` naming every section and key with its
//! default and meaning, and one example `[apps.<name>]` section per connector kind.
//!
//! The template follows the `sshd_config` convention: `# text` is explanation, `#key = value`
//! (no space after `#`) is a setting shown with its default or an example value, ready to be
//! uncommented. A test uncomments every setting, fills in dummy secrets and builds every app
//! through the connector registry, and checks that each key of each config type is shown, so
//! the template cannot drift from the config types.

use anyhow::{bail, Context, Result};
use clap::Args;
use std::io::Write;
use std::path::Path;

/// Write a commented configuration file to start from.
///
/// Every section and key is shown with its default and what it means; one example
/// `[apps.<name>]` section per supported app is included, commented out. Secrets are never
/// written into the file: give them as `IDGRAPH_APPS__<NAME>__<KEY>` environment variables or
/// as `<key>_file` paths to files holding them. The file goes where `--config` points
/// (default `./idgraph.toml`).
///
/// Examples:
///   idgraph init
///   idgraph --config /etc/idgraph/idgraph.toml init --force
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct InitArgs {
    /// Overwrite an existing file.
    #[arg(long)]
    force: bool,
    /// Print the template on stdout instead of writing a file.
    #[arg(long)]
    stdout: bool,
}

/// The template (`{version}` is replaced by the crate version).
const TEMPLATE: &str = r##"# idgraph configuration.
#
# Settings are layered: built-in defaults, then this file, then environment variables
# (IDGRAPH_<SECTION>__<KEY>, `__` between levels: IDGRAPH_STORE__URL,
# IDGRAPH_APPS__FRESHDESK__API_KEY), then command-line flags (--store). Unknown keys are
# errors that name the key.
#
# Lines "#key = value" show a setting with its default (or an example value): remove the "#"
# to set it. Relative paths are read from the directory idgraph runs in.
#
# Secrets never belong in this file. Give each one either as an environment variable
# (IDGRAPH_APPS__<APP>__<KEY>) or as "<key>_file" = a file holding it (a Kubernetes or
# Docker secret): any key ending in _file under an app is replaced by the file's contents.

# --- Where the identity graph is kept ------------------------------------------------------
#[store]
# sqlite://PATH (created if missing; the default) or postgres://user@host/db (password
# from IDGRAPH_STORE__URL or ~/.pgpass rather than this file).
#url = "sqlite://idgraph.db"

# --- The HTTP client every connector shares -------------------------------------------------
#[http]
# TCP + TLS connect timeout, seconds.
#connect_timeout = 10
# Whole-request timeout including the body, seconds.
#request_timeout = 60
# PEM file of extra root certificates (a TLS-inspecting proxy, the simulators' certificate).
#ca_bundle = "/etc/ssl/certs/corporate-ca.pem"
# Trust the built-in roots too; false with ca_bundle pins to the bundle.
#builtin_roots = true
# User-Agent header sent to the vendors.
#user_agent = "idgraph/{version}"
# Idle connections kept per host.
#pool_max_idle_per_host = 8

# How failed requests are retried (GET and other idempotent requests only; 429s wait for
# Retry-After or the rate window instead of the back-off).
#[http.retry]
# Tries in all, the first included (1 disables retries).
#max_attempts = 6
# Back-off cap of the first retry, seconds (doubled each retry, full jitter).
#base_delay = 0.5
# Largest back-off cap, seconds.
#max_delay = 30
# No retry starts after this many seconds since the first try.
#max_elapsed = 300
# Longest single wait for a rate limit to lift before the 429 is returned, seconds.
#max_rate_limit_wait = 3660

# --- How `idgraph sync` runs ------------------------------------------------------------------
#[sync]
# Incremental syncs ask for records changed since the last complete listing minus this many
# minutes (updated_since is inclusive and clocks differ).
#overlap_minutes = 5
# Apps synced at the same time (each keeps to its own vendor rate budget).
#concurrency = 5

# --- Review policy ----------------------------------------------------------------------------
# [review]: thresholds and correlation rules of `idgraph review` (pending_days, dormant_days,
# stale_sync_hours, [review.correlation] …). Keys, defaults and meaning: docs/reconciliation.md,
# section "Policy".

# --- The source of truth: HR roster files (CSV or JSON), one [[roster]] block each --------
#[[roster]]
# A name for the source (hr, contractors).
#name = "hr"
# The file (columns: docs/reconciliation.md, "Roster import").
#path = "hr.csv"

# --- Apps ------------------------------------------------------------------------------------
# One [apps.<name>] section per vendor account. The name is the app kind (freshservice,
# freshdesk, freshsales, freshbooks, helpscout, scim), or any name with
# connector = "<kind>" (two Freshdesk accounts: [apps.support] and [apps.sales], each with
# connector = "freshdesk"). `idgraph sync --app <name>` syncs one.

# Freshservice: agents and requesters (deactivated included), roles with scopes, groups,
# departments.
#[apps.freshservice]
# The account: "acme" (acme.freshservice.com) or the full host name.
#domain = "acme"
# API key of a dedicated admin agent (Profile Settings > API key). Or set
# IDGRAPH_APPS__FRESHSERVICE__API_KEY.
#api_key_file = "/run/secrets/freshservice-api-key"
# starter (default: the lowest limits), growth, pro or enterprise: the rate budget.
#plan = "starter"
# Where the API is served; default https://<domain> (a proxy, or `idgraph sim`).
#base_url = "https://acme.freshservice.com"

# Freshdesk: agents (unconfirmed and deactivated told apart), contacts (deleted included),
# roles, groups.
#[apps.freshdesk]
# The account: "acme" (acme.freshdesk.com) or the full host name.
#domain = "acme"
# An administrator's API key (Profile Settings > Your API Key). Or set
# IDGRAPH_APPS__FRESHDESK__API_KEY.
#api_key_file = "/run/secrets/freshdesk-api-key"
# free (default), growth, pro or enterprise: the rate budget.
#plan = "free"
# Where the API is served; default https://<domain>.
#base_url = "https://acme.freshdesk.com"
# The deepest page the server serves; deeper contact listings continue by updated_since.
#max_page = 500

# Freshsales: REST owners and roles; with a SCIM token, SCIM users (the complete roster) and
# groups.
#[apps.freshsales]
# The account's subdomain ("acme" of acme.myfreshworks.com), or the full host name.
#domain = "acme"
# myfreshworks (default) or freshsales_io (older accounts: acme.freshsales.io/api).
#host = "myfreshworks"
# The account's address without a path, instead of domain + host or through a proxy.
#base_url = "https://acme.myfreshworks.com"
# REST API path; default /crm/sales/api (/api on freshsales.io).
#rest_path = "/crm/sales/api"
# An admin user's API key (Settings > API Settings). Or set IDGRAPH_APPS__FRESHSALES__API_KEY.
#api_key_file = "/run/secrets/freshsales-api-key"
# SCIM bearer token (Enterprise with SAML SSO); without it deactivated users are not seen.
# Or set IDGRAPH_APPS__FRESHSALES__SCIM_TOKEN.
#scim_token_file = "/run/secrets/freshsales-scim-token"
# SCIM path on the account's host.
#scim_path = "/scim/v2"
# growth, pro or enterprise, when known (SCIM is refused below enterprise); no default.
#plan = "enterprise"
# The tenant of every key; default <domain>.<host>.
#tenant = "acme.myfreshworks.com"
# Owners per page (maximum 100).
#page_size = 100
# SCIM users and groups per page.
#scim_page_size = 100

# FreshBooks: members and pending invitations of every business the token owner administers.
#[apps.freshbooks]
# OAuth application (client) id (my.freshbooks.com > Developer).
#client_id = "your-client-id"
# OAuth application secret. Or set IDGRAPH_APPS__FRESHBOOKS__CLIENT_SECRET.
#client_secret_file = "/run/secrets/freshbooks-client-secret"
# The redirect URI registered with the application.
#redirect_uri = "https://idgraph.example.com/oauth/freshbooks"
# Refresh token of the first authorization; used once, then the token store takes over
# (FreshBooks refresh tokens are single-use). Or set IDGRAPH_APPS__FRESHBOOKS__REFRESH_TOKEN.
#refresh_token_file = "/run/secrets/freshbooks-refresh-token"
# Where the rotating tokens are kept; default .idgraph-tokens/<name>.tokens.json next to
# this file. Keep it: losing it after a rotation locks the integration out.
#token_store = "/var/lib/idgraph/freshbooks.tokens.json"
# Token endpoint; default <base_url>/auth/oauth/token.
#token_url = "https://api.freshbooks.com/auth/oauth/token"
# A name for this grant (tenant, token-store and budget key); default the client id.
#grant = "acme-books"
# API base URL.
#base_url = "https://api.freshbooks.com"
# Requests per minute to pace at (undocumented by FreshBooks; the server's
# X-RateLimit-Limit replaces it).
#requests_per_minute = 100

# Help Scout: users (pending included; deactivated through SCIM when configured), teams and
# members.
#[apps.helpscout]
# App ID of the OAuth app (Your Profile > My Apps).
#client_id = "your-app-id"
# App Secret. Or set IDGRAPH_APPS__HELPSCOUT__CLIENT_SECRET.
#client_secret_file = "/run/secrets/helpscout-app-secret"
# API base URL.
#base_url = "https://api.helpscout.net"
# Token endpoint; default <base_url>/v2/oauth2/token.
#token_url = "https://api.helpscout.net/v2/oauth2/token"
# Where the access token (valid 48 h) is cached across runs; default
# .idgraph-tokens/<name>.tokens.json next to this file.
#token_store = "/var/lib/idgraph/helpscout.tokens.json"
# The account's name in idgraph (tenant, budget key); default the API host.
#account = "acme"
# Requests per minute for the whole account (400 on every plan); lower it to leave room for
# other integrations.
#requests_per_minute = 400
# SCIM bearer token (Pro plan): deactivated users are then listed too. Or set
# IDGRAPH_APPS__HELPSCOUT__SCIM_TOKEN.
#scim_token_file = "/run/secrets/helpscout-scim-token"
# SCIM base URL; default <base_url>/v2/scim.
#scim_base_url = "https://api.helpscout.net/v2/scim"

# Any SCIM 2.0 service provider: users and groups.
#[apps.directory]
#connector = "scim"
# The app these accounts belong to: freshservice, freshdesk, freshsales, freshbooks,
# helpscout, or scim for any other service.
#app = "scim"
# The vendor account: the tenant of every key.
#tenant = "directory.example.com"
# SCIM base URL, without /Users.
#base_url = "https://directory.example.com/scim/v2"
# SCIM bearer token. Or set IDGRAPH_APPS__DIRECTORY__TOKEN.
#token_file = "/run/secrets/directory-scim-token"
# Account namespace of the users.
#namespace = "scim_user"
# Entitlement kind of SCIM Groups (Help Scout teams: team).
#group_kind = "group"
# Entitlement kind of the values of a user's `roles`; unset: roles are not read as grants.
#role_kind = "role"
# Whether these users hold a paid seat while active.
#seat_consuming = true
# The vendor's rate limit; unset: no client-side pacing (429s are still honoured).
#rate_limit = { requests = 400, window_secs = 60 }
# Rate-budget account, to share a vendor account's budget with its REST connector
# (default <app>:<tenant>).
#budget_account = "scim:directory.example.com"
# Resources per page (1 to 1000).
#page_size = 100
# The server filters on meta.lastModified: incremental syncs read only changed users.
#incremental = false
# List Groups and their members.
#groups = true
"##;

/// The template with the version filled in.
pub fn template() -> String {
    TEMPLATE.replace("{version}", env!("CARGO_PKG_VERSION"))
}

/// Writes the template to `path` (refusing to overwrite unless `force`).
pub fn write_template(path: &Path, force: bool) -> Result<()> {
    if path.exists() && !force {
        bail!(
            "{} already exists; use --force to overwrite it",
            path.display()
        );
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
    }
    std::fs::write(path, template()).with_context(|| format!("cannot write {}", path.display()))
}

pub fn run(args: InitArgs, config: &Path) -> Result<()> {
    if args.stdout {
        let mut out = std::io::stdout().lock();
        out.write_all(template().as_bytes())?;
        out.flush()?;
        return Ok(());
    }
    write_template(config, args.force)?;
    eprintln!(
        "wrote {}: uncomment an [apps.<name>] section, give its secrets through the \
         environment or *_file keys, then run `idgraph sync`",
        config.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli;
    use crate::config::{self, RosterSource, StoreSection, SyncSection};
    use idgraph_connectors::{freshbooks, freshdesk, freshsales, freshservice, helpscout, scim};
    use serde::de::DeserializeOwned;
    use std::collections::{BTreeMap, BTreeSet};

    /// The field names of a `deny_unknown_fields` type, from serde's "expected one of" error.
    fn fields<T: DeserializeOwned>() -> BTreeSet<String> {
        let err = serde_json::from_value::<T>(serde_json::json!({"__probe__": 0}))
            .err()
            .expect("the probe key is refused")
            .to_string();
        let (_, expected) = err.split_once("expected").expect("serde names the fields");
        let names: BTreeSet<String> = expected
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect();
        assert!(!names.is_empty(), "{err}");
        names
    }

    /// Keys of each `[section]` of an uncommented template (`key = …` lines), by section.
    fn keys_by_section(text: &str) -> BTreeMap<String, BTreeSet<String>> {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut section = String::new();
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                section = line.trim_matches(|c| c == '[' || c == ']').to_string();
                out.entry(section.clone()).or_default();
            } else if let Some((k, _)) = line.split_once(" = ") {
                if !line.starts_with('#') {
                    out.entry(section.clone())
                        .or_default()
                        .insert(k.trim().to_string());
                }
            }
        }
        out
    }

    /// Uncomments every `#setting` line; secret files become files holding a dummy value.
    fn uncomment(text: &str, dir: &Path) -> String {
        let mut out = String::new();
        for line in text.lines() {
            let setting = line.starts_with('#')
                && line
                    .chars()
                    .nth(1)
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '[');
            if !setting {
                out.push_str(line);
                out.push('\n');
                continue;
            }
            let line = &line[1..];
            match line.split_once(" = ") {
                Some((k, _)) if k.ends_with("_file") => {
                    let secret = dir.join(format!("secret-{}", out.len()));
                    std::fs::write(&secret, "dummy-secret\n").unwrap();
                    out.push_str(&format!("{k} = {:?}\n", secret.display().to_string()));
                }
                _ => {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        out
    }

    #[test]
    fn the_template_loads_as_defaults_and_every_example_builds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("idgraph.toml");
        write_template(&path, false).unwrap();
        let err = write_template(&path, false).unwrap_err().to_string();
        assert!(err.contains("--force"), "{err}");
        write_template(&path, true).unwrap();

        // As written: everything commented, so the defaults.
        let c = config::load(&path, true, Vec::new(), &[]).unwrap();
        assert_eq!(c.config.store, StoreSection::default());
        assert_eq!(c.config.sync, SyncSection::default());
        assert!(c.app_names().is_empty());

        // Every example uncommented: it loads, and every app builds through the registry.
        let text = uncomment(&template(), dir.path());
        assert!(!text.contains("dummy-secret"), "secrets stay in files");
        std::fs::write(&path, &text).unwrap();
        let c = config::load(&path, true, Vec::new(), &[]).unwrap();
        assert_eq!(
            c.config.http.ca_bundle.as_deref(),
            Some(Path::new("/etc/ssl/certs/corporate-ca.pem"))
        );
        assert_eq!(
            c.config.roster,
            vec![RosterSource {
                name: "hr".into(),
                path: "hr.csv".into()
            }]
        );
        let names = c.app_names();
        let kinds: BTreeSet<String> = names.iter().filter_map(|n| c.app_kind(n)).collect();
        let registered: BTreeSet<String> = idgraph_connectors::registry::REGISTRY
            .iter()
            .map(|r| r.kind.to_string())
            .collect();
        assert_eq!(kinds, registered, "one example per connector kind");
        // The CA bundle is an example path: build with the default HTTP settings.
        let ctx = idgraph_connectors::ConnectorContext::system().unwrap();
        let built = cli::build_connectors(&c, &ctx, &[]).unwrap();
        assert_eq!(built.len(), names.len());

        // Every key of every config type is shown (and no other: loading would have failed).
        let shown = keys_by_section(&text);
        let expect: Vec<(&str, BTreeSet<String>)> = vec![
            ("store", fields::<StoreSection>()),
            ("sync", fields::<SyncSection>()),
            ("http", {
                // `retry` is shown as its own [http.retry] section.
                let mut f = fields::<idgraph_http::HttpConfig>();
                assert!(f.remove("retry") && shown.contains_key("http.retry"));
                f
            }),
            ("http.retry", fields::<idgraph_http::RetryPolicy>()),
            ("roster", fields::<RosterSource>()),
            (
                "apps.freshservice",
                fields::<freshservice::FreshserviceConfig>(),
            ),
            ("apps.freshdesk", fields::<freshdesk::FreshdeskConfig>()),
            ("apps.freshsales", fields::<freshsales::FreshsalesConfig>()),
            ("apps.freshbooks", fields::<freshbooks::FreshbooksConfig>()),
            ("apps.helpscout", fields::<helpscout::HelpscoutConfig>()),
            ("apps.directory", fields::<scim::ScimConfig>()),
        ];
        for (section, want) in expect {
            let got: BTreeSet<String> = shown
                .get(section)
                .unwrap_or_else(|| panic!("no [{section}] in the template"))
                .iter()
                .filter(|k| k.as_str() != "connector")
                .map(|k| k.trim_end_matches("_file").to_string())
                .collect();
            assert_eq!(
                got, want,
                "[{section}]: keys shown vs the config type's fields"
            );
        }
        assert!(fields::<scim::RateLimit>()
            .iter()
            .all(|k| text.contains(&format!("{k} = "))));
    }

    #[test]
    fn secrets_are_never_literal_in_the_template() {
        for line in template().lines() {
            let Some((k, _)) = line.trim_start_matches('#').split_once(" = ") else {
                continue;
            };
            for secret in [
                "api_key",
                "scim_token",
                "client_secret",
                "refresh_token",
                "token",
            ] {
                assert_ne!(k, secret, "`{line}` would put a secret in the file");
            }
        }
    }
}
