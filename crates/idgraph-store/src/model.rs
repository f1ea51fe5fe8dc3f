//! The values the store takes and returns: sync runs and checkpoints, the page a sync commits,
//! the rows it keeps (accounts with their sync bookkeeping, entitlements, grants, events) and the
//! filters the command line queries them with.

use idgraph_core::diff::EventKind;
use idgraph_core::{
    Account, AccountKey, AccountStatus, Entitlement, EntitlementKey, Grant, Record,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A sync run's id (`sync_runs.id`).
pub type RunId = i64;

/// Which backend a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// How a run lists: everything, or what changed since each resource's watermark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    Full,
    Incremental,
}

impl SyncMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncMode::Full => "full",
            SyncMode::Incremental => "incremental",
        }
    }
}

impl std::str::FromStr for SyncMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "full" => Ok(SyncMode::Full),
            "incremental" => Ok(SyncMode::Incremental),
            other => Err(format!(
                "unknown sync mode `{other}` (expected full or incremental)"
            )),
        }
    }
}

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// In progress, or its process died: resumed by the next sync of the app.
    Running,
    Succeeded,
    /// At least one resource failed; what was committed stays.
    Failed,
    /// Stopped on request. Resumed by the next sync unless `finished_at` is set (abandoned
    /// for a fresh full sync).
    Interrupted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
        }
    }
}

impl std::str::FromStr for RunStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "running" => Ok(RunStatus::Running),
            "succeeded" => Ok(RunStatus::Succeeded),
            "failed" => Ok(RunStatus::Failed),
            "interrupted" => Ok(RunStatus::Interrupted),
            other => Err(format!(
                "unknown run status `{other}` (expected running, succeeded, failed or interrupted)"
            )),
        }
    }
}

/// Where one resource of a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceStatus {
    Running,
    Done,
    Failed,
}

impl ResourceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceStatus::Running => "running",
            ResourceStatus::Done => "done",
            ResourceStatus::Failed => "failed",
        }
    }
}

impl std::str::FromStr for ResourceStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "running" => Ok(ResourceStatus::Running),
            "done" => Ok(ResourceStatus::Done),
            "failed" => Ok(ResourceStatus::Failed),
            other => Err(format!(
                "unknown resource status `{other}` (expected running, done or failed)"
            )),
        }
    }
}

/// A sync of one app's connector tenant (`sync_runs` row).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRun {
    pub id: RunId,
    pub app: String,
    /// The connector's tenant (`Connector::tenant()`).
    pub tenant: String,
    pub mode: SyncMode,
    pub status: RunStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// Pages committed, records in them, HTTP requests they took, events they produced.
    pub pages: u64,
    pub records: u64,
    pub requests: u64,
    pub events: u64,
    pub error: Option<String>,
}

/// A run as [`crate::Store::open_run`] hands it out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedRun {
    pub run: SyncRun,
    /// An unfinished run of the app picked up again (same id, its checkpoints apply).
    pub resumed: bool,
    /// An unfinished run set aside because a fresh full sync was requested.
    pub abandoned: Option<RunId>,
}

/// Where a resource stands (`checkpoints` row): the cursor of the next page to fetch,
/// written in the same transaction as the page before it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub app: String,
    pub tenant: String,
    pub resource: String,
    /// The run the checkpoint belongs to (a later run overwrites it).
    pub run_id: RunId,
    pub status: ResourceStatus,
    /// The `since` this resource lists with in its run; `None`: a full listing.
    #[serde(with = "time::serde::rfc3339::option")]
    pub since: Option<OffsetDateTime>,
    /// The connector's cursor of the next page (`None`: the first page, or done).
    pub cursor: Option<serde_json::Value>,
    pub pages: u64,
    pub records: u64,
    pub requests: u64,
    pub error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Start time of the last run in which this resource listed to the end.
    #[serde(with = "time::serde::rfc3339::option")]
    pub watermark: Option<OffsetDateTime>,
}

impl Checkpoint {
    /// Whether the resource lists everything (no `since`) in its run.
    pub fn is_full(&self) -> bool {
        self.since.is_none()
    }
}

/// How the grants a resource emits relate to the ones stored (the store's view of the
/// connectors' `GrantScope`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GrantPolicy {
    /// Grants are added or updated, never revoked by this resource.
    Additive,
    /// Each account the page lists (or names in a grant) comes with all its grants: they
    /// replace its stored grants from any of `resources` (the connector's resources that list
    /// grants with accounts, so an account moving from one listing to another, e.g. agents →
    /// deactivated agents, keeps one set of grants).
    WithAccounts { resources: Vec<String> },
    /// Memberships listed across pages: when the resource completes a full listing, its
    /// stored grants not seen in this run are revoked.
    Memberships,
}

/// One page to commit atomically with its checkpoint.
#[derive(Clone, Debug)]
pub struct PageCommit {
    pub run_id: RunId,
    pub resource: String,
    pub grants: GrantPolicy,
    pub records: Vec<Record>,
    /// The cursor of the next page; `None`: the resource is done with this page.
    pub next: Option<serde_json::Value>,
    /// HTTP requests the page took.
    pub requests: u64,
    pub at: OffsetDateTime,
}

/// What committing a page did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageOutcome {
    /// Events written for this page.
    pub events: u64,
    /// The resource's totals in its run after this page.
    pub pages: u64,
    pub records: u64,
    pub requests: u64,
    /// Grants revoked at the end of a full memberships listing (included in `events`).
    pub revoked: u64,
}

/// How a run ends.
#[derive(Clone, Debug)]
pub struct RunFinish {
    pub run_id: RunId,
    pub status: RunStatus,
    pub error: Option<String>,
    /// Account namespaces listed completely in this run: their accounts not seen in it go
    /// missing.
    pub complete_namespaces: Vec<String>,
    /// Entitlement kinds listed completely in this run: those not seen go missing.
    pub complete_kinds: Vec<String>,
    pub at: OffsetDateTime,
}

/// What finishing a run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FinishOutcome {
    pub run: SyncRun,
    /// Accounts that went missing (tombstoned) at the end of the run.
    pub accounts_missing: u64,
    pub entitlements_missing: u64,
}

/// An account as stored, with its sync bookkeeping.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredAccount {
    /// The last record read (status `missing` once it went missing; `raw` kept).
    pub account: Account,
    /// The status the app last reported (differs from `account.status` once missing).
    pub listed_status: AccountStatus,
    /// The resource that listed it last.
    pub resource: String,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
    pub last_seen_run: RunId,
    #[serde(with = "time::serde::rfc3339::option")]
    pub missing_since: Option<OffsetDateTime>,
}

/// An entitlement as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredEntitlement {
    pub entitlement: Entitlement,
    pub resource: String,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
    pub last_seen_run: RunId,
    #[serde(with = "time::serde::rfc3339::option")]
    pub missing_since: Option<OffsetDateTime>,
}

/// A grant as stored (current grants only; revoked ones are events).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredGrant {
    pub grant: Grant,
    pub resource: String,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
    pub last_seen_run: RunId,
}

/// A change event (`events` row).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub run_id: Option<RunId>,
    pub app: String,
    pub tenant: String,
    pub kind: EventKind,
    pub account: Option<AccountKey>,
    pub entitlement: Option<EntitlementKey>,
    pub details: serde_json::Value,
}

/// A vendor account (tenant) seen, and the connector tenant that reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub app: String,
    pub tenant: String,
    pub source: String,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
}

/// Row counts of the main tables.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub tenants: u64,
    pub accounts: u64,
    pub entitlements: u64,
    pub grants: u64,
    pub events: u64,
    pub sync_runs: u64,
}

/// Which accounts to list (all conditions must hold). Ordered by app, tenant, namespace, id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountFilter {
    pub app: Option<String>,
    pub tenant: Option<String>,
    pub namespace: Option<String>,
    pub status: Option<AccountStatus>,
    /// Primary email, compared case-insensitively.
    pub email: Option<String>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

/// Which entitlements to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntitlementFilter {
    pub app: Option<String>,
    pub kind: Option<String>,
}

/// Which grants to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GrantFilter {
    pub app: Option<String>,
    /// Grants of this one account.
    pub account: Option<AccountKey>,
    /// Holders of this one entitlement.
    pub entitlement: Option<EntitlementKey>,
}

/// Which events to list, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// At or after this time.
    pub since: Option<OffsetDateTime>,
    /// With an id above this one (to follow the log).
    pub after_id: Option<i64>,
    pub app: Option<String>,
    /// Any of these kinds (empty: all).
    pub kinds: Vec<EventKind>,
    pub run_id: Option<RunId>,
    /// Events of this one account.
    pub account: Option<AccountKey>,
    pub limit: Option<u64>,
}

/// Which sync runs to list, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunFilter {
    pub app: Option<String>,
    pub tenant: Option<String>,
    /// Only the latest run of each (app, tenant).
    pub latest_only: bool,
    pub limit: Option<u64>,
}
