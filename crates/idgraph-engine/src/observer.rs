//! Progress of a sync as it happens, for progress bars and logs: the engine tells an observer
//! when a run starts, each page it commits (with totals so far), each resource it finishes
//! or fails, and how the run ends. No drawing here: the command line implements the trait.

use idgraph_store::{RunId, SyncMode, SyncRun};
use time::OffsetDateTime;

/// One step of one app's sync.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    pub app: String,
    /// The connector's tenant.
    pub tenant: String,
    pub run_id: RunId,
    pub event: ProgressEvent,
}

/// What happened.
#[derive(Clone, Debug, PartialEq)]
pub enum ProgressEvent {
    RunStarted {
        mode: SyncMode,
        /// An unfinished run picked up again.
        resumed: bool,
        /// The connector's resources, in the order they are fetched.
        resources: Vec<String>,
    },
    /// A resource starts (or continues from its checkpoint: `pages_before` > 0).
    ResourceStarted {
        resource: String,
        /// `None`: a full listing.
        since: Option<OffsetDateTime>,
        pages_before: u64,
    },
    /// The resource already completed in this (resumed) run.
    ResourceSkipped {
        resource: String,
    },
    PageCommitted {
        resource: String,
        /// Records in this page, HTTP requests it took, events it produced.
        records: u64,
        requests: u64,
        events: u64,
        /// The cursor of the next page (`None`: the resource is done).
        next: Option<serde_json::Value>,
        /// The resource's totals in this run so far.
        pages_total: u64,
        records_total: u64,
        requests_total: u64,
    },
    /// A page failed with a retriable error and is fetched again.
    PageRetried {
        resource: String,
        attempt: u32,
        error: String,
    },
    ResourceDone {
        resource: String,
        pages: u64,
        records: u64,
        requests: u64,
    },
    ResourceFailed {
        resource: String,
        error: String,
    },
    RunFinished {
        run: SyncRun,
        accounts_missing: u64,
        entitlements_missing: u64,
    },
    RunInterrupted,
}

/// Receives progress; called from the syncing task, so keep it quick.
pub trait SyncObserver: Send + Sync {
    fn on_progress(&self, progress: &Progress);
}

/// Ignores progress.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl SyncObserver for NoProgress {
    fn on_progress(&self, _: &Progress) {}
}
