//! Test support (feature `testing`): a fresh, empty store per test — a temporary SQLite file,
//! or a fresh schema in the PostgreSQL database named by `IDGRAPH_TEST_PG_URL` — so that the
//! same story tests run on both backends, in parallel, and clean up after themselves.

use crate::{PgStore, SqliteStore, Store, StoreError};
use sqlx::Connection;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The variable naming the PostgreSQL database the tests may use.
pub const PG_URL_VAR: &str = "IDGRAPH_TEST_PG_URL";

static SCHEMAS: AtomicU64 = AtomicU64::new(0);

#[derive(Debug)]
enum Where {
    Sqlite {
        _dir: tempfile::TempDir,
        path: PathBuf,
    },
    Postgres {
        admin_url: String,
        url: String,
        schema: String,
    },
}

/// A store of its own for one test.
#[derive(Debug)]
pub struct TestStore {
    pub store: Arc<dyn Store>,
    at: Where,
}

impl TestStore {
    /// A new SQLite file in a temporary directory.
    pub async fn sqlite() -> Result<Self, StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Open {
            location: "a temporary directory".into(),
            source: sqlx::Error::Io(e),
        })?;
        let path = dir.path().join("idgraph.db");
        let store = Arc::new(SqliteStore::open(&path).await?);
        Ok(Self {
            store,
            at: Where::Sqlite { _dir: dir, path },
        })
    }

    /// A new schema in the database `IDGRAPH_TEST_PG_URL` names; `None` when it is not set.
    pub async fn postgres() -> Result<Option<Self>, StoreError> {
        let Ok(admin_url) = std::env::var(PG_URL_VAR) else {
            return Ok(None);
        };
        let schema = format!(
            "idgraph_test_{}_{}",
            std::process::id(),
            SCHEMAS.fetch_add(1, Ordering::Relaxed)
        );
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .map_err(|source| StoreError::Open {
                location: crate::redact_url(&admin_url),
                source,
            })?;
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .execute(&mut conn)
            .await
            .map_err(crate::error::query_err(|| format!("drop schema {schema}")))?;
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut conn)
            .await
            .map_err(crate::error::query_err(|| {
                format!("create schema {schema}")
            }))?;
        let _ = conn.close().await;
        let sep = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{sep}options[search_path]={schema}");
        let store = Arc::new(PgStore::connect(&url).await?);
        Ok(Some(Self {
            store,
            at: Where::Postgres {
                admin_url,
                url,
                schema,
            },
        }))
    }

    /// A second, independent handle on the same database (a new process, as it were).
    pub async fn reopen(&self) -> Result<Arc<dyn Store>, StoreError> {
        Ok(match &self.at {
            Where::Sqlite { path, .. } => Arc::new(SqliteStore::open(path).await?),
            Where::Postgres { url, .. } => Arc::new(PgStore::connect(url).await?),
        })
    }

    /// The SQLite file, if that is the backend.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &self.at {
            Where::Sqlite { path, .. } => Some(path),
            Where::Postgres { .. } => None,
        }
    }

    /// A URL for raw SQL on this store (the PostgreSQL one selects the test's schema).
    pub fn url(&self) -> String {
        match &self.at {
            Where::Sqlite { path, .. } => format!("sqlite://{}", path.display()),
            Where::Postgres { url, .. } => url.clone(),
        }
    }

    /// Closes the store and removes its file or schema.
    pub async fn cleanup(self) -> Result<(), StoreError> {
        self.store.close().await;
        if let Where::Postgres {
            admin_url, schema, ..
        } = &self.at
        {
            let mut conn = sqlx::PgConnection::connect(admin_url)
                .await
                .map_err(|source| StoreError::Open {
                    location: crate::redact_url(admin_url),
                    source,
                })?;
            sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(&mut conn)
                .await
                .map_err(crate::error::query_err(|| format!("drop schema {schema}")))?;
            let _ = conn.close().await;
        }
        Ok(())
    }
}
