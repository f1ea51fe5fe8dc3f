//! The SQLite backend: one file, zero set-up, the default. WAL journal (readers never block
//! the writer), `synchronous = NORMAL` (a killed process loses nothing committed; a power cut
//! may lose the last commits), a busy timeout, and one writer connection so that several apps
//! syncing at once queue for the write lock instead of failing with "database is locked".
//! Reads use their own small pool.
//!
//! Times are stored as fixed-width UTC text (`2024-01-10T10:00:00.000000Z`) so that text order
//! is time order in `WHERE at >= …`; JSON columns hold JSON text.

use crate::error::redact_url;
use crate::model::Backend;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use std::path::{Path, PathBuf};
use std::time::Duration;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{PrimitiveDateTime, UtcOffset};

type Db = sqlx::Sqlite;
type DbRow = SqliteRow;
type DbConn = SqliteConnection;
type This = SqliteStore;
const BACKEND: Backend = Backend::Sqlite;

/// How long a writer waits for the single write connection (other apps' page commits) and
/// SQLite waits on a lock held by another process.
const WRITE_WAIT: Duration = Duration::from_secs(600);
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);
const READERS: u32 = 4;

/// The store in a SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    write: SqlitePool,
    read: SqlitePool,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and applies the migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let location = path.display().to_string();
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("temp_store", "memory")
            .pragma("cache_size", "-32768");
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(WRITE_WAIT)
            .connect_with(options.clone())
            .await
            .map_err(|source| StoreError::Open {
                location: location.clone(),
                source,
            })?;
        sqlx::migrate!("migrations/sqlite")
            .run(&write)
            .await
            .map_err(|source| StoreError::Migrate {
                location: location.clone(),
                source,
            })?;
        let read = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                location: location.clone(),
                source,
            })?;
        Ok(Self {
            write,
            read,
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn location(&self) -> String {
        redact_url(&format!("sqlite://{}", self.path.display()))
    }

    fn writer(&self) -> &SqlitePool {
        &self.write
    }

    fn reader(&self) -> &SqlitePool {
        &self.read
    }
}

const TS_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

fn ts(t: OffsetDateTime) -> String {
    let t = micros(t).to_offset(UtcOffset::UTC);
    t.format(TS_FORMAT).unwrap_or_else(|_| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    })
}

fn ts_opt(t: Option<OffsetDateTime>) -> Option<String> {
    t.map(ts)
}

fn parse_ts(s: &str) -> Option<OffsetDateTime> {
    PrimitiveDateTime::parse(s, TS_FORMAT)
        .map(PrimitiveDateTime::assume_utc)
        .or_else(|_| OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339))
        .ok()
}

fn get_ts_opt(
    row: &DbRow,
    table: &'static str,
    column: &'static str,
) -> Result<Option<OffsetDateTime>, StoreError> {
    let s: Option<String> = get(row, table, column)?;
    s.map(|s| {
        parse_ts(&s).ok_or_else(|| StoreError::Corrupt {
            table,
            column,
            detail: format!("`{s}` is not a UTC time like 2024-01-10T10:00:00.000000Z"),
        })
    })
    .transpose()
}

fn get_ts(
    row: &DbRow,
    table: &'static str,
    column: &'static str,
) -> Result<OffsetDateTime, StoreError> {
    get_ts_opt(row, table, column)?.ok_or(StoreError::Corrupt {
        table,
        column,
        detail: "NULL where a time is required".to_string(),
    })
}

include!("shared.rs");

/// Roster versions, correlation decisions, reviews and the reads a review makes (migration
/// 0002), written once for both backends.
mod people_sql {
    include!("shared_people.rs");
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn times_are_fixed_width_utc_text_that_sorts_and_round_trips() {
        let a = datetime!(2024-01-10 12:00:00.5 +02:00);
        let b = datetime!(2024-01-10 10:00:00.123456789 UTC);
        assert_eq!(ts(a), "2024-01-10T10:00:00.500000Z");
        assert_eq!(ts(b), "2024-01-10T10:00:00.123456Z");
        assert!(ts(b) < ts(a));
        assert_eq!(parse_ts(&ts(a)), Some(a));
        assert_eq!(
            parse_ts("2024-01-10T10:00:00Z"),
            Some(datetime!(2024-01-10 10:00 UTC))
        );
        assert_eq!(parse_ts("yesterday"), None);
    }
}
