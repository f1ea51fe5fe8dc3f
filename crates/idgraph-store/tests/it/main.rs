//! Store story tests: each story is written once against `&dyn Store` and runs on SQLite (a
//! temporary file) always, and on PostgreSQL (a fresh schema) when `IDGRAPH_TEST_PG_URL` is
//! set.

// Test helpers outside #[test] functions may unwrap too (clippy.toml allows it in tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fixtures;
mod roster;
mod stories;

use idgraph_store::testing::TestStore;
use std::future::Future;

/// Runs `story` on a fresh SQLite store, then on a fresh PostgreSQL schema if configured.
pub async fn on_each_backend<F, Fut>(story: F)
where
    F: Fn(TestStore) -> Fut,
    Fut: Future<Output = TestStore>,
{
    let db = TestStore::sqlite().await.unwrap();
    story(db).await.cleanup().await.unwrap();
    match TestStore::postgres().await.unwrap() {
        Some(db) => story(db).await.cleanup().await.unwrap(),
        None => eprintln!(
            "{} not set: PostgreSQL variant not run",
            idgraph_store::testing::PG_URL_VAR
        ),
    }
}
