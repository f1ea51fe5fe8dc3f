//! The store's error type: what failed (opening, migrating, which operation on which app and
//! resource, which column held what) with the database error kept as the cause. Store URLs
//! are shown without their password.

/// Why the store could not do something.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no backend this build knows.
    #[error("store URL `{url}`: expected sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl { url: String },
    /// The database could not be opened or connected to.
    #[error("cannot open the store at {location}")]
    Open {
        location: String,
        #[source]
        source: sqlx::Error,
    },
    /// The migrations could not be applied (a database from a newer idgraph?).
    #[error("cannot migrate the store at {location}")]
    Migrate {
        location: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// A statement failed; `op` says which and for what (app, resource, run).
    #[error("store: {op}")]
    Query {
        op: String,
        #[source]
        source: sqlx::Error,
    },
    /// A column could not be read as the type the store expects.
    #[error("store: {table}.{column}: cannot read the column")]
    Decode {
        table: &'static str,
        column: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// A column holds a value the store cannot read back (edited by hand?).
    #[error("store: {table}.{column}: unreadable value: {detail}")]
    Corrupt {
        table: &'static str,
        column: &'static str,
        detail: String,
    },
    /// No sync run with this id.
    #[error("store: no sync run {run_id}")]
    UnknownRun { run_id: i64 },
    /// The run is over (succeeded, failed or abandoned): nothing more is written to it.
    #[error("store: sync run {run_id} is already finished ({status})")]
    RunFinished { run_id: i64, status: &'static str },
    /// A page was committed for a resource the run has not started (or already finished).
    #[error("store: sync run {run_id}: resource `{resource}` is not in progress")]
    NotStarted { run_id: i64, resource: String },
    /// A task reading from the store failed (panicked or was cancelled).
    #[error("store: {op}: the reading task failed")]
    Task {
        op: String,
        #[source]
        source: tokio::task::JoinError,
    },
    /// The stored people of a roster version do not validate or do not match its hash
    /// (edited by hand?).
    #[error("store: roster version {version_id} cannot be read back")]
    InvalidRoster {
        version_id: i64,
        #[source]
        source: idgraph_core::RosterImportError,
    },
}

impl StoreError {
    /// Whether trying again may succeed (a busy or unreachable database).
    pub fn is_retriable(&self) -> bool {
        match self {
            StoreError::Query { source, .. } | StoreError::Open { source, .. } => matches!(
                source,
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed
            ),
            _ => false,
        }
    }
}

/// A `map_err` for a failed statement: `.map_err(query_err(|| format!("load accounts of {app}")))`.
pub(crate) fn query_err<F: FnOnce() -> String>(op: F) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { op: op(), source }
}

/// The URL without its password, to name a store in messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{user}@{host}")
        }
        None => authority.to_string(),
    };
    // Query parameters may carry a password too (`?password=`): drop them.
    let tail = tail.split('?').next().unwrap_or("");
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_passwords() {
        assert_eq!(
            redact_url("postgres://idgraph:s3cret@db.example:5432/idgraph?sslmode=require"),
            "postgres://idgraph@db.example:5432/idgraph"
        );
        assert_eq!(
            redact_url("postgres://db.example/idgraph?password=s3cret"),
            "postgres://db.example/idgraph"
        );
        assert_eq!(
            redact_url("sqlite:///var/lib/idgraph.db"),
            "sqlite:///var/lib/idgraph.db"
        );
        assert_eq!(redact_url("idgraph.db"), "idgraph.db");
    }
}
