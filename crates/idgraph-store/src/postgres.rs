//! The PostgreSQL backend, for teams running several workers: the same tables as SQLite with
//! native types (`timestamptz`, `jsonb`, `boolean`) and a connection pool. Several apps may
//! sync at once; two workers must not sync the same app at the same time (the run is not
//! leased).

use crate::error::redact_url;
use crate::model::Backend;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::Connection;
use std::str::FromStr;
use std::time::Duration;

type Db = sqlx::Postgres;
type DbRow = PgRow;
type DbConn = PgConnection;
type This = PgStore;
const BACKEND: Backend = Backend::Postgres;

const CONNECTIONS: u32 = 8;
const ACQUIRE_WAIT: Duration = Duration::from_secs(120);

/// The store in a PostgreSQL database (or the first schema of its `search_path`).
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    location: String,
}

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host/db`, options such as
    /// `?options[search_path]=idgraph` allowed) and applies the migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let location = redact_url(url);
        let options = PgConnectOptions::from_str(url).map_err(|source| StoreError::Open {
            location: location.clone(),
            source,
        })?;
        // One connection first: an unreachable server or a wrong password fails at once
        // instead of after the pool's acquire timeout.
        let probe = PgConnection::connect_with(&options)
            .await
            .map_err(|source| StoreError::Open {
                location: location.clone(),
                source,
            })?;
        let _ = probe.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(CONNECTIONS)
            .acquire_timeout(ACQUIRE_WAIT)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                location: location.clone(),
                source,
            })?;
        sqlx::migrate!("migrations/postgres")
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                location: location.clone(),
                source,
            })?;
        Ok(Self { pool, location })
    }

    fn location(&self) -> String {
        self.location.clone()
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }
}

fn ts(t: OffsetDateTime) -> OffsetDateTime {
    micros(t)
}

fn ts_opt(t: Option<OffsetDateTime>) -> Option<OffsetDateTime> {
    t.map(micros)
}

fn get_ts(
    row: &DbRow,
    table: &'static str,
    column: &'static str,
) -> Result<OffsetDateTime, StoreError> {
    get(row, table, column)
}

fn get_ts_opt(
    row: &DbRow,
    table: &'static str,
    column: &'static str,
) -> Result<Option<OffsetDateTime>, StoreError> {
    get(row, table, column)
}

include!("shared.rs");

/// Roster versions, correlation decisions, reviews and the reads a review makes (migration
/// 0002), written once for both backends.
mod people_sql {
    include!("shared_people.rs");
}
