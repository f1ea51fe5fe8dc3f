//! The connector registry: from an app kind (`freshservice`, …) and its configuration section
//! to a running [`Connector`]. A new app is a new folder plus one line in [`REGISTRY`].
//!
//! Sections arrive as JSON values (the command line loads and layers them); each connector's
//! config type decides which keys are valid (`deny_unknown_fields`), and errors name the
//! section and the key.

use crate::connector::{Connector, ConnectorError};
use crate::context::ConnectorContext;
use crate::{freshbooks, freshdesk, freshsales, freshservice, helpscout, scim};
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// What the process decides for every connector.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Where OAuth token stores go when a section names none (`<dir>/<section>.tokens.json`).
    pub token_dir: PathBuf,
}

/// Builds one connector from its section name and settings.
type BuildFn = fn(
    &str,
    serde_json::Value,
    &ConnectorContext,
    &BuildOptions,
) -> Result<Box<dyn Connector>, ConnectorError>;

/// One app kind.
#[derive(Debug, Clone, Copy)]
pub struct Registration {
    pub kind: &'static str,
    /// What it reads, for `--help` and `idgraph init`.
    pub summary: &'static str,
    build: BuildFn,
}

/// Every app idgraph can read.
pub const REGISTRY: &[Registration] = &[
    Registration {
        kind: "freshservice",
        summary: "agents and requesters (deactivated included), roles with scopes, groups, departments",
        build: |name, v, ctx, _| {
            Ok(Box::new(freshservice::FreshserviceConnector::new(
                typed(name, v)?,
                ctx,
            )?))
        },
    },
    Registration {
        kind: "freshdesk",
        summary: "agents (unconfirmed and deactivated told apart), contacts (deleted included), roles, groups",
        build: |name, v, ctx, _| {
            Ok(Box::new(freshdesk::FreshdeskConnector::new(
                typed(name, v)?,
                ctx,
            )?))
        },
    },
    Registration {
        kind: "freshsales",
        summary: "REST owners and roles; with a SCIM token, SCIM users (the complete roster) and groups",
        build: |name, v, ctx, _| {
            Ok(Box::new(freshsales::FreshsalesConnector::new(
                typed(name, v)?,
                ctx,
            )?))
        },
    },
    Registration {
        kind: "freshbooks",
        summary: "members and pending invitations of every business the token owner administers",
        build: |name, v, ctx, opts| {
            let mut c: freshbooks::FreshbooksConfig = typed(name, v)?;
            if c.token_store.is_none() {
                c.token_store = Some(token_path(&opts.token_dir, name));
            }
            Ok(Box::new(freshbooks::FreshbooksConnector::new(c, ctx)?))
        },
    },
    Registration {
        kind: "helpscout",
        summary: "users (pending included; deactivated through SCIM when configured), teams and members",
        build: |name, v, ctx, opts| {
            let mut c: helpscout::HelpscoutConfig = typed(name, v)?;
            if c.token_store.is_none() {
                c.token_store = Some(token_path(&opts.token_dir, name));
            }
            Ok(Box::new(helpscout::HelpscoutConnector::new(c, ctx)?))
        },
    },
    Registration {
        kind: "scim",
        summary: "any SCIM 2.0 service provider: users and groups",
        build: |name, v, ctx, _| Ok(Box::new(scim::ScimConnector::new(typed(name, v)?, ctx)?)),
    },
];

/// The registration of `kind`.
pub fn registration(kind: &str) -> Option<&'static Registration> {
    REGISTRY.iter().find(|r| r.kind == kind)
}

/// Builds the connector of section `name` (kind `kind`) from its configuration.
pub fn build(
    kind: &str,
    name: &str,
    section: serde_json::Value,
    ctx: &ConnectorContext,
    opts: &BuildOptions,
) -> Result<Box<dyn Connector>, ConnectorError> {
    let Some(reg) = registration(kind) else {
        let known: Vec<&str> = REGISTRY.iter().map(|r| r.kind).collect();
        return Err(ConnectorError::Config {
            app: "registry",
            detail: format!(
                "apps.{name}: unknown app `{kind}` (known: {}; set `connector = \"…\"` when the section name is not the app)",
                known.join(", ")
            ),
        });
    };
    (reg.build)(name, section, ctx, opts)
}

fn typed<T: DeserializeOwned>(name: &str, v: serde_json::Value) -> Result<T, ConnectorError> {
    // serde_json errors name the field (`unknown field `plna`, expected one of …`) and never
    // quote a secret value: Secret's visitor does not echo what it was given.
    serde_json::from_value(v).map_err(|e| ConnectorError::Config {
        app: "registry",
        detail: format!("apps.{name}: {e}"),
    })
}

fn token_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.tokens.json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn opts() -> BuildOptions {
        BuildOptions {
            token_dir: std::env::temp_dir(),
        }
    }

    #[test]
    fn unknown_kinds_and_keys_are_named() {
        let ctx = ConnectorContext::system().unwrap();
        let err = build("freshservce", "it", json!({}), &ctx, &opts())
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("freshservce") && err.contains("freshservice"),
            "{err}"
        );
        let err = build(
            "freshservice",
            "it",
            json!({"domain": "acme.freshservice.com", "api_key": "k", "plna": "pro"}),
            &ctx,
            &opts(),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("apps.it") && err.contains("plna"), "{err}");
    }

    #[test]
    fn every_kind_builds_from_a_minimal_section() {
        let ctx = ConnectorContext::system().unwrap();
        let sections = [
            (
                "freshservice",
                json!({"domain": "acme.freshservice.com", "api_key": "k"}),
            ),
            (
                "freshdesk",
                json!({"domain": "acme.freshdesk.com", "api_key": "k"}),
            ),
            ("freshsales", json!({"domain": "acme", "api_key": "k"})),
            (
                "freshbooks",
                json!({"client_id": "c", "client_secret": "s", "redirect_uri": "https://x.example/cb", "refresh_token": "r"}),
            ),
            ("helpscout", json!({"client_id": "c", "client_secret": "s"})),
            (
                "scim",
                json!({"app": "scim", "tenant": "okta.example", "base_url": "https://scim.example/v2", "token": "t"}),
            ),
        ];
        for (kind, section) in sections {
            let c =
                build(kind, kind, section, &ctx, &opts()).unwrap_or_else(|e| panic!("{kind}: {e}"));
            assert!(!c.resources().is_empty(), "{kind}");
        }
    }
}
