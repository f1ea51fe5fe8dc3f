//! Stories of migration 0002 on every configured backend: roster versions (all-or-nothing
//! imports, the previous people kept, exact read-back), correlation decisions, what a review
//! loads, and recorded reviews.

use crate::fixtures::*;
use crate::on_each_backend;
use idgraph_core::review::ReviewTotals;
use idgraph_core::roster::{build, parse_csv, parse_json};
use idgraph_core::{
    AccountStatus, AppSync, Decision, Entitlement, HrStatus, Person, Record, Roster, Verdict,
};
use idgraph_store::testing::TestStore;
use idgraph_store::*;
use time::macros::date;

fn person(i: usize, status: HrStatus) -> Person {
    Person {
        employee_id: format!("E{i:04}"),
        email: format!("person{i}@acme.example"),
        alternate_emails: if i % 3 == 0 {
            vec![format!("p{i}@acme.io"), format!("old{i}@acme.example")]
        } else {
            vec![]
        },
        first_name: format!("First{i}"),
        last_name: format!("Last{i}"),
        department: (i % 2 == 0).then(|| "Engineering".to_string()),
        title: Some(format!("Title {i}")),
        manager_id: (i > 1).then(|| "E0001".to_string()),
        status,
        hire_date: Some(date!(2020 - 01 - 01)),
        status_date: (status == HrStatus::Terminated).then_some(date!(2026 - 05 - 01)),
    }
}

fn roster(n: usize, terminated: &[usize]) -> Roster {
    let people = (1..=n)
        .map(|i| {
            person(
                i,
                if terminated.contains(&i) {
                    HrStatus::Terminated
                } else {
                    HrStatus::Active
                },
            )
        })
        .collect();
    Roster::new("hr.csv", people).unwrap()
}

/// Two sources, CSV and JSON, checked together.
fn two_sources() -> Roster {
    let csv = "employee_id,email,first_name,last_name,status,hire_date\n\
               E1,ana@acme.example,Ana,Lima,active,2021-02-03\n\
               E2,bo@acme.example,Bo,Berg,on leave,\n";
    let json = r#"[{"employee_id": "C1", "email": "cy@contractors.example", "manager_id": "E1",
                   "status": "terminated", "status_date": "2026-04-30",
                   "alternate_emails": ["cy@acme.example"]}]"#;
    build(vec![
        parse_csv("hr.csv", csv.as_bytes()).unwrap(),
        parse_json("contractors.json", json.as_bytes()).unwrap(),
    ])
    .unwrap()
}

#[tokio::test]
async fn roster_versions_read_back_exactly_and_keep_the_previous_people() {
    on_each_backend(|db: TestStore| async move {
        let s = &*db.store;
        assert!(s.current_roster().await.unwrap().is_none());
        assert!(s.roster_versions(None).await.unwrap().is_empty());

        let first = two_sources();
        let imported = s.import_roster(&first, "alice", t(0)).await.unwrap();
        assert!(!imported.unchanged);
        assert!(imported.previous.is_none());
        let v1 = imported.version;
        assert_eq!(&v1.version, first.version());
        assert_eq!(v1.imported_by, "alice");
        assert_eq!(v1.imported_at, t(0));
        assert!(v1.people_kept);
        let (cur, back) = s.current_roster().await.unwrap().unwrap();
        assert_eq!(cur, v1);
        assert_eq!(
            back, first,
            "people, order, dates and sources read back exactly"
        );
        assert_eq!(back.version().sources.len(), 2);

        // The same people again: nothing written.
        let again = s.import_roster(&first, "bob", t(1)).await.unwrap();
        assert!(again.unchanged);
        assert_eq!(again.version.id, v1.id);
        assert_eq!(s.roster_versions(None).await.unwrap().len(), 1);

        let second = roster(5, &[2]);
        let v2 = s.import_roster(&second, "bob", t(2)).await.unwrap();
        assert!(!v2.unchanged);
        assert_eq!(v2.previous.as_ref().map(|p| p.id), Some(v1.id));
        let v2 = v2.version;
        assert!(v2.id > v1.id);
        assert_eq!(s.current_roster().await.unwrap().unwrap().1, second);
        assert_eq!(
            s.roster_people(v1.id).await.unwrap().unwrap(),
            first.people().to_vec(),
            "the previous version's people are kept"
        );

        let third = roster(6, &[2, 6]);
        let v3 = s
            .import_roster(&third, "carol", t(3))
            .await
            .unwrap()
            .version;
        let versions = s.roster_versions(None).await.unwrap();
        let ids: Vec<_> = versions.iter().map(|v| v.id).collect();
        assert_eq!(ids, vec![v3.id, v2.id, v1.id], "newest first, all kept");
        let kept: Vec<_> = versions.iter().map(|v| v.people_kept).collect();
        assert_eq!(kept, vec![true, true, false]);
        assert_eq!(s.roster_people(v1.id).await.unwrap(), None);
        assert_eq!(
            s.roster_people(v2.id).await.unwrap().unwrap(),
            second.people().to_vec()
        );
        assert_eq!(s.roster_versions(Some(1)).await.unwrap()[0].id, v3.id);
        assert_eq!(s.roster_people(9_999).await.unwrap(), None);
        db
    })
    .await;
}

/// A trigger that fails the insert of one person: a failure in the middle of the import,
/// after earlier statements of the same transaction wrote people.
async fn fail_inserting(db: &TestStore, employee_id: &str) {
    use sqlx::Connection;
    if let Some(path) = db.sqlite_path() {
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        sqlx::query(&format!(
            "CREATE TRIGGER inject_failure BEFORE INSERT ON people \
             WHEN NEW.employee_id = '{employee_id}' \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        ))
        .execute(&mut c)
        .await
        .unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url()).await.unwrap();
        sqlx::query(&format!(
            "CREATE FUNCTION inject_failure() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN IF NEW.employee_id = '{employee_id}' THEN \
             RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END; $$"
        ))
        .execute(&mut c)
        .await
        .unwrap();
        sqlx::query(
            "CREATE TRIGGER inject_failure BEFORE INSERT ON people \
             FOR EACH ROW EXECUTE FUNCTION inject_failure()",
        )
        .execute(&mut c)
        .await
        .unwrap();
    }
}

async fn stop_failing(db: &TestStore) {
    use sqlx::Connection;
    if let Some(path) = db.sqlite_path() {
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        sqlx::query("DROP TRIGGER inject_failure")
            .execute(&mut c)
            .await
            .unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url()).await.unwrap();
        sqlx::query("DROP TRIGGER inject_failure ON people")
            .execute(&mut c)
            .await
            .unwrap();
    }
}

async fn people_rows(db: &TestStore) -> i64 {
    use sqlx::{Connection, Row};
    if let Some(path) = db.sqlite_path() {
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        sqlx::query("SELECT count(*) AS n FROM people")
            .fetch_one(&mut c)
            .await
            .unwrap()
            .get("n")
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url()).await.unwrap();
        sqlx::query("SELECT count(*) AS n FROM people")
            .fetch_one(&mut c)
            .await
            .unwrap()
            .get("n")
    }
}

#[tokio::test]
async fn a_failure_in_the_middle_of_an_import_leaves_the_previous_roster_as_it_was() {
    on_each_backend(|db: TestStore| async move {
        let s = &*db.store;
        let before = roster(250, &[7]);
        let v1 = s
            .import_roster(&before, "alice", t(0))
            .await
            .unwrap()
            .version;
        assert_eq!(people_rows(&db).await, 250);

        // The new roster is written 200 people per statement: the failure strikes in the
        // second statement, after the version row and 200 people were written.
        let after = roster(400, &[7, 8, 300]);
        fail_inserting(&db, "E0300").await;
        let err = s.import_roster(&after, "bob", t(1)).await.unwrap_err();
        assert!(
            format!("{err:?}").contains("injected failure"),
            "the cause is kept: {err:?}"
        );
        assert!(err.to_string().contains("roster version"), "{err}");
        let (cur, people) = s.current_roster().await.unwrap().unwrap();
        assert_eq!(cur, v1, "the previous version is still current");
        assert_eq!(people, before, "and its people are all there, unchanged");
        assert_eq!(s.roster_versions(None).await.unwrap().len(), 1);
        assert_eq!(people_rows(&db).await, 250, "no half-written people left");

        stop_failing(&db).await;
        let v2 = s.import_roster(&after, "bob", t(2)).await.unwrap();
        assert!(!v2.unchanged);
        assert_eq!(s.current_roster().await.unwrap().unwrap().1, after);
        assert_eq!(people_rows(&db).await, 250 + 400);
        db
    })
    .await;
}

fn decision(id: u32, verdict: Verdict, hour: u8) -> Decision {
    Decision {
        account: key(id),
        verdict,
        decided_by: "alice".into(),
        decided_at: t(hour),
        note: Some(format!("note {id}")),
    }
}

#[tokio::test]
async fn decisions_are_recorded_withdrawn_newest_first_and_kept_with_their_history() {
    on_each_backend(|db: TestStore| async move {
        let s = &*db.store;
        let link = decision(
            1,
            Verdict::Link {
                employee_id: "E0001".into(),
            },
            1,
        );
        let reject = decision(
            1,
            Verdict::Reject {
                employee_id: "E0002".into(),
            },
            2,
        );
        let service = Decision {
            note: None,
            ..decision(2, Verdict::ServiceAccount, 3)
        };
        let stored = s.record_decision(&link).await.unwrap();
        assert_eq!(stored.decision, link);
        assert_eq!(stored.withdrawn_at, None);
        s.record_decision(&reject).await.unwrap();
        s.record_decision(&service).await.unwrap();
        let all = s.decisions(&DecisionFilter::default()).await.unwrap();
        let got: Vec<_> = all.iter().map(|d| d.decision.clone()).collect();
        assert_eq!(got, vec![link.clone(), reject.clone(), service.clone()]);

        // Undo takes back the newest decision in force on the account.
        let undone = s
            .withdraw_decisions(&key(1), false, "bob", t(4))
            .await
            .unwrap();
        assert_eq!(undone.len(), 1);
        assert_eq!(undone[0].decision, reject);
        assert_eq!(undone[0].withdrawn_by.as_deref(), Some("bob"));
        assert_eq!(undone[0].withdrawn_at, Some(t(4)));
        let of_one = s
            .decisions(&DecisionFilter {
                account: Some(key(1)),
                ..DecisionFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(of_one.len(), 1);
        assert_eq!(of_one[0].decision, link);
        let history = s
            .decisions(&DecisionFilter {
                account: Some(key(1)),
                include_withdrawn: true,
                ..DecisionFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(history.len(), 2, "withdrawn decisions stay as history");

        let rest = s
            .withdraw_decisions(&key(2), true, "bob", t(5))
            .await
            .unwrap();
        assert_eq!(rest.len(), 1);
        assert!(s
            .withdraw_decisions(&key(2), true, "bob", t(6))
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            s.decisions(&DecisionFilter {
                app: Some("helpscout".into()),
                ..DecisionFilter::default()
            })
            .await
            .unwrap(),
            vec![]
        );
        db
    })
    .await;
}

/// One full run of `agents` with roles, at `hour`, ending with `status`.
async fn sync_with_roles(s: &dyn Store, hour: u8, status: RunStatus) -> RunId {
    let run = s
        .open_run(APP, TENANT, SyncMode::Full, t(hour))
        .await
        .unwrap()
        .run;
    s.start_resource(run.id, "agents", None, t(hour))
        .await
        .unwrap();
    let mut a1 = agent(1, AccountStatus::Active);
    a1.last_login_at = Some(t(0));
    s.commit_page(page(
        run.id,
        "agents",
        with_accounts(),
        vec![
            Record::Entitlement(role(10, "Account Admin")),
            Record::Entitlement(role(11, "Agent")),
            acc(a1),
            acc(agent(2, AccountStatus::Inactive)),
            Record::Grant(grant(1, 10)),
            Record::Grant(grant(1, 11)),
            Record::Grant(grant(2, 11)),
        ],
        None,
        t(hour),
    ))
    .await
    .unwrap();
    s.finish_run(RunFinish {
        run_id: run.id,
        status,
        error: None,
        complete_namespaces: vec!["agent".into()],
        complete_kinds: vec![],
        at: t(hour + 1),
    })
    .await
    .unwrap();
    run.id
}

#[tokio::test]
async fn a_review_loads_the_roster_accounts_privileged_grants_decisions_and_sync_times() {
    on_each_backend(|db: TestStore| async move {
        let s = &*db.store;
        sync_with_roles(s, 0, RunStatus::Succeeded).await;
        let err = ReviewData::load(s, None).await.unwrap_err();
        assert!(matches!(err, ReviewDataError::NoRoster { .. }), "{err}");
        assert!(err.to_string().contains("idgraph roster import"), "{err}");

        s.import_roster(&roster(3, &[]), "alice", t(0))
            .await
            .unwrap();
        s.record_decision(&decision(2, Verdict::ServiceAccount, 1))
            .await
            .unwrap();
        let withdrawn = decision(
            1,
            Verdict::Reject {
                employee_id: "E0001".into(),
            },
            1,
        );
        s.record_decision(&withdrawn).await.unwrap();
        s.withdraw_decisions(&key(1), false, "bob", t(2))
            .await
            .unwrap();
        // A later failed run does not count as a sync.
        sync_with_roles(s, 5, RunStatus::Failed).await;

        let data = ReviewData::load(s, None).await.unwrap();
        assert_eq!(data.roster.len(), 3);
        assert_eq!(data.accounts.len(), 2);
        let a1 = &data.accounts[0];
        assert_eq!(a1.key, key(1));
        assert_eq!(a1.raw, serde_json::Value::Null, "raw is not loaded");
        assert_eq!(a1.last_login_at, Some(t(0)));
        assert_eq!(a1.updated_at, agent(1, AccountStatus::Active).updated_at);
        assert_eq!(
            data.entitlements
                .iter()
                .map(|e: &Entitlement| e.key.clone())
                .collect::<Vec<_>>(),
            vec![role_key(10)],
            "only privileged entitlements"
        );
        assert_eq!(data.grants.len(), 1);
        assert_eq!(data.grants[0].account, key(1));
        assert_eq!(
            data.decisions.len(),
            1,
            "withdrawn decisions are not applied"
        );
        assert_eq!(data.decisions[0].verdict, Verdict::ServiceAccount);
        assert_eq!(
            data.syncs,
            vec![AppSync {
                app: APP.into(),
                tenant: TENANT.into(),
                last_synced_at: Some(t(1)),
            }]
        );
        let last = s.last_syncs().await.unwrap();
        assert_eq!(last.len(), 1);
        assert_eq!(last[0].latest_status, RunStatus::Failed);
        assert_eq!(last[0].latest_started_at, t(5));

        let other = ReviewData::load(s, Some("helpscout")).await.unwrap();
        assert!(other.accounts.is_empty() && other.grants.is_empty() && other.syncs.is_empty());

        // Another app: every app's accounts, in app then key order.
        let run = s
            .open_run("freshbooks", "owner", SyncMode::Full, t(6))
            .await
            .unwrap()
            .run;
        s.start_resource(run.id, "members", None, t(6))
            .await
            .unwrap();
        let member = |id: &str| {
            let mut a = agent(1, AccountStatus::Active);
            a.key.app = "freshbooks".into();
            a.key.tenant = "77001".into();
            a.key.namespace = "member".into();
            a.key.native_id = id.into();
            acc(a)
        };
        s.commit_page(page(
            run.id,
            "members",
            GrantPolicy::Additive,
            vec![member("9"), member("10")],
            None,
            t(6),
        ))
        .await
        .unwrap();
        let all = ReviewData::load(s, None).await.unwrap();
        let keys: Vec<(String, String)> = all
            .accounts
            .iter()
            .map(|a| (a.key.app.clone(), a.key.native_id.clone()))
            .collect();
        let want: Vec<(String, String)> = [
            ("freshbooks", "10"),
            ("freshbooks", "9"),
            ("freshservice", "1"),
            ("freshservice", "2"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(keys, want);
        assert_eq!(
            s.review_accounts(Some("freshbooks")).await.unwrap().len(),
            2
        );
        // The run is unfinished: FreshBooks has no successful sync yet.
        let fb: Vec<_> = all.syncs.iter().filter(|x| x.app == "freshbooks").collect();
        assert_eq!(fb.len(), 1);
        assert_eq!(
            (fb[0].tenant.as_str(), fb[0].last_synced_at),
            ("77001", None)
        );

        let found = s.accounts_with_id("2").await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].account.key, key(2));
        db
    })
    .await;
}

#[test]
fn record_tenants_get_the_time_of_the_connector_tenant_that_reads_them() {
    let now = t(3);
    let run = |app: &str, tenant: &str, at: Option<time::OffsetDateTime>| LastSync {
        app: app.into(),
        tenant: tenant.into(),
        succeeded_at: at,
        latest_status: RunStatus::Succeeded,
        latest_started_at: now,
    };
    let tenant = |app: &str, tenant: &str, source: &str| Tenant {
        app: app.into(),
        tenant: tenant.into(),
        source: source.into(),
        first_seen_at: now,
        last_seen_at: now,
    };
    let syncs = idgraph_store::people::sync_times(
        &[
            run("freshbooks", "owner@acme.example", Some(t(1))),
            run("helpscout", "acme", None),
        ],
        &[
            tenant("freshbooks", "111", "owner@acme.example"),
            tenant("freshbooks", "222", "owner@acme.example"),
        ],
        None,
    );
    let got: Vec<_> = syncs
        .iter()
        .map(|s| (s.app.as_str(), s.tenant.as_str(), s.last_synced_at))
        .collect();
    assert_eq!(
        got,
        vec![
            ("freshbooks", "111", Some(t(1))),
            ("freshbooks", "222", Some(t(1))),
            ("helpscout", "acme", None),
        ]
    );
}

fn review(i: u8, scope: Option<&str>) -> ReviewRecord {
    ReviewRecord {
        id: 0,
        generated_at: t(i),
        scope: scope.map(str::to_string),
        roster_version: 1,
        roster_hash: "abc".into(),
        syncs: vec![AppSync {
            app: APP.into(),
            tenant: TENANT.into(),
            last_synced_at: Some(t(0)),
        }],
        totals: ReviewTotals {
            findings: usize::from(i),
            ..ReviewTotals::default()
        },
        apps: vec![],
        findings: Some(vec![format!("orphan_account:{APP}:{TENANT}:agent:{i}")]),
    }
}

#[tokio::test]
async fn reviews_are_recorded_and_only_the_newest_keep_their_finding_ids() {
    on_each_backend(|db: TestStore| async move {
        let s = &*db.store;
        assert_eq!(s.last_review(None).await.unwrap(), None);
        let mut first_id = 0;
        for i in 0..22u8 {
            let id = s.record_review(&review(i, None)).await.unwrap();
            if i == 0 {
                first_id = id;
            }
        }
        s.record_review(&review(22, Some("freshservice")))
            .await
            .unwrap();
        let last = s.last_review(None).await.unwrap().unwrap();
        let want = review(21, None);
        assert_eq!(
            ReviewRecord {
                id: last.id,
                ..want
            },
            last,
            "read back exactly"
        );
        assert!(last.id >= first_id + 21);
        let scoped = s.last_review(Some("freshservice")).await.unwrap().unwrap();
        assert_eq!(scoped.totals.findings, 22);
        assert_eq!(s.last_review(Some("helpscout")).await.unwrap(), None);
        // The oldest lost their finding ids (20 kept).
        use sqlx::{Connection, Row};
        let with_ids: i64 = if let Some(path) = db.sqlite_path() {
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            sqlx::query("SELECT count(*) AS n FROM reviews WHERE findings IS NOT NULL")
                .fetch_one(&mut c)
                .await
                .unwrap()
                .get("n")
        } else {
            let mut c = sqlx::PgConnection::connect(&db.url()).await.unwrap();
            sqlx::query("SELECT count(*) AS n FROM reviews WHERE findings IS NOT NULL")
                .fetch_one(&mut c)
                .await
                .unwrap()
                .get("n")
        };
        assert_eq!(with_ids, idgraph_store::people::REVIEWS_WITH_FINDINGS);
        db
    })
    .await;
}
