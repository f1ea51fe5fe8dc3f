//! The sync engine: fetch → diff → commit per resource, with checkpoints so a killed sync
//! resumes where it stopped, watermarks for incremental syncs, and change events.
//!
//! [`SyncEngine`] drives [`idgraph_connectors::Connector`]s into an
//! [`idgraph_store::Store`]: each page a connector returns is committed with its cursor in one
//! transaction (the store diffs it against what it holds and writes the change events), so a
//! sync killed at any point resumes from the store with no duplicate and no lost record.
//! Accounts that vanish from a complete listing become tombstones (`missing`), never dropped.
//! Several apps sync concurrently ([`SyncEngine::sync_all`]), each paced by its own
//! connector's rate budget; progress goes to a [`SyncObserver`]. Time comes from an injected
//! [`idgraph_core::Clock`]. Design: `docs/design/003-store-and-sync.md`.

pub mod error;
pub mod observer;
pub mod sync;

pub use error::{error_chain, SyncError};
pub use observer::{NoProgress, Progress, ProgressEvent, SyncObserver};
pub use sync::{
    AppOutcome, Cancel, ResourceOutcome, ResourceReport, RunReport, SyncEngine, SyncOptions,
};
