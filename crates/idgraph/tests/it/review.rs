//! `idgraph roster`, `idgraph correlate` and `idgraph review` as a person uses them, on a
//! store filled through the store's own write API: a bad roster is refused row by row and
//! leaves the current roster as it was; correlation cases are listed, decided and undone;
//! decisions persist across syncs and the next review applies them; table, JSON and CSV;
//! `--fail-on`.

use crate::support;
use idgraph_core::{Account, AccountKey, AccountStatus, FindingKind, Record, Review};
use idgraph_store::{GrantPolicy, PageCommit, RunFinish, RunStatus, Store, SyncMode};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use time::macros::datetime;
use time::OffsetDateTime;

const APP: &str = "helpscout";
const TENANT: &str = "acme";
const SYNCED: OffsetDateTime = datetime!(2026-06-01 08:00 UTC);
const AS_OF: &str = "2026-06-01T09:00:00Z";

const ROSTER: &str = "employee_id,email,alternate_emails,first_name,last_name,status,status_date\n\
E1,ana@acme.example,,Ana,Lima,active,\n\
E2,bo@acme.example,,Bo,Berg,terminated,2026-05-01\n\
E3,cy@acme.example,,Cy,Dee,active,\n\
E4,cy.dee@acme.example,,Cy,Dee,on_leave,\n";

fn key(id: &str) -> AccountKey {
    AccountKey {
        app: APP.into(),
        tenant: TENANT.into(),
        namespace: "user".into(),
        native_id: id.into(),
    }
}

fn user(id: &str, email: &str, name: &str) -> Record {
    Record::Account(Account {
        key: key(id),
        emails: vec![email.into()],
        display_name: Some(name.into()),
        status: AccountStatus::Active,
        seat_consuming: true,
        attributes: Default::default(),
        created_at: Some(datetime!(2025-01-01 00:00 UTC)),
        updated_at: None,
        last_login_at: None,
        raw: json!({"id": id}),
    })
}

/// One full sync of the Help Scout-like app, through the store's write API.
async fn sync(store: &dyn Store, at: OffsetDateTime) {
    let run = store
        .open_run(APP, TENANT, SyncMode::Full, at)
        .await
        .unwrap()
        .run;
    store
        .start_resource(run.id, "users", None, at)
        .await
        .unwrap();
    store
        .commit_page(PageCommit {
            run_id: run.id,
            resource: "users".into(),
            grants: GrantPolicy::Additive,
            records: vec![
                // A weak (name) match: one candidate, E1.
                user("101", "a.lima@acme.example", "Ana Lima"),
                // Two people share the name: disputed.
                user("102", "cdee@acme.example", "Cy Dee"),
                // Nobody: a shared mailbox.
                user("103", "support@acme.example", "Support"),
                // A leaver's account, still active.
                user("104", "bo@acme.example", "Bo Berg"),
            ],
            next: None,
            requests: 1,
            at,
        })
        .await
        .unwrap();
    store
        .finish_run(RunFinish {
            run_id: run.id,
            status: RunStatus::Succeeded,
            error: None,
            complete_namespaces: vec!["user".into()],
            complete_kinds: vec![],
            at,
        })
        .await
        .unwrap();
}

fn config(dir: &Path) -> PathBuf {
    let path = dir.join("idgraph.toml");
    std::fs::write(
        &path,
        format!(
            "[store]\nurl = \"{}\"\n\n[review]\npending_days = 30\n",
            support::store_url(dir)
        ),
    )
    .unwrap();
    path
}

async fn review(cfg: &Path, extra: &[&str]) -> (Review, Value) {
    let mut args = vec!["review", "--format", "json"];
    if !extra.contains(&"--as-of") {
        args.extend(["--as-of", AS_OF]);
    }
    args.extend_from_slice(extra);
    let out = support::run(cfg, &args).await;
    assert!(out.success, "{out:?}");
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    (serde_json::from_value(v.clone()).unwrap(), v)
}

fn kinds_of(r: &Review, id: &str) -> Vec<FindingKind> {
    r.findings
        .iter()
        .filter(|f| f.account.as_ref().map(|k| k.native_id.as_str()) == Some(id))
        .map(|f| f.kind)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_roster_is_refused_row_by_row_and_the_current_one_stays() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let hr = dir.path().join("hr.csv");

    // Before any roster: a clear error saying how to import one.
    std::fs::write(&hr, ROSTER).unwrap();
    let out = support::run(&cfg, &["review"]).await;
    assert!(!out.success, "{out:?}");
    let out2 = support::run(&cfg, &["roster", "show"]).await;
    assert!(!out2.success);
    // (review opened the store; show says the same thing)
    assert!(
        out.stderr.contains("idgraph roster import")
            && out2.stderr.contains("idgraph roster import"),
        "{out:?} {out2:?}"
    );

    let out = support::run(
        &cfg,
        &["roster", "import", hr.to_str().unwrap(), "--by", "hr-bot"],
    )
    .await;
    assert!(out.success, "{out:?}");
    assert!(
        out.stdout
            .contains("Imported roster version 1: 4 people from hr.csv"),
        "{}",
        out.stdout
    );
    let show = support::run(&cfg, &["roster", "show", "--format", "json"]).await;
    assert!(show.success, "{show:?}");
    let before: Value = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(before["current"]["imported_by"], "hr-bot");
    assert_eq!(before["by_status"]["terminated"], 1);

    // Three bad rows among good ones (and a good second file): each is named with its file
    // and line, nothing is imported.
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "employee_id,email,first_name,last_name,status,status_date,manager_id\n\
         E1,ana@acme.example,Ana,Lima,active,,\n\
         E2,bo@acme.example,Bo,Berg,terminated,,\n\
         E3,ANA@acme.example,Cy,Dee,active,,\n\
         E5,eve@acme.example,Eve,Ng,retired,,E1\n\
         E6,fay@acme.example,Fay,Oz,active,,\n",
    )
    .unwrap();
    let extra = dir.path().join("contractors.json");
    std::fs::write(
        &extra,
        r#"[{"employee_id": "C1", "email": "cy@contractors.example", "status": "active"}]"#,
    )
    .unwrap();
    let out = support::run(
        &cfg,
        &[
            "roster",
            "import",
            bad.to_str().unwrap(),
            extra.to_str().unwrap(),
        ],
    )
    .await;
    assert!(!out.success, "{out:?}");
    let file = bad.display().to_string();
    for want in [
        format!("{file}:3: status_date (E2): terminated without a date"),
        format!("{file}:4: email `ANA@acme.example` (E3): email used by two people"),
        format!("{file}:5: status `retired` (E5): unknown status"),
    ] {
        assert!(
            out.stderr.contains(&want),
            "missing `{want}` in\n{}",
            out.stderr
        );
    }
    assert!(out.stderr.contains("3 bad values"), "{}", out.stderr);
    let show = support::run(&cfg, &["roster", "show", "--format", "json"]).await;
    let after: Value = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(after, before, "the current roster is exactly as it was");

    // JSON syntax errors name the file too; an unknown extension is refused.
    std::fs::write(&extra, "[{").unwrap();
    let out = support::run(&cfg, &["roster", "import", extra.to_str().unwrap()]).await;
    assert!(
        !out.success && out.stderr.contains("contractors.json"),
        "{out:?}"
    );
    let txt = dir.path().join("hr.txt");
    std::fs::write(&txt, ROSTER).unwrap();
    let out = support::run(&cfg, &["roster", "import", txt.to_str().unwrap()]).await;
    assert!(
        !out.success && out.stderr.contains(".csv or .json"),
        "{out:?}"
    );

    // The configured sources, when no file is given; the same people change nothing.
    std::fs::write(
        &cfg,
        format!(
            "{}\n[[roster]]\nname = \"hr\"\npath = \"hr.csv\"\n",
            std::fs::read_to_string(&cfg).unwrap()
        ),
    )
    .unwrap();
    let out = support::run(&cfg, &["roster", "import"]).await;
    assert!(out.success, "{out:?}");
    assert!(
        out.stdout.contains("Roster unchanged: version 1"),
        "{}",
        out.stdout
    );
    let out = support::run(&cfg, &["roster", "import", "--source", "payroll"]).await;
    assert!(!out.success && out.stderr.contains("payroll"), "{out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_resolve_cases_persist_across_syncs_and_the_next_review_applies_them() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let hr = dir.path().join("hr.csv");
    std::fs::write(&hr, ROSTER).unwrap();
    let out = support::run(&cfg, &["roster", "import", hr.to_str().unwrap()]).await;
    assert!(out.success, "{out:?}");
    let store = support::open_store(dir.path()).await;
    sync(store.as_ref(), SYNCED).await;

    // The cases: a weak match (101) and a dispute (102).
    let out = support::run(&cfg, &["correlate", "--format", "json"]).await;
    assert!(out.success, "{out:?}");
    let cases: Value = serde_json::from_str(&out.stdout).unwrap();
    let listed: Vec<(&str, &str, usize)> = cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["account"]["native_id"].as_str().unwrap(),
                c["reason"].as_str().unwrap(),
                c["candidates"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![("101", "weak_match", 1), ("102", "disputed", 2)]
    );
    let table = support::run(&cfg, &["correlate"]).await;
    assert!(
        table.stdout.contains("helpscout/acme/user/101") && table.stdout.contains("E1 Ana Lima"),
        "{}",
        table.stdout
    );

    let (r, doc) = review(&cfg, &[]).await;
    assert_eq!(kinds_of(&r, "101"), vec![FindingKind::NoOwner]);
    assert_eq!(kinds_of(&r, "102"), vec![FindingKind::NoOwner]);
    assert_eq!(kinds_of(&r, "103"), vec![FindingKind::NoOwner]);
    assert_eq!(kinds_of(&r, "104"), vec![FindingKind::OrphanAccount]);
    assert_eq!(r.cases.len(), 2);
    assert_eq!(doc["roster_version"]["id"], 1);
    assert_eq!(doc["syncs"][0]["last_synced_at"], "2026-06-01T08:00:00Z");
    assert_eq!(doc["since_last_review"], Value::Null);

    // Decide: 101 is Ana's, 102 is not E3's (so E4 remains, a weak proposal), 103 is a
    // service account. Short account forms resolve when unambiguous.
    for args in [
        vec![
            "correlate",
            "link",
            "helpscout/acme/user/101",
            "E1",
            "--note",
            "asked Ana",
            "--by",
            "it-admin",
        ],
        vec!["correlate", "reject", "helpscout/102", "E3"],
        vec!["correlate", "service", "support@acme.example"],
    ] {
        let out = support::run(&cfg, &args).await;
        assert!(out.success, "{args:?}: {out:?}");
        assert!(out.stdout.contains("Recorded decision"), "{}", out.stdout);
    }
    let refused = support::run(&cfg, &["correlate", "link", "101", "E9"]).await;
    assert!(
        !refused.success && refused.stderr.contains("`E9` is not in the current roster"),
        "{refused:?}"
    );
    let refused = support::run(&cfg, &["correlate", "service", "freshdesk/101"]).await;
    assert!(
        !refused.success && refused.stderr.contains("no account matches"),
        "{refused:?}"
    );

    // The same accounts synced again: the decisions still apply.
    sync(store.as_ref(), SYNCED + time::Duration::minutes(30)).await;
    let (r, doc) = review(&cfg, &[]).await;
    assert_eq!(kinds_of(&r, "101"), vec![], "linked to Ana, who is active");
    assert_eq!(
        kinds_of(&r, "102"),
        vec![FindingKind::NoOwner],
        "only a proposal is left"
    );
    let f102 = r
        .findings
        .iter()
        .find(|f| f.account.as_ref().is_some_and(|k| k.native_id == "102"))
        .unwrap();
    assert!(
        f102.evidence.contains("E4") && !f102.evidence.contains("E3"),
        "{}",
        f102.evidence
    );
    assert_eq!(
        kinds_of(&r, "103"),
        vec![],
        "a service account has no owner to find"
    );
    assert_eq!(kinds_of(&r, "104"), vec![FindingKind::OrphanAccount]);
    assert_eq!(r.cases.len(), 1);
    assert_eq!(doc["since_last_review"]["new_findings"], 0);
    assert_eq!(doc["since_last_review"]["resolved_findings"], 2);
    assert_eq!(doc["syncs"][0]["last_synced_at"], "2026-06-01T08:30:00Z");

    let decisions = support::run(&cfg, &["correlate", "decisions", "--format", "json"]).await;
    let ds: Value = serde_json::from_str(&decisions.stdout).unwrap();
    assert_eq!(ds.as_array().unwrap().len(), 3);
    assert_eq!(ds[0]["decided_by"], "it-admin");
    assert_eq!(ds[0]["note"], "asked Ana");

    // Undo the service-account decision: the shared mailbox is ownerless again.
    let out = support::run(&cfg, &["correlate", "undo", "helpscout/user/103"]).await;
    assert!(
        out.success && out.stdout.contains("Withdrew decision"),
        "{out:?}"
    );
    let out = support::run(&cfg, &["correlate", "undo", "helpscout/user/103"]).await;
    assert!(
        !out.success && out.stderr.contains("no decision in force"),
        "{out:?}"
    );
    let (r, _) = review(&cfg, &["--no-record"]).await;
    assert_eq!(kinds_of(&r, "103"), vec![FindingKind::NoOwner]);

    // --fail-on: status 3 at or above the threshold (the leaver is high), 0 below it.
    let out = support::run(
        &cfg,
        &[
            "review",
            "--as-of",
            AS_OF,
            "--fail-on",
            "high",
            "--no-record",
        ],
    )
    .await;
    assert!(!out.success, "{out:?}");
    let status = support::idgraph(
        &cfg,
        &[
            "review",
            "--as-of",
            AS_OF,
            "--fail-on",
            "high",
            "--no-record",
        ],
    )
    .output()
    .await
    .unwrap()
    .status;
    assert_eq!(status.code(), Some(3));
    assert!(
        out.stderr.contains("1 finding at or above high"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.contains("HIGH (1)"),
        "the review is printed first:\n{}",
        out.stdout
    );
    let out = support::run(
        &cfg,
        &[
            "review",
            "--as-of",
            AS_OF,
            "--fail-on",
            "critical",
            "--no-record",
        ],
    )
    .await;
    assert!(out.success, "{out:?}");

    // The table names the roster version and the sync times; CSV has a row per finding.
    assert!(out.stdout.contains("Roster: version 1"), "{}", out.stdout);
    assert!(
        out.stdout.contains("helpscout acme 2026-06-01T08:30:00Z"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("orphan_account"), "{}", out.stdout);
    let csv = support::run(
        &cfg,
        &["review", "--as-of", AS_OF, "--format", "csv", "--no-record"],
    )
    .await;
    let lines: Vec<&str> = csv.stdout.lines().collect();
    assert!(
        lines[0].starts_with("severity,kind,app,tenant,namespace,native_id"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 1 + r.findings.len(), "{}", csv.stdout);
    assert!(
        lines[1].starts_with("high,orphan_account,helpscout,acme,user,104"),
        "{}",
        lines[1]
    );

    // Only one app; a stale sync is reported when the data is old.
    let (r, _) = review(&cfg, &["--app", "freshdesk", "--no-record"]).await;
    assert!(r.findings.is_empty() && r.apps.is_empty());
    let (r, _) = review(&cfg, &["--as-of", "2026-06-03T09:00:00Z", "--no-record"]).await;
    assert!(
        r.findings
            .iter()
            .any(|f| f.kind == FindingKind::StaleSync && f.app == APP),
        "{:?}",
        r.findings
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_review_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("idgraph.toml");
    std::fs::write(
        &cfg,
        format!(
            "[store]\nurl = \"{}\"\n[review]\ndormant_dayz = 30\n",
            support::store_url(dir.path())
        ),
    )
    .unwrap();
    let out = support::run(&cfg, &["review"]).await;
    assert!(!out.success, "{out:?}");
    assert!(out.stderr.contains("dormant_dayz"), "{}", out.stderr);
    assert!(
        !dir.path().join("idgraph.db").exists(),
        "checked before the store is opened"
    );
}
