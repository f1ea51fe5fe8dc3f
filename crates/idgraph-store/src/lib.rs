//! The identity graph store: the [`Store`] trait and its SQLite (default) and PostgreSQL
//! backends, with migrations for both.
//!
//! The store keeps what the sync engine reads out of the apps — tenants, accounts (with
//! tombstones for those that vanished), entitlements, grants — plus the sync runs, the
//! per-resource checkpoints and an append-only event log. Its unit of writing is the page:
//! [`Store::commit_page`] writes a page's records, the events their diff against the stored
//! rows yields (`idgraph_core::diff`) and the resource's next cursor in one transaction, so a
//! sync killed at any point resumes with no duplicate and no lost record. The tables are
//! documented for plain SQL in `docs/schema.md`; the design in
//! `docs/design/003-store-and-sync.md`.
//!
//! Open a store with [`open`] (`sqlite://PATH` or `postgres://…`). The store never reads the
//! clock: every write takes its time from the caller.

pub mod error;
pub mod model;
pub mod people;
mod plan;
pub mod postgres;
pub mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;

use async_trait::async_trait;
use std::path::Path;
use std::sync::Arc;
use time::OffsetDateTime;

pub use error::{redact_url, StoreError};
pub use model::*;
pub use people::{
    DecisionFilter, LastSync, ReviewData, ReviewDataError, ReviewRecord, RosterImport,
    RosterVersionId, StoredDecision, StoredRosterVersion,
};
pub use plan::micros;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Where the sync engine keeps what it read, and what the command line queries.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    fn backend(&self) -> Backend;

    /// Where the store is (a path, or a URL without its password).
    fn location(&self) -> String;

    /// Closes the connections (pending work finishes first).
    async fn close(&self);

    // --- Sync runs -------------------------------------------------------------------------

    /// Starts a sync run of `app`'s connector tenant, or resumes its unfinished one (same id,
    /// its checkpoints stand) — unless `mode` is full and the unfinished run incremental: that
    /// one is abandoned (`interrupted`, finished) and a fresh full run starts.
    async fn open_run(
        &self,
        app: &str,
        tenant: &str,
        mode: SyncMode,
        at: OffsetDateTime,
    ) -> Result<OpenedRun, StoreError>;

    /// Starts `resource` in the run, listing since `since` (`None`: in full). If the resource
    /// already started in this run, returns its checkpoint unchanged (resume from its cursor).
    async fn start_resource(
        &self,
        run_id: RunId,
        resource: &str,
        since: Option<OffsetDateTime>,
        at: OffsetDateTime,
    ) -> Result<Checkpoint, StoreError>;

    /// Writes one page in one transaction: its accounts, entitlements and grants (upserted by
    /// key, diffed against the stored rows), their events, the resource's next cursor (or
    /// `done`, with the watermark), and the run's counters. At the end of a full
    /// [`GrantPolicy::Memberships`] listing, also revokes the resource's grants not seen in
    /// the run.
    async fn commit_page(&self, page: PageCommit) -> Result<PageOutcome, StoreError>;

    /// Records that `resource` failed in the run (its committed pages stay).
    async fn fail_resource(
        &self,
        run_id: RunId,
        resource: &str,
        error: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Marks an unfinished run `interrupted` (stopped on request); the next sync resumes it.
    async fn interrupt_run(&self, run_id: RunId) -> Result<SyncRun, StoreError>;

    /// Ends a run in one transaction: accounts of the completely listed namespaces (and
    /// entitlements of the completely listed kinds) that the run did not see become missing,
    /// with their events; the run gets its status, error and finish time.
    async fn finish_run(&self, finish: RunFinish) -> Result<FinishOutcome, StoreError>;

    // --- Queries ---------------------------------------------------------------------------

    async fn run(&self, run_id: RunId) -> Result<SyncRun, StoreError>;

    /// Sync runs, newest first.
    async fn runs(&self, filter: &RunFilter) -> Result<Vec<SyncRun>, StoreError>;

    /// Checkpoints (one per app, connector tenant and resource), by app, tenant, resource.
    async fn checkpoints(
        &self,
        app: Option<&str>,
        tenant: Option<&str>,
    ) -> Result<Vec<Checkpoint>, StoreError>;

    async fn accounts(&self, filter: &AccountFilter) -> Result<Vec<StoredAccount>, StoreError>;

    async fn entitlements(
        &self,
        filter: &EntitlementFilter,
    ) -> Result<Vec<StoredEntitlement>, StoreError>;

    async fn grants(&self, filter: &GrantFilter) -> Result<Vec<StoredGrant>, StoreError>;

    /// Events, oldest first.
    async fn events(&self, filter: &EventFilter) -> Result<Vec<StoredEvent>, StoreError>;

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError>;

    async fn counts(&self) -> Result<Counts, StoreError>;

    // --- Source of truth, correlation decisions, reviews (migration 0002) ------------------
    // Implemented once in `src/shared_people.rs`; the values are in [`people`].

    /// Makes `roster` (validated) the current roster in **one** transaction: a new version
    /// row and its people; the people of versions older than the previous one are dropped.
    /// A failure anywhere leaves the previous roster as it was. When the people hash the same
    /// as the current version's, nothing is written (`unchanged`).
    async fn import_roster(
        &self,
        roster: &idgraph_core::Roster,
        by: &str,
        at: OffsetDateTime,
    ) -> Result<RosterImport, StoreError>;

    /// The current roster (the newest version) with its people, revalidated against its
    /// hash; `None` before the first import.
    async fn current_roster(
        &self,
    ) -> Result<Option<(StoredRosterVersion, idgraph_core::Roster)>, StoreError>;

    /// Roster versions, newest first.
    async fn roster_versions(
        &self,
        limit: Option<u64>,
    ) -> Result<Vec<StoredRosterVersion>, StoreError>;

    /// The people of a version, in roster order (`None`: no such version, or its people
    /// are no longer kept — only the current and the previous version keep them).
    async fn roster_people(
        &self,
        version: RosterVersionId,
    ) -> Result<Option<Vec<idgraph_core::Person>>, StoreError>;

    /// Records a correlation decision (`idgraph correlate link|reject|service`).
    async fn record_decision(
        &self,
        decision: &idgraph_core::Decision,
    ) -> Result<StoredDecision, StoreError>;

    /// Withdraws the newest decision in force on `account` (all of them with `all`);
    /// returns what was withdrawn (empty: there was none).
    async fn withdraw_decisions(
        &self,
        account: &idgraph_core::AccountKey,
        all: bool,
        by: &str,
        at: OffsetDateTime,
    ) -> Result<Vec<StoredDecision>, StoreError>;

    /// Decisions, oldest first.
    async fn decisions(&self, filter: &DecisionFilter) -> Result<Vec<StoredDecision>, StoreError>;

    /// Every account (of `app`) as reconciliation reads it: no `raw`, streamed from the
    /// database row by row.
    async fn review_accounts(
        &self,
        app: Option<&str>,
    ) -> Result<Vec<idgraph_core::Account>, StoreError>;

    /// The privileged entitlements (of `app`) and the grants of them.
    async fn privileged_grants(
        &self,
        app: Option<&str>,
    ) -> Result<(Vec<idgraph_core::Entitlement>, Vec<idgraph_core::Grant>), StoreError>;

    /// Per app and connector tenant: the end of the newest succeeded run and the newest run.
    async fn last_syncs(&self) -> Result<Vec<LastSync>, StoreError>;

    /// Accounts with this native id, in any app (to resolve `idgraph correlate ACCOUNT`).
    async fn accounts_with_id(&self, native_id: &str) -> Result<Vec<StoredAccount>, StoreError>;

    /// Records a review's summary; returns its id. Only the newest
    /// [`people::REVIEWS_WITH_FINDINGS`] reviews keep their finding ids.
    async fn record_review(&self, review: &ReviewRecord) -> Result<i64, StoreError>;

    /// The newest recorded review of `scope` (an app, or `None`: all apps).
    async fn last_review(&self, scope: Option<&str>) -> Result<Option<ReviewRecord>, StoreError>;
}

/// Opens the store at `url`: `sqlite://PATH` (`sqlite:PATH`; a bare path ending in `.db`,
/// `.sqlite` or `.sqlite3` also works) or `postgres://…` / `postgresql://…`. Creates the SQLite
/// file if needed and applies the migrations either way.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        if path.is_empty() {
            return Err(StoreError::UnsupportedUrl {
                url: url.to_string(),
            });
        }
        return Ok(Arc::new(SqliteStore::open(Path::new(path)).await?));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Arc::new(PgStore::connect(url).await?));
    }
    if !url.contains("://")
        && [".db", ".sqlite", ".sqlite3"]
            .iter()
            .any(|ext| url.ends_with(ext))
    {
        return Ok(Arc::new(SqliteStore::open(Path::new(url)).await?));
    }
    Err(StoreError::UnsupportedUrl {
        url: redact_url(url),
    })
}
