//! The store's stories, each run on every configured backend.

use crate::fixtures::*;
use crate::on_each_backend;
use idgraph_core::diff::EventKind;
use idgraph_core::{AccountStatus, Record};
use idgraph_store::testing::TestStore;
use idgraph_store::*;
use serde_json::json;
use time::macros::datetime;

async fn kinds(store: &dyn Store, run_id: RunId) -> Vec<(EventKind, Option<String>)> {
    store
        .events(&EventFilter {
            run_id: Some(run_id),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.account.map(|k| k.native_id)))
        .collect()
}

/// A full run listing `agents` (WithAccounts) in one page and finishing it successfully.
async fn sync_agents(
    store: &dyn Store,
    at: time::OffsetDateTime,
    records: Vec<Record>,
    complete: bool,
) -> RunId {
    let run = store
        .open_run(APP, TENANT, SyncMode::Full, at)
        .await
        .unwrap()
        .run;
    store
        .start_resource(run.id, "agents", None, at)
        .await
        .unwrap();
    store
        .commit_page(page(run.id, "agents", with_accounts(), records, None, at))
        .await
        .unwrap();
    store
        .finish_run(RunFinish {
            run_id: run.id,
            status: RunStatus::Succeeded,
            error: None,
            complete_namespaces: if complete {
                vec!["agent".into()]
            } else {
                vec![]
            },
            complete_kinds: vec![],
            at,
        })
        .await
        .unwrap();
    run.id
}

#[tokio::test]
async fn runs_resume_until_finished_and_a_full_sync_abandons_an_incremental_one() {
    on_each_backend(|db: TestStore| async move {
        let s = &*db.store;
        let first = s.open_run(APP, TENANT, SyncMode::Full, t(0)).await.unwrap();
        assert!(!first.resumed);
        assert_eq!(first.run.status, RunStatus::Running);
        assert_eq!(first.run.started_at, t(0));
        // An unfinished full run also serves an incremental request.
        let again = s
            .open_run(APP, TENANT, SyncMode::Incremental, t(1))
            .await
            .unwrap();
        assert!(again.resumed);
        assert_eq!(again.run.id, first.run.id);
        assert_eq!(again.run.mode, SyncMode::Full);
        // Another app's runs are its own.
        let other = s
            .open_run("helpscout", "acme", SyncMode::Full, t(1))
            .await
            .unwrap();
        assert!(!other.resumed);
        assert_ne!(other.run.id, first.run.id);

        let done = s
            .finish_run(RunFinish {
                run_id: first.run.id,
                status: RunStatus::Succeeded,
                error: None,
                complete_namespaces: vec![],
                complete_kinds: vec![],
                at: t(2),
            })
            .await
            .unwrap();
        assert_eq!(done.run.status, RunStatus::Succeeded);
        assert_eq!(done.run.finished_at, Some(t(2)));

        let incr = s
            .open_run(APP, TENANT, SyncMode::Incremental, t(3))
            .await
            .unwrap();
        assert!(!incr.resumed);
        let full = s.open_run(APP, TENANT, SyncMode::Full, t(4)).await.unwrap();
        assert!(!full.resumed);
        assert_eq!(full.abandoned, Some(incr.run.id));
        let abandoned = s.run(incr.run.id).await.unwrap();
        assert_eq!(abandoned.status, RunStatus::Interrupted);
        assert_eq!(abandoned.finished_at, Some(t(4)));
        assert!(abandoned.error.unwrap().contains("full sync"));

        // Interrupted on request: resumed by the next sync.
        let stopped = s.interrupt_run(full.run.id).await.unwrap();
        assert_eq!(stopped.status, RunStatus::Interrupted);
        let resumed = s.open_run(APP, TENANT, SyncMode::Full, t(5)).await.unwrap();
        assert!(resumed.resumed);
        assert_eq!(resumed.run.id, full.run.id);
        assert_eq!(resumed.run.status, RunStatus::Running);

        // Nothing is written to a finished run, nor to a resource it has not started.
        let err = s
            .commit_page(page(
                first.run.id,
                "agents",
                with_accounts(),
                vec![],
                None,
                t(6),
            ))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::RunFinished { .. }), "{err}");
        assert!(err.to_string().contains(&first.run.id.to_string()));
        let err = s
            .commit_page(page(
                full.run.id,
                "agents",
                with_accounts(),
                vec![],
                None,
                t(6),
            ))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotStarted { .. }), "{err}");
        assert!(err.to_string().contains("agents"), "{err}");
        assert!(matches!(
            s.run(9999).await.unwrap_err(),
            StoreError::UnknownRun { run_id: 9999 }
        ));

        let latest = s
            .runs(&RunFilter {
                latest_only: true,
                ..Default::default()
            })
            .await
            .unwrap();
        let ids: Vec<_> = latest.iter().map(|r| (r.app.as_str(), r.id)).collect();
        assert_eq!(ids, vec![(APP, full.run.id), ("helpscout", other.run.id)]);
        let all = s
            .runs(&RunFilter {
                app: Some(APP.into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(all.len(), 3);
        assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first");
        db
    })
    .await;
}

#[tokio::test]
async fn a_page_commits_its_records_events_and_cursor_together() {
    on_each_backend(|db: TestStore| async move {
        let s = &*db.store;
        let run = s
            .open_run(APP, TENANT, SyncMode::Full, t(0))
            .await
            .unwrap()
            .run;

        s.start_resource(run.id, "roles", None, t(0)).await.unwrap();
        let out = s
            .commit_page(page(
                run.id,
                "roles",
                GrantPolicy::Additive,
                vec![
                    Record::Entitlement(role(1, "Account Admin")),
                    Record::Entitlement(role(2, "Agent")),
                ],
                None,
                t(0),
            ))
            .await
            .unwrap();
        assert_eq!(out.events, 2);
        let cps = s.checkpoints(Some(APP), None).await.unwrap();
        assert_eq!(cps.len(), 1);
        assert_eq!(cps[0].status, ResourceStatus::Done);
        assert_eq!(cps[0].watermark, Some(run.started_at));
        assert!(cps[0].is_full());

        let cp = s
            .start_resource(run.id, "agents", None, t(1))
            .await
            .unwrap();
        assert_eq!(
            (cp.status, cp.pages, cp.cursor.clone()),
            (ResourceStatus::Running, 0, None)
        );
        let out = s
            .commit_page(page(
                run.id,
                "agents",
                with_accounts(),
                vec![
                    acc(agent(1, AccountStatus::Active)),
                    Record::Grant(grant(1, 1)),
                    acc(agent(2, AccountStatus::Pending)),
                    Record::Grant(grant(2, 2)),
                ],
                Some(json!({"page": 2})),
                t(1),
            ))
            .await
            .unwrap();
        assert_eq!(
            out,
            PageOutcome {
                events: 4,
                pages: 1,
                records: 4,
                requests: 1,
                revoked: 0
            }
        );
        // Starting it again in the same run keeps its cursor (a resume).
        let cp = s
            .start_resource(run.id, "agents", None, t(2))
            .await
            .unwrap();
        assert_eq!(cp.cursor, Some(json!({"page": 2})));
        assert_eq!(cp.status, ResourceStatus::Running);
        assert_eq!(cp.watermark, None);

        s.commit_page(page(
            run.id,
            "agents",
            with_accounts(),
            vec![acc(agent(3, AccountStatus::Active))],
            None,
            t(2),
        ))
        .await
        .unwrap();
        let cp = s
            .checkpoints(Some(APP), Some(TENANT))
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.resource == "agents")
            .unwrap();
        assert_eq!(
            (cp.status, cp.pages, cp.records),
            (ResourceStatus::Done, 2, 5)
        );
        assert_eq!(cp.cursor, None);

        assert_eq!(
            kinds(s, run.id).await,
            vec![
                (EventKind::EntitlementAppeared, None),
                (EventKind::EntitlementAppeared, None),
                (EventKind::AccountAppeared, Some("1".into())),
                (EventKind::AccountAppeared, Some("2".into())),
                (EventKind::EntitlementGranted, Some("1".into())),
                (EventKind::EntitlementGranted, Some("2".into())),
                (EventKind::AccountAppeared, Some("3".into())),
            ]
        );
        let run_now = s.run(run.id).await.unwrap();
        assert_eq!(
            (
                run_now.pages,
                run_now.records,
                run_now.requests,
                run_now.events
            ),
            (3, 7, 3, 7)
        );

        let accounts = s.accounts(&AccountFilter::default()).await.unwrap();
        assert_eq!(accounts.len(), 3);
        let a1 = &accounts[0];
        let mut expected = agent(1, AccountStatus::Active);
        expected.created_at = Some(datetime!(2023-01-01 00:00:00.123456 UTC));
        assert_eq!(
            a1.account, expected,
            "read back as written, times in microseconds"
        );
        assert_eq!(a1.listed_status, AccountStatus::Active);
        assert_eq!(a1.resource, "agents");
        assert_eq!((a1.first_seen_at, a1.last_seen_at), (t(1), t(1)));
        assert_eq!(a1.last_seen_run, run.id);
        assert_eq!(a1.missing_since, None);

        let by_email = s
            .accounts(&AccountFilter {
                email: Some(" AGENT2@acme.EXAMPLE ".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(by_email.len(), 1);
        assert_eq!(by_email[0].account.key, key(2));
        let pending = s
            .accounts(&AccountFilter {
                status: Some(AccountStatus::Pending),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(pending.len(), 1);
        let paged = s
            .accounts(&AccountFilter {
                limit: Some(1),
                offset: Some(1),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(paged.len(), 1);
        assert_eq!(paged[0].account.key, key(2));

        let ents = s.entitlements(&EntitlementFilter::default()).await.unwrap();
        assert_eq!(ents.len(), 2);
        assert!(ents[0].entitlement.privileged);
        let holders = s
            .grants(&GrantFilter {
                entitlement: Some(role_key(1)),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(holders.len(), 1);
        assert_eq!(holders[0].grant, grant(1, 1));
        assert_eq!(holders[0].resource, "agents");

        let tenants = s.tenants().await.unwrap();
        assert_eq!(tenants.len(), 1);
        assert_eq!(tenants[0].source, TENANT);
        assert_eq!(
            s.counts().await.unwrap(),
            Counts {
                tenants: 1,
                accounts: 3,
                entitlements: 2,
                grants: 2,
                events: 7,
                sync_runs: 1
            }
        );
        db
    })
    .await;
}

#[tokio::test]
async fn the_same_records_again_change_nothing_but_the_sighting() {
    on_each_backend(|db: TestStore| async move {
        let s = &*db.store;
        let records = || {
            vec![
                acc(agent(1, AccountStatus::Active)),
                Record::Grant(grant(1, 1)),
                // A duplicate within the page collapses.
                acc(agent(1, AccountStatus::Active)),
            ]
        };
        let r1 = sync_agents(s, t(0), records(), true).await;
        let r2 = sync_agents(s, t(5), records(), true).await;
        assert_eq!(kinds(s, r1).await.len(), 2);
        assert_eq!(kinds(s, r2).await, vec![]);
        let a = &s.accounts(&AccountFilter::default()).await.unwrap()[0];
        assert_eq!(
            (a.first_seen_at, a.last_seen_at, a.last_seen_run),
            (t(0), t(5), r2)
        );
        let g = &s.grants(&GrantFilter::default()).await.unwrap()[0];
        assert_eq!(
            (g.first_seen_at, g.last_seen_at, g.last_seen_run),
            (t(0), t(5), r2)
        );
        db
    })
    .await;
}

#[tokio::test]
async fn changes_and_status_transitions_become_events_with_old_and_new_values() {
    on_each_backend(|db: TestStore| async move {
        let s = &*db.store;
        sync_agents(
            s,
            t(0),
            vec![
                acc(agent(1, AccountStatus::Active)),
                Record::Grant(grant(1, 1)),
                acc(agent(2, AccountStatus::Pending)),
                Record::Grant(grant(2, 2)),
            ],
            true,
        )
        .await;
        let mut a1 = agent(1, AccountStatus::Inactive);
        a1.display_name = Some("Agent One".into());
        a1.attributes.insert("job_title".into(), json!("CFO"));
        let mut g2 = grant(2, 1);
        g2.attributes
            .insert("assignment_scope".into(), json!("all"));
        let r2 = sync_agents(
            s,
            t(5),
            vec![
                acc(a1),
                Record::Grant(grant(1, 1)),
                acc(agent(2, AccountStatus::Active)),
                Record::Grant(g2),
            ],
            true,
        )
        .await;
        let events = s
            .events(&EventFilter {
                run_id: Some(r2),
                ..Default::default()
            })
            .await
            .unwrap();
        let got: Vec<_> = events
            .iter()
            .map(|e| (e.kind, e.account.as_ref().unwrap().native_id.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (EventKind::AccountDeactivated, "1"),
                (EventKind::AccountChanged, "1"),
                (EventKind::AccountStatusChanged, "2"),
                (EventKind::EntitlementGranted, "2"),
                (EventKind::EntitlementRevoked, "2"),
            ]
        );
        assert_eq!(
            events[0].details,
            json!({"from": "active", "to": "inactive"})
        );
        assert_eq!(
            events[1].details["fields"],
            json!({
                "display_name": {"old": "Agent 1", "new": "Agent One"},
                "attributes.job_title": {"old": null, "new": "CFO"},
            })
        );
        assert_eq!(events[3].entitlement, Some(role_key(1)));
        assert_eq!(
            events[3].details["attributes"],
            json!({"assignment_scope": "all"})
        );
        assert_eq!(events[4].entitlement, Some(role_key(2)));
        assert_eq!(events[0].at, t(5));
        assert_eq!(events[0].run_id, Some(r2));

        let grants: Vec<_> = s
            .grants(&GrantFilter::default())
            .await
            .unwrap()
            .into_iter()
            .map(|g| (g.grant.account.native_id, g.grant.entitlement.native_id))
            .collect();
        assert_eq!(
            grants,
            vec![("1".to_string(), "1".to_string()), ("2".into(), "1".into())]
        );
        let a1 = s
            .accounts(&AccountFilter {
                status: Some(AccountStatus::Inactive),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(a1[0].account.attributes["job_title"], "CFO");
        db
    })
    .await;
}

#[tokio::test]
async fn grants_follow_an_account_from_one_listing_to_another() {
    on_each_backend(|db: TestStore| async move {
        let s = &*db.store;
        let both = || GrantPolicy::WithAccounts {
            resources: vec!["agents".into(), "agents_deactivated".into()],
        };
        let run = s
            .open_run(APP, TENANT, SyncMode::Full, t(0))
            .await
            .unwrap()
            .run;
        s.start_resource(run.id, "agents", None, t(0))
            .await
            .unwrap();
        s.commit_page(page(
            run.id,
            "agents",
            both(),
            vec![
                acc(agent(1, AccountStatus::Active)),
                Record::Grant(grant(1, 1)),
                Record::Grant(grant(1, 2)),
            ],
            None,
            t(0),
        ))
        .await
        .unwrap();
        // Deactivated: now listed by the other resource, with one role left.
        s.start_resource(run.id, "agents_deactivated", None, t(1))
            .await
            .unwrap();
        s.commit_page(page(
            run.id,
            "agents_deactivated",
            both(),
            vec![
                acc(agent(1, AccountStatus::Inactive)),
                Record::Grant(grant(1, 2)),
            ],
            None,
            t(1),
        ))
        .await
        .unwrap();
        let got: Vec<_> = kinds(s, run.id).await.into_iter().skip(3).collect();
        assert_eq!(
            got,
            vec![
                (EventKind::AccountDeactivated, Some("1".into())),
                (EventKind::EntitlementRevoked, Some("1".into())),
            ]
        );
        let g = s.grants(&GrantFilter::default()).await.unwrap();
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].grant, grant(1, 2));
        assert_eq!(g[0].resource, "agents_deactivated");
        db
    })
    .await;
}

#[tokio::test]
async fn memberships_not_listed_again_are_revoked_after_a_full_listing_only() {
    on_each_backend(|db: TestStore| async move {
        let s = &*db.store;
        let members = |run_id, records, since: Option<time::OffsetDateTime>, at| async move {
            s.start_resource(run_id, "members", since, at)
                .await
                .unwrap();
            s.commit_page(page(
                run_id,
                "members",
                GrantPolicy::Memberships,
                records,
                None,
                at,
            ))
            .await
            .unwrap()
        };
        let finish = |run_id, at| async move {
            s.finish_run(RunFinish {
                run_id,
                status: RunStatus::Succeeded,
                error: None,
                complete_namespaces: vec![],
                complete_kinds: vec![],
                at,
            })
            .await
            .unwrap()
        };
        let r1 = s
            .open_run(APP, TENANT, SyncMode::Full, t(0))
            .await
            .unwrap()
            .run
            .id;
        members(
            r1,
            vec![Record::Grant(grant(1, 5)), Record::Grant(grant(2, 5))],
            None,
            t(0),
        )
        .await;
        finish(r1, t(0)).await;

        // An incremental listing without member 2 revokes nothing.
        let r2 = s
            .open_run(APP, TENANT, SyncMode::Incremental, t(1))
            .await
            .unwrap()
            .run
            .id;
        let out = members(r2, vec![Record::Grant(grant(1, 5))], Some(t(0)), t(1)).await;
        assert_eq!(out.revoked, 0);
        finish(r2, t(1)).await;
        assert_eq!(s.grants(&GrantFilter::default()).await.unwrap().len(), 2);

        // A full one does.
        let r3 = s
            .open_run(APP, TENANT, SyncMode::Full, t(2))
            .await
            .unwrap()
            .run
            .id;
        let out = members(r3, vec![Record::Grant(grant(1, 5))], None, t(2)).await;
        assert_eq!((out.revoked, out.events), (1, 1));
        finish(r3, t(2)).await;
        assert_eq!(
            kinds(s, r3).await,
            vec![(EventKind::EntitlementRevoked, Some("2".into()))]
        );
        let left = s.grants(&GrantFilter::default()).await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].grant, grant(1, 5));
        db
    })
    .await;
}

#[tokio::test]
async fn vanished_accounts_become_tombstones_and_come_back_with_their_status() {
    on_each_backend(|db: TestStore| async move {
        let s = &*db.store;
        let all = || {
            vec![
                Record::Entitlement(role(1, "Agent")),
                Record::Entitlement(role(2, "Supervisor")),
                acc(agent(1, AccountStatus::Active)),
                acc(agent(2, AccountStatus::Active)),
                Record::Grant(grant(2, 2)),
            ]
        };
        sync_agents(s, t(0), all(), true).await;
        // Another app's accounts are not this connector's to tombstone.
        let hs = s
            .open_run("helpscout", "acme", SyncMode::Full, t(0))
            .await
            .unwrap()
            .run;
        s.start_resource(hs.id, "users", None, t(0)).await.unwrap();
        let mut u = agent(7, AccountStatus::Active);
        u.key.app = "helpscout".into();
        u.key.tenant = "acme".into();
        s.commit_page(page(
            hs.id,
            "users",
            GrantPolicy::Additive,
            vec![acc(u)],
            None,
            t(0),
        ))
        .await
        .unwrap();

        // Not listed by an incomplete run: nothing goes missing.
        let only_1 = || {
            vec![
                Record::Entitlement(role(1, "Agent")),
                acc(agent(1, AccountStatus::Active)),
            ]
        };
        let r = sync_agents(s, t(1), only_1(), false).await;
        assert_eq!(kinds(s, r).await, vec![]);

        // Listed completely without agent 2 and role 2.
        let run = s
            .open_run(APP, TENANT, SyncMode::Full, t(2))
            .await
            .unwrap()
            .run;
        s.start_resource(run.id, "agents", None, t(2))
            .await
            .unwrap();
        s.commit_page(page(
            run.id,
            "agents",
            with_accounts(),
            only_1(),
            None,
            t(2),
        ))
        .await
        .unwrap();
        let fin = s
            .finish_run(RunFinish {
                run_id: run.id,
                status: RunStatus::Succeeded,
                error: None,
                complete_namespaces: vec!["agent".into()],
                complete_kinds: vec!["role".into()],
                at: t(3),
            })
            .await
            .unwrap();
        assert_eq!((fin.accounts_missing, fin.entitlements_missing), (1, 1));
        assert_eq!(fin.run.events, 2);
        assert_eq!(
            kinds(s, run.id).await,
            vec![
                (EventKind::EntitlementWentMissing, None),
                (EventKind::AccountWentMissing, Some("2".into())),
            ]
        );
        let gone = s
            .accounts(&AccountFilter {
                status: Some(AccountStatus::Missing),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(gone.len(), 1);
        let gone = &gone[0];
        assert_eq!(gone.account.key, key(2));
        assert_eq!(gone.listed_status, AccountStatus::Active);
        assert_eq!(gone.missing_since, Some(t(3)));
        assert_eq!(
            gone.account.raw,
            agent(2, AccountStatus::Active).raw,
            "last record kept"
        );
        assert_eq!(
            s.grants(&GrantFilter::default()).await.unwrap().len(),
            1,
            "grants kept"
        );
        let ents = s.entitlements(&EntitlementFilter::default()).await.unwrap();
        assert_eq!(ents[1].missing_since, Some(t(3)));
        let hs_user = s
            .accounts(&AccountFilter {
                app: Some("helpscout".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(hs_user[0].account.status, AccountStatus::Active);

        // Missing again changes nothing; seen again, the real status comes back.
        let r = sync_agents(s, t(4), only_1(), true).await;
        assert_eq!(kinds(s, r).await, vec![]);
        let r = sync_agents(s, t(5), all(), true).await;
        assert_eq!(
            kinds(s, r).await,
            vec![
                (EventKind::EntitlementAppeared, None),
                (EventKind::AccountReactivated, Some("2".into())),
            ]
        );
        let back = s
            .accounts(&AccountFilter {
                email: Some("agent2@acme.example".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(back[0].account.status, AccountStatus::Active);
        assert_eq!(back[0].missing_since, None);
        let events = s
            .events(&EventFilter {
                run_id: Some(r),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(events[0].details["reappeared"], true);
        db
    })
    .await;
}

#[tokio::test]
async fn events_filter_by_time_app_kind_account_and_position() {
    on_each_backend(|db: TestStore| async move {
        let s = &*db.store;
        sync_agents(s, t(0), vec![acc(agent(1, AccountStatus::Active))], true).await;
        sync_agents(
            s,
            t(2),
            vec![
                acc(agent(1, AccountStatus::Inactive)),
                acc(agent(2, AccountStatus::Active)),
            ],
            true,
        )
        .await;
        let since = s
            .events(&EventFilter {
                since: Some(t(1)),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(since.len(), 2);
        assert!(since.iter().all(|e| e.at == t(2)));
        let deact = s
            .events(&EventFilter {
                kinds: vec![EventKind::AccountDeactivated, EventKind::AccountReactivated],
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(deact.len(), 1);
        assert_eq!(deact[0].account, Some(key(1)));
        let of_1 = s
            .events(&EventFilter {
                account: Some(key(1)),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(of_1.len(), 2);
        let after = s
            .events(&EventFilter {
                after_id: Some(of_1[0].id),
                limit: Some(1),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(after.len(), 1);
        assert!(after[0].id > of_1[0].id);
        let none = s
            .events(&EventFilter {
                app: Some("helpscout".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(none.is_empty());
        db
    })
    .await;
}

#[tokio::test]
async fn a_failed_resource_keeps_its_committed_pages_and_fails_the_run() {
    on_each_backend(|db: TestStore| async move {
        let s = &*db.store;
        let run = s
            .open_run(APP, TENANT, SyncMode::Full, t(0))
            .await
            .unwrap()
            .run;
        s.start_resource(run.id, "agents", None, t(0))
            .await
            .unwrap();
        s.commit_page(page(
            run.id,
            "agents",
            with_accounts(),
            vec![acc(agent(1, AccountStatus::Active))],
            Some(json!({"page": 2})),
            t(0),
        ))
        .await
        .unwrap();
        s.fail_resource(
            run.id,
            "agents",
            "freshservice: agents: unexpected response",
            t(1),
        )
        .await
        .unwrap();
        let cp = &s.checkpoints(Some(APP), None).await.unwrap()[0];
        assert_eq!(cp.status, ResourceStatus::Failed);
        assert_eq!(cp.cursor, Some(json!({"page": 2})));
        assert!(cp.error.as_deref().unwrap().contains("unexpected response"));
        assert_eq!(cp.watermark, None, "no watermark from a failed listing");
        let fin = s
            .finish_run(RunFinish {
                run_id: run.id,
                status: RunStatus::Failed,
                error: Some("agents failed".into()),
                complete_namespaces: vec![],
                complete_kinds: vec![],
                at: t(1),
            })
            .await
            .unwrap();
        assert_eq!(fin.run.status, RunStatus::Failed);
        assert_eq!(fin.run.error.as_deref(), Some("agents failed"));
        assert_eq!(
            s.accounts(&AccountFilter::default()).await.unwrap().len(),
            1
        );
        // A failed run is not resumed: the next sync starts afresh.
        let next = s
            .open_run(APP, TENANT, SyncMode::Incremental, t(2))
            .await
            .unwrap();
        assert!(!next.resumed);
        db
    })
    .await;
}

#[tokio::test]
async fn the_event_log_is_append_only() {
    use sqlx::Connection;
    on_each_backend(|db: TestStore| async move {
        sync_agents(
            &*db.store,
            t(0),
            vec![acc(agent(1, AccountStatus::Active))],
            true,
        )
        .await;
        let url = db.url();
        let (update, delete) = if let Some(path) = db.sqlite_path() {
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            let u = sqlx::query("UPDATE events SET kind = 'x'")
                .execute(&mut c)
                .await;
            let d = sqlx::query("DELETE FROM events").execute(&mut c).await;
            (u.map(|_| ()), d.map(|_| ()))
        } else {
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            let u = sqlx::query("UPDATE events SET kind = 'x'")
                .execute(&mut c)
                .await;
            let d = sqlx::query("DELETE FROM events").execute(&mut c).await;
            (u.map(|_| ()), d.map(|_| ()))
        };
        assert!(update.unwrap_err().to_string().contains("append-only"));
        assert!(delete.unwrap_err().to_string().contains("append-only"));
        assert_eq!(db.store.counts().await.unwrap().events, 1);
        db
    })
    .await;
}

#[tokio::test]
async fn urls_open_sqlite_files_and_name_what_they_reject_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested.db");
    let store = idgraph_store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    assert!(path.exists());
    assert!(store.location().contains("nested.db"));
    store.close().await;
    // Reopening applies no migration twice.
    let again = idgraph_store::open(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    assert_eq!(again.counts().await.unwrap(), Counts::default());

    let err = idgraph_store::open("mysql://admin:hunter2@db/idgraph")
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("mysql://admin@db/idgraph"), "{msg}");
    assert!(!msg.contains("hunter2"), "{msg}");
    let err = idgraph_store::open("postgres://idgraph:hunter2@127.0.0.1:1/none")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err}");
    assert!(!format!("{err} {err:?}").contains("hunter2"), "{err:?}");
}
