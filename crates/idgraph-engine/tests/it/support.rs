//! Helpers: a store per backend, an engine on a fixed clock, an observer that records, and a
//! dump of everything a store holds for comparing two stores.

use idgraph_core::diff::EventKind;
use idgraph_core::{AccountKey, EntitlementKey, FixedClock};
use idgraph_engine::{Progress, ProgressEvent, SyncEngine, SyncObserver};
use idgraph_store::testing::TestStore;
use idgraph_store::*;
use std::future::Future;
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

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
            testing::PG_URL_VAR
        ),
    }
}

pub fn engine(store: &Arc<dyn Store>, at: OffsetDateTime) -> SyncEngine {
    SyncEngine::new(store.clone(), Arc::new(FixedClock(at)))
}

/// Keeps every progress event.
#[derive(Default)]
pub struct Recorder(pub Mutex<Vec<Progress>>);

impl SyncObserver for Recorder {
    fn on_progress(&self, p: &Progress) {
        self.0.lock().unwrap().push(p.clone());
    }
}

impl Recorder {
    pub fn events(&self) -> Vec<ProgressEvent> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|p| p.event.clone())
            .collect()
    }
}

/// An event without its id (ids may legitimately differ: a rolled-back insert uses one up).
pub type EventRow = (
    OffsetDateTime,
    Option<RunId>,
    String,
    EventKind,
    Option<AccountKey>,
    Option<EntitlementKey>,
    serde_json::Value,
);

/// Everything a store holds.
#[derive(Debug, PartialEq)]
pub struct Dump {
    pub accounts: Vec<StoredAccount>,
    pub entitlements: Vec<StoredEntitlement>,
    pub grants: Vec<StoredGrant>,
    pub events: Vec<EventRow>,
    pub runs: Vec<SyncRun>,
    pub checkpoints: Vec<Checkpoint>,
    pub tenants: Vec<Tenant>,
}

pub async fn dump(s: &dyn Store) -> Dump {
    Dump {
        accounts: s.accounts(&AccountFilter::default()).await.unwrap(),
        entitlements: s.entitlements(&EntitlementFilter::default()).await.unwrap(),
        grants: s.grants(&GrantFilter::default()).await.unwrap(),
        events: s
            .events(&EventFilter::default())
            .await
            .unwrap()
            .into_iter()
            .map(|e| {
                (
                    e.at,
                    e.run_id,
                    e.tenant,
                    e.kind,
                    e.account,
                    e.entitlement,
                    e.details,
                )
            })
            .collect(),
        runs: s.runs(&RunFilter::default()).await.unwrap(),
        checkpoints: s.checkpoints(None, None).await.unwrap(),
        tenants: s.tenants().await.unwrap(),
    }
}

/// (kind, account id or entitlement id) of a run's events, in order.
pub async fn event_kinds(s: &dyn Store, run_id: RunId) -> Vec<(EventKind, String)> {
    s.events(&EventFilter {
        run_id: Some(run_id),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_iter()
    .map(|e| {
        let who = match (&e.account, &e.entitlement) {
            (Some(a), Some(en)) => format!(
                "{} {}→{} {}",
                a.namespace, a.native_id, en.kind, en.native_id
            ),
            (Some(a), None) => format!("{} {}", a.namespace, a.native_id),
            (None, Some(en)) => format!("{} {}", en.kind, en.native_id),
            (None, None) => String::new(),
        };
        (e.kind, who)
    })
    .collect()
}
