//! Sync stories against the fake connector, on every configured backend.

use crate::fake::{FakeConnector, Fault, FaultKind};
use crate::scenario::*;
use crate::support::*;
use idgraph_core::diff::EventKind::*;
use idgraph_core::AccountStatus;
use idgraph_engine::*;
use idgraph_store::testing::TestStore;
use idgraph_store::*;
use std::sync::Arc;

const APP: &str = "freshservice";

fn s(x: &str) -> String {
    x.to_string()
}

#[tokio::test]
async fn full_then_incremental_then_full_sync_record_every_change_once() {
    on_each_backend(|db: TestStore| async move {
        let store = db.store.clone();
        let fake = FakeConnector::new(APP, TENANT, dataset(APP, 1));

        let r1 = engine(&store, T1)
            .sync(&fake, SyncMode::Incremental)
            .await
            .unwrap();
        assert!(r1.succeeded(), "{:?}", r1.errors);
        assert!(!r1.resumed);
        // No watermark yet: even an incremental request lists everything.
        assert!(fake.log().iter().all(|(_, _, since)| since.is_none()));
        assert!(r1
            .resources
            .iter()
            .all(|r| r.full && r.outcome == ResourceOutcome::Done));
        let c = store.counts().await.unwrap();
        assert_eq!((c.accounts, c.entitlements, c.grants), (17, 5, 17));
        assert_eq!(c.events, 17 + 5 + 17);
        assert_eq!(r1.run.events, c.events);
        let pages: u64 = r1.resources.iter().map(|r| r.pages).sum();
        assert_eq!(r1.run.pages, pages);
        assert_eq!(pages, 2 + 5 + 1 + 3 + 3);
        assert_eq!(r1.run.requests, fake.fetches());
        for cp in store.checkpoints(Some(APP), Some(TENANT)).await.unwrap() {
            assert_eq!(cp.watermark, Some(T1), "{}", cp.resource);
            assert_eq!(cp.status, ResourceStatus::Done);
        }

        fake.set_resources(dataset(APP, 2));
        let before = fake.log().len();
        let r2 = engine(&store, T2)
            .sync(&fake, SyncMode::Incremental)
            .await
            .unwrap();
        assert!(r2.succeeded(), "{:?}", r2.errors);
        let since = T1 - time::Duration::minutes(5);
        for (res, _, s) in &fake.log()[before..] {
            let incremental = res.starts_with("agents");
            assert_eq!(*s, incremental.then_some(since), "{res}");
        }
        assert_eq!(
            event_kinds(&*store, r2.run.id).await,
            vec![
                (AccountChanged, s("agent 3")),
                (EntitlementGranted, s("agent 4→role 1")),
                (EntitlementRevoked, s("agent 4→role 2")),
                (AccountReactivated, s("agent 11")),
                (EntitlementGranted, s("agent 8→role 2")),
                (EntitlementRevoked, s("agent 8→role 3")),
                (AccountAppeared, s("agent 13")),
                (EntitlementGranted, s("agent 13→role 2")),
                (AccountDeactivated, s("agent 2")),
                (EntitlementGranted, s("agent 2→role 2")),
                (EntitlementRevoked, s("agent 2→role 3")),
                (EntitlementGranted, s("agent 6→team 1")),
                (EntitlementRevoked, s("agent 1→team 1")),
                (AccountAppeared, s("requester 6")),
                (EntitlementWentMissing, s("role 3")),
                (AccountWentMissing, s("requester 2")),
            ]
        );
        // Agent 5 vanished, but the agents were listed incrementally: not yet missing.
        assert_eq!((r2.accounts_missing, r2.entitlements_missing), (1, 1));
        let agent5 = store
            .accounts(&AccountFilter {
                email: Some("AGENT5@acme.example".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(agent5[0].account.status, AccountStatus::Active);

        let r3 = engine(&store, T3)
            .sync(&fake, SyncMode::Full)
            .await
            .unwrap();
        assert!(r3.succeeded());
        assert!(fake.log().iter().rev().take(5).all(|(_, _, s)| s.is_none()));
        assert_eq!(
            event_kinds(&*store, r3.run.id).await,
            vec![(AccountWentMissing, s("agent 5"))]
        );
        let agent5 = &store
            .accounts(&AccountFilter {
                email: Some("agent5@acme.example".into()),
                ..Default::default()
            })
            .await
            .unwrap()[0];
        assert_eq!(agent5.account.status, AccountStatus::Missing);
        assert_eq!(agent5.listed_status, AccountStatus::Active);
        assert_eq!(agent5.missing_since, Some(T3));
        assert_eq!(agent5.account.display_name.as_deref(), Some("Agent 5"));
        db
    })
    .await;
}

#[tokio::test]
async fn a_malformed_page_fails_its_resource_and_keeps_what_was_committed() {
    on_each_backend(|db: TestStore| async move {
        let store = db.store.clone();
        let fake = FakeConnector::new(APP, TENANT, dataset(APP, 1));
        fake.add_fault(Fault {
            resource: "agents".into(),
            page: 1,
            kind: FaultKind::Malformed,
            times: 1,
        });
        let rec = Arc::new(Recorder::default());
        let report = engine(&store, T1)
            .with_observer(rec.clone())
            .sync(&fake, SyncMode::Full)
            .await
            .unwrap();
        assert_eq!(report.run.status, RunStatus::Failed);
        assert_eq!(report.errors.len(), 1);
        let text = error_chain(&report.errors[0]);
        assert!(
            text.contains("freshservice (acme.example.com): resource `agents` failed after 1 committed page(s)")
                && text.contains("unexpected response")
                && text.contains("is not an array"),
            "{text}"
        );
        assert_eq!(report.run.error.as_deref(), Some(text.as_str()));
        let outcomes: Vec<_> = report
            .resources
            .iter()
            .map(|r| (r.name.as_str(), r.outcome.clone()))
            .collect();
        assert_eq!(
            outcomes,
            vec![
                ("roles", ResourceOutcome::Done),
                ("agents", ResourceOutcome::Failed),
                ("agents_deactivated", ResourceOutcome::Done),
                ("teams", ResourceOutcome::Done),
                ("requesters", ResourceOutcome::Done),
            ]
        );
        assert!(rec.events().iter().any(|e| matches!(e, ProgressEvent::ResourceFailed { resource, .. } if resource == "agents")));
        // The first page of agents stays, as do the other resources; no agent went missing
        // on an incomplete listing.
        let agents = store
            .accounts(&AccountFilter {
                namespace: Some("agent".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(agents.len(), 2 + 2, "page 1 of agents and the deactivated ones");
        assert!(agents.iter().all(|a| a.account.status != AccountStatus::Missing));
        let cp = store
            .checkpoints(Some(APP), None)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.resource == "agents")
            .unwrap();
        assert_eq!((cp.status, cp.pages, cp.watermark), (ResourceStatus::Failed, 1, None));
        assert!(cp.error.unwrap().contains("is not an array"));

        // The next sync starts afresh and completes.
        let again = engine(&store, T2).sync(&fake, SyncMode::Full).await.unwrap();
        assert!(again.succeeded());
        assert!(!again.resumed);
        assert_eq!(store.counts().await.unwrap().accounts, 17);
        db
    })
    .await;
}

#[tokio::test]
async fn a_bad_page_in_a_later_sync_leaves_the_earlier_data_intact() {
    on_each_backend(|db: TestStore| async move {
        let store = db.store.clone();
        let fake = FakeConnector::new(APP, TENANT, dataset(APP, 1));
        engine(&store, T1)
            .sync(&fake, SyncMode::Full)
            .await
            .unwrap();
        let before = dump(&*store).await;
        fake.set_resources(dataset(APP, 2));
        fake.add_fault(Fault {
            resource: "roles".into(),
            page: 0,
            kind: FaultKind::Malformed,
            times: 1,
        });
        fake.add_fault(Fault {
            resource: "agents".into(),
            page: 0,
            kind: FaultKind::Malformed,
            times: 1,
        });
        fake.add_fault(Fault {
            resource: "agents_deactivated".into(),
            page: 0,
            kind: FaultKind::Malformed,
            times: 1,
        });
        fake.add_fault(Fault {
            resource: "teams".into(),
            page: 0,
            kind: FaultKind::Malformed,
            times: 1,
        });
        fake.add_fault(Fault {
            resource: "requesters".into(),
            page: 0,
            kind: FaultKind::Malformed,
            times: 1,
        });
        let r = engine(&store, T2)
            .sync(&fake, SyncMode::Full)
            .await
            .unwrap();
        assert_eq!(r.errors.len(), 5);
        assert_eq!((r.accounts_missing, r.entitlements_missing), (0, 0));
        let after = dump(&*store).await;
        assert_eq!(after.accounts, before.accounts);
        assert_eq!(after.grants, before.grants);
        assert_eq!(after.entitlements, before.entitlements);
        assert_eq!(after.events, before.events);
        db
    })
    .await;
}

#[tokio::test]
async fn retriable_page_errors_are_retried_a_few_times() {
    let db = TestStore::sqlite().await.unwrap();
    let store = db.store.clone();
    let fake = FakeConnector::new(APP, TENANT, dataset(APP, 1));
    fake.add_fault(Fault {
        resource: "agents".into(),
        page: 2,
        kind: FaultKind::Unavailable,
        times: 2,
    });
    let rec = Arc::new(Recorder::default());
    let r = engine(&store, T1)
        .with_observer(rec.clone())
        .sync(&fake, SyncMode::Full)
        .await
        .unwrap();
    assert!(r.succeeded(), "{:?}", r.errors);
    let retries: Vec<_> = rec
        .events()
        .into_iter()
        .filter_map(|e| match e {
            ProgressEvent::PageRetried { attempt, error, .. } => Some((attempt, error)),
            _ => None,
        })
        .collect();
    assert_eq!(retries.len(), 2);
    assert!(retries[0].1.contains("503"), "{}", retries[0].1);

    fake.add_fault(Fault {
        resource: "teams".into(),
        page: 0,
        kind: FaultKind::Unavailable,
        times: 3,
    });
    let r = engine(&store, T2)
        .sync(&fake, SyncMode::Full)
        .await
        .unwrap();
    assert_eq!(r.run.status, RunStatus::Failed);
    let text = error_chain(&r.errors[0]);
    assert!(text.contains("`teams`") && text.contains("503"), "{text}");
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_record_of_another_app_breaks_the_contract_of_its_resource() {
    let db = TestStore::sqlite().await.unwrap();
    let store = db.store.clone();
    let mut data = dataset(APP, 1);
    data[4]
        .records
        .extend(dataset("freshdesk", 1)[4].records.clone());
    let fake = FakeConnector::new(APP, TENANT, data);
    let r = engine(&store, T1)
        .sync(&fake, SyncMode::Full)
        .await
        .unwrap();
    assert_eq!(r.errors.len(), 1);
    assert!(
        matches!(&r.errors[0], SyncError::Contract { resource, .. } if resource == "requesters")
    );
    assert!(r.errors[0]
        .to_string()
        .contains("record of app `freshdesk`"));
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_killed_sync_resumes_its_run_fetching_only_the_page_in_flight_again() {
    on_each_backend(|db: TestStore| async move {
        let fake = FakeConnector::new(APP, TENANT, dataset(APP, 1));
        // Uninterrupted: how many fetches a full sync takes.
        let reference = TestStore::sqlite().await.unwrap();
        engine(&reference.store, T1)
            .sync(&fake, SyncMode::Full)
            .await
            .unwrap();
        let fetches = fake.fetches();
        let expected = dump(&*reference.store).await;
        reference.cleanup().await.unwrap();

        let fake = FakeConnector::new(APP, TENANT, dataset(APP, 1));
        fake.hang_at(Some(7));
        let store = db.store.clone();
        let eng = engine(&store, T1);
        tokio::select! {
            r = eng.sync(&fake, SyncMode::Full) => panic!("finished despite the hang: {r:?}"),
            _ = fake.hung.notified() => {}
        }
        let run = &store.runs(&RunFilter::default()).await.unwrap()[0];
        assert_eq!(run.status, RunStatus::Running);
        assert_eq!(run.pages, 6);
        // A new process: a new store handle, a new engine.
        store.close().await;
        let store = db.reopen().await.unwrap();
        let rec = Arc::new(Recorder::default());
        let r = engine(&store, T1)
            .with_observer(rec.clone())
            .sync(&fake, SyncMode::Full)
            .await
            .unwrap();
        assert!(r.resumed && r.succeeded());
        assert_eq!(r.run.id, run.id);
        assert_eq!(
            fake.fetches(),
            fetches + 1,
            "only the page in flight is fetched again"
        );
        assert!(rec.events().iter().any(
            |e| matches!(e, ProgressEvent::ResourceSkipped { resource } if resource == "roles")
        ));
        assert_eq!(dump(&*store).await, expected);
        store.close().await;
        db
    })
    .await;
}

#[tokio::test]
async fn a_cancelled_sync_is_marked_interrupted_and_resumed_next_time() {
    on_each_backend(|db: TestStore| async move {
        let store = db.store.clone();
        let fake = FakeConnector::new(APP, TENANT, dataset(APP, 1));
        struct CancelOnAgents(Cancel);
        impl SyncObserver for CancelOnAgents {
            fn on_progress(&self, p: &Progress) {
                if matches!(&p.event, ProgressEvent::PageCommitted { resource, .. } if resource == "agents")
                {
                    self.0.cancel();
                }
            }
        }
        let cancel = Cancel::new();
        let err = engine(&store, T1)
            .with_observer(Arc::new(CancelOnAgents(cancel.clone())))
            .sync_with_cancel(&fake, SyncMode::Full, &cancel)
            .await
            .unwrap_err();
        let SyncError::Interrupted { run_id, .. } = err else {
            panic!("{err}")
        };
        assert!(err.to_string().contains("resumes run"), "{err}");
        let run = store.run(run_id).await.unwrap();
        assert_eq!((run.status, run.finished_at), (RunStatus::Interrupted, None));
        let r = engine(&store, T1).sync(&fake, SyncMode::Full).await.unwrap();
        assert!(r.resumed && r.succeeded());
        assert_eq!(r.run.id, run_id);
        assert_eq!(store.counts().await.unwrap().accounts, 17);
        db
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_apps_sync_at_once_into_one_store() {
    on_each_backend(|db: TestStore| async move {
        let store = db.store.clone();
        let apps = ["freshservice", "freshdesk", "helpscout"];
        // Each app's first fetch waits until all three are fetching: serialised apps would
        // never get past it.
        let gate = Arc::new(tokio::sync::Barrier::new(apps.len()));
        let connectors: Vec<Arc<dyn idgraph_connectors::Connector>> = apps
            .iter()
            .map(|app| {
                let f = FakeConnector::new(app, TENANT, dataset(app, 1));
                f.gate(gate.clone());
                Arc::new(f) as Arc<dyn idgraph_connectors::Connector>
            })
            .collect();
        let outcomes = tokio::time::timeout(
            std::time::Duration::from_secs(120),
            engine(&store, T1).sync_all(connectors, SyncMode::Full, &Cancel::new()),
        )
        .await
        .expect("apps did not sync concurrently (deadlock guard)");
        let got: Vec<_> = outcomes
            .iter()
            .map(|o| {
                (
                    o.app.as_str(),
                    o.result.as_ref().map(|r| r.succeeded()).unwrap_or(false),
                )
            })
            .collect();
        assert_eq!(got, vec![(apps[0], true), (apps[1], true), (apps[2], true)]);
        assert_eq!(store.counts().await.unwrap().accounts, 3 * 17);
        let latest = store
            .runs(&RunFilter {
                latest_only: true,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(latest.len(), 3);
        db
    })
    .await;
}
