//! The sync engine's error type. A resource failure names the app, its tenant, the resource
//! and how many pages were already committed, and keeps the connector's error as its cause;
//! a store failure keeps the store's.

use idgraph_connectors::ConnectorError;
use idgraph_store::{RunId, StoreError};

/// Why a sync (or one resource of it) did not complete.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The connector could not read a page (after the page-level retries).
    #[error("{app} ({tenant}): resource `{resource}` failed after {pages} committed page(s)")]
    Resource {
        app: String,
        tenant: String,
        resource: String,
        pages: u64,
        #[source]
        source: ConnectorError,
    },
    /// The connector broke its contract (design 002): a record of another app, a cursor that
    /// does not move.
    #[error("{app} ({tenant}): resource `{resource}`: {detail}")]
    Contract {
        app: String,
        tenant: String,
        resource: String,
        detail: String,
    },
    /// The store failed; the run stays unfinished and the next sync resumes it.
    #[error("{app} ({tenant}): the store failed during the sync")]
    Store {
        app: String,
        tenant: String,
        #[source]
        source: StoreError,
    },
    /// Stopped on request between pages; the next sync resumes the run.
    #[error("{app} ({tenant}): sync interrupted; the next sync resumes run {run_id}")]
    Interrupted {
        app: String,
        tenant: String,
        run_id: RunId,
    },
    /// The task running the app's sync panicked or was cancelled.
    #[error("{app} ({tenant}): sync task ended abnormally")]
    Task {
        app: String,
        tenant: String,
        #[source]
        source: tokio::task::JoinError,
    },
}

impl SyncError {
    /// The app the error concerns.
    pub fn app(&self) -> &str {
        match self {
            SyncError::Resource { app, .. }
            | SyncError::Contract { app, .. }
            | SyncError::Store { app, .. }
            | SyncError::Interrupted { app, .. }
            | SyncError::Task { app, .. } => app,
        }
    }
}

/// The error with its causes, `: `-separated, as stored in a run's or checkpoint's `error`
/// column (never contains secrets: errors carry none).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resource_error_names_app_tenant_resource_and_cause() {
        let e = SyncError::Resource {
            app: "freshservice".into(),
            tenant: "acme.freshservice.com".into(),
            resource: "agents".into(),
            pages: 2,
            source: ConnectorError::Decode {
                app: "freshservice",
                resource: "agents".into(),
                detail: "`agents` is not an array".into(),
            },
        };
        assert_eq!(
            error_chain(&e),
            "freshservice (acme.freshservice.com): resource `agents` failed after 2 committed \
             page(s): freshservice: agents: unexpected response: `agents` is not an array"
        );
        assert_eq!(e.app(), "freshservice");
    }
}
