//! The [`Connector`] trait, its capability table and the error type connectors return.

use async_trait::async_trait;
use idgraph_core::{Account, Entitlement, Grant, Record};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Where a resource listing stands between pages: opaque to the engine, serialised into its
/// checkpoint.
pub type Cursor = serde_json::Value;

/// What an app's connector can do (read side now; write side later).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Lists accounts.
    pub read_accounts: bool,
    /// Sees deactivated accounts (false: they vanish from the listing, e.g. Help Scout).
    pub read_deactivated: bool,
    /// Lists roles/groups/teams and who holds them.
    pub read_entitlements: bool,
    /// Lists changed records since a watermark (`updated_since`).
    pub incremental: bool,
    /// Uses SCIM for (part of) the listing when configured.
    pub scim: bool,
    pub create: bool,
    pub deactivate: bool,
    pub reactivate: bool,
    pub convert: bool,
    pub invite: bool,
}

/// How a resource's grants relate to what it lists, so the engine knows which stored grants a
/// page replaces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantScope {
    /// The resource emits no grants.
    #[default]
    None,
    /// Each account it lists comes with all of its grants from this resource (roles and groups
    /// on an agent record): they replace that account's stored grants from this resource.
    WithAccounts,
    /// It lists the memberships of entitlements (team members) across its pages: after a full
    /// listing, stored grants from this resource that were not seen are revoked.
    Memberships,
}

/// A resource a connector lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceSpec {
    /// `agents`, `agents_deactivated`, `requesters`, `roles`, `members`, …
    pub name: String,
    /// Whether `fetch` honours `since` for this resource (otherwise it lists everything).
    pub incremental: bool,
    /// Account namespaces this resource lists (all or part of). Together, the resources naming
    /// a namespace list all of its accounts the API shows; an account that none of them
    /// returned in a full sync is missing.
    pub namespaces: Vec<String>,
    /// Entitlement kinds this resource lists (`role`, `group`, `team`, …).
    pub entitlement_kinds: Vec<String>,
    pub grants: GrantScope,
}

impl ResourceSpec {
    /// A resource listing accounts of `namespaces`.
    pub fn accounts(name: &str, namespaces: &[&str], incremental: bool) -> Self {
        Self {
            name: name.to_string(),
            incremental,
            namespaces: namespaces.iter().map(|s| s.to_string()).collect(),
            entitlement_kinds: Vec::new(),
            grants: GrantScope::None,
        }
    }

    /// A resource listing entitlements of `kinds`.
    pub fn entitlements(name: &str, kinds: &[&str]) -> Self {
        Self {
            name: name.to_string(),
            incremental: false,
            namespaces: Vec::new(),
            entitlement_kinds: kinds.iter().map(|s| s.to_string()).collect(),
            grants: GrantScope::None,
        }
    }

    /// Sets how its grants relate to what it lists.
    pub fn with_grants(mut self, scope: GrantScope) -> Self {
        self.grants = scope;
        self
    }
}

/// One page of a resource.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    pub records: Vec<Record>,
    /// `None` when the resource is exhausted.
    pub next: Option<Cursor>,
    /// HTTP requests this page took (retries included).
    pub requests: u64,
}

/// Everything read from one app.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub accounts: Vec<Account>,
    pub entitlements: Vec<Entitlement>,
    pub grants: Vec<Grant>,
    pub requests: u64,
}

/// Why a connector could not read or write.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The HTTP layer failed (after its retries).
    #[error("{app}: {resource}: request failed")]
    Http {
        app: &'static str,
        resource: String,
        #[source]
        source: idgraph_http::HttpError,
    },
    /// The vendor answered, but not with what its API documents.
    #[error("{app}: {resource}: unexpected response: {detail}")]
    Decode {
        app: &'static str,
        resource: String,
        detail: String,
    },
    /// The connector is configured wrongly (names the key).
    #[error("{app}: configuration: {detail}")]
    Config { app: &'static str, detail: String },
    /// A checkpointed cursor this connector cannot read (written by another version?).
    #[error("{app}: {resource}: unreadable cursor: {detail}")]
    Cursor {
        app: &'static str,
        resource: String,
        detail: String,
    },
    /// The resource is not one this connector lists.
    #[error("{app}: no resource named `{resource}`")]
    UnknownResource { app: &'static str, resource: String },
}

impl ConnectorError {
    /// Whether trying the same page again later may succeed.
    pub fn is_retriable(&self) -> bool {
        match self {
            ConnectorError::Http { source, .. } => source.is_retriable(),
            _ => false,
        }
    }
}

/// An app's connector.
#[async_trait]
pub trait Connector: Send + Sync {
    /// `freshservice`, `freshdesk`, …
    fn app(&self) -> &'static str;
    /// The vendor account this connector reads (the rate budget is per tenant).
    fn tenant(&self) -> &str;
    fn capabilities(&self) -> Capabilities;
    /// The resources to fetch, in dependency order.
    fn resources(&self) -> Vec<ResourceSpec>;
    /// Fetches the page after `cursor` (the first page when `None`). With `since`, an
    /// incremental resource lists only records changed at or after it.
    async fn fetch(
        &self,
        resource: &str,
        cursor: Option<&Cursor>,
        since: Option<OffsetDateTime>,
    ) -> Result<Page, ConnectorError>;
}

/// Reads every resource of `connector` to its end.
pub async fn read_all(
    connector: &dyn Connector,
    since: Option<OffsetDateTime>,
) -> Result<Snapshot, ConnectorError> {
    let mut snap = Snapshot::default();
    for res in connector.resources() {
        let mut cursor: Option<Cursor> = None;
        loop {
            let page = connector.fetch(&res.name, cursor.as_ref(), since).await?;
            snap.requests += page.requests;
            for r in page.records {
                match r {
                    Record::Account(a) => snap.accounts.push(a),
                    Record::Entitlement(e) => snap.entitlements.push(e),
                    Record::Grant(g) => snap.grants.push(g),
                }
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    Ok(snap)
}
