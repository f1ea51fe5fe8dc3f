//! Each rule on small hand-made data: what it reports, what it must not, and the review's
//! outputs.

use idgraph_core::review::FINDING_COLUMNS;
use idgraph_core::score::{score, Expected};
use idgraph_core::{
    reconcile, review, Account, AccountKey, AccountStatus, AppSync, Decision, Entitlement,
    EntitlementKey, FindingKind, Grant, HrStatus, Person, Policy, ReconcileInput, Reconciliation,
    Roster, Severity, Situation, Verdict,
};
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

fn person(id: &str, first: &str, last: &str, status: HrStatus) -> Person {
    Person {
        employee_id: id.into(),
        email: format!(
            "{}.{}@acme.example",
            first.to_lowercase(),
            last.to_lowercase()
        ),
        alternate_emails: vec![],
        first_name: first.into(),
        last_name: last.into(),
        department: Some("Support".into()),
        title: None,
        manager_id: None,
        status,
        hire_date: Some(date!(2020 - 01 - 01)),
        status_date: match status {
            HrStatus::Active => None,
            _ => Some(date!(2026 - 04 - 02)),
        },
    }
}

fn roster() -> Roster {
    Roster::new(
        "hr.csv",
        vec![
            person("E1", "Ana", "Lee", HrStatus::Active),
            person("E2", "Bo", "Chen", HrStatus::Terminated),
            person("E3", "Cy", "Ng", HrStatus::OnLeave),
            person("E4", "Di", "Ro", HrStatus::Active),
        ],
    )
    .unwrap()
}

fn account(app: &str, tenant: &str, ns: &str, id: &str, email: &str) -> Account {
    Account {
        key: AccountKey {
            app: app.into(),
            tenant: tenant.into(),
            namespace: ns.into(),
            native_id: id.into(),
        },
        emails: vec![email.into()],
        display_name: None,
        status: AccountStatus::Active,
        seat_consuming: true,
        attributes: Default::default(),
        created_at: Some(NOW - Duration::days(400)),
        updated_at: None,
        last_login_at: Some(NOW - Duration::days(2)),
        raw: serde_json::Value::Null,
    }
}

fn hs(id: &str, email: &str) -> Account {
    account("helpscout", "hs", "user", id, email)
}

fn run(roster: &Roster, accounts: &[Account]) -> Reconciliation {
    let policy = Policy::default();
    reconcile(&ReconcileInput::new(roster, accounts, &policy, NOW))
}

fn kinds(r: &Reconciliation) -> Vec<(FindingKind, String)> {
    r.findings
        .iter()
        .map(|f| {
            (
                f.kind,
                f.account
                    .as_ref()
                    .map(|k| k.native_id.clone())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn a_clean_company_has_no_findings() {
    let r = roster();
    let accounts = vec![
        hs("1", "ana.lee@acme.example"),
        hs("2", "Cy.Ng@Acme.Example"),
        account("freshservice", "fs", "requester", "3", "di.ro@acme.example"),
    ];
    let rec = run(&r, &accounts);
    assert!(rec.findings.is_empty(), "{:#?}", rec.findings);
    assert!(rec
        .correlations
        .accounts
        .iter()
        .all(|c| c.situation == Situation::Linked));
}

#[test]
fn orphan_names_the_person_days_since_termination_and_privilege() {
    let r = roster();
    let mut admin = hs("7", "bo.chen@acme.example");
    admin.last_login_at = Some(NOW - Duration::days(200)); // dormant too, but the orphan is the finding
    let accounts = vec![
        admin,
        account("freshdesk", "fd", "agent", "8", "bo.chen@acme.example"),
    ];
    let ent = Entitlement {
        key: EntitlementKey {
            app: "helpscout".into(),
            tenant: "hs".into(),
            kind: "role".into(),
            native_id: "admin".into(),
        },
        name: "admin".into(),
        privileged: true,
        raw: serde_json::Value::Null,
    };
    let grant = Grant {
        account: accounts[0].key.clone(),
        entitlement: ent.key.clone(),
        attributes: Default::default(),
    };
    let policy = Policy::default();
    let (ents, grants) = ([ent], [grant]);
    let input = ReconcileInput {
        grants: &grants,
        entitlements: &ents,
        ..ReconcileInput::new(&r, &accounts, &policy, NOW)
    };
    let rec = reconcile(&input);
    assert_eq!(
        kinds(&rec),
        vec![
            (FindingKind::OrphanAccount, "7".into()),
            (FindingKind::OrphanAccount, "8".into())
        ]
    );
    let f = &rec.findings[0];
    assert_eq!(f.severity, Severity::Critical);
    assert!(f.privileged && f.wasted_seat);
    assert_eq!(f.metrics["days_since_termination"], 60);
    assert_eq!(f.person.as_ref().unwrap().employee_id, "E2");
    assert!(f.evidence.contains("60 days ago"), "{}", f.evidence);
    assert_eq!(rec.findings[1].severity, Severity::High);
    // The not-duplicated: two apps are not two accounts in one app.
    assert!(rec.apps.iter().all(|a| a.wasted_seats == 1));
}

#[test]
fn pending_older_than_the_policy_and_a_leavers_invitation() {
    let r = roster();
    let mut young = account(
        "freshbooks",
        "77001",
        "invitation",
        "1",
        "ana.lee@acme.example",
    );
    young.status = AccountStatus::Pending;
    young.created_at = Some(NOW - Duration::days(14));
    let mut old = young.clone();
    old.key.native_id = "2".into();
    old.key.tenant = "77002".into();
    old.created_at = Some(NOW - Duration::days(15));
    let mut leaver = young.clone();
    leaver.key.native_id = "3".into();
    leaver.emails = vec!["bo.chen@acme.example".into()];
    let rec = run(&r, &[young, old, leaver]);
    assert_eq!(
        kinds(&rec),
        vec![
            (FindingKind::TerminatedPending, "3".into()),
            (FindingKind::StalePending, "2".into())
        ]
    );
    assert_eq!(rec.findings[1].metrics["pending_days"], 15);
}

#[test]
fn dormant_only_for_active_people_and_by_last_login() {
    let r = roster();
    let mut ana = hs("1", "ana.lee@acme.example");
    ana.last_login_at = Some(NOW - Duration::days(91));
    let mut cy = hs("2", "cy.ng@acme.example"); // on leave: expected not to sign in
    cy.last_login_at = Some(NOW - Duration::days(200));
    let mut di = hs("3", "di.ro@acme.example"); // the app reports no logins: unknown, not dormant
    di.last_login_at = None;
    let mut req = account("freshservice", "fs", "requester", "4", "di.ro@acme.example");
    req.last_login_at = Some(NOW - Duration::days(300)); // requesters are self-service
    req.seat_consuming = false;
    let rec = run(&r, &[ana, cy, di, req]);
    assert_eq!(kinds(&rec), vec![(FindingKind::DormantAccount, "1".into())]);
    assert_eq!(rec.findings[0].metrics["days_since_login"], 91);
    assert!(rec.findings[0].wasted_seat);
}

#[test]
fn customers_and_inactive_accounts_are_never_problems() {
    let r = roster();
    let customer = account("freshdesk", "fd", "contact", "1", "buyer@client.example");
    let mut leaver_contact = account("freshdesk", "fd", "contact", "2", "bo.chen@acme.example");
    leaver_contact.seat_consuming = false;
    let mut gone = hs("3", "stranger@acme.example");
    gone.status = AccountStatus::Inactive;
    let mut deleted = hs("4", "bo.chen@acme.example");
    deleted.status = AccountStatus::Missing;
    let rec = run(&r, &[customer, leaver_contact, gone, deleted]);
    assert!(rec.findings.is_empty(), "{:#?}", rec.findings);
    assert_eq!(rec.correlations.accounts[3].situation, Situation::Deleted);
}

#[test]
fn freshsales_pair_is_one_identity_and_one_seat() {
    let r = roster();
    let fs = |ns: &str, id: &str, email: &str| account("freshsales", "fsales", ns, id, email);
    // Paired by email (no id attributes), and by attribute despite another email.
    let mut rest2 = fs("user", "11", "di.ro@acme.example");
    rest2
        .attributes
        .insert("scim_id".into(), serde_json::json!("s-22"));
    let accounts = vec![
        fs("user", "10", "ana.lee@acme.example"),
        fs("scim_user", "s-10", "Ana.Lee@acme.example"),
        rest2,
        fs("scim_user", "s-22", "di.ro+crm@acme.example"),
    ];
    let rec = run(&r, &accounts);
    assert!(rec.findings.is_empty(), "{:#?}", rec.findings);
    let app = &rec.apps[0];
    assert_eq!((app.accounts, app.identities, app.seats_used), (4, 2, 2));

    // A lone record is reported, naming which side it is on…
    let mut lone = accounts.clone();
    lone.push(fs("scim_user", "s-30", "cy.ng@acme.example"));
    let rec = run(&r, &lone);
    assert_eq!(
        kinds(&rec),
        vec![(FindingKind::OneNamespace, "s-30".into())]
    );
    assert!(rec.findings[0].evidence.contains("absent from `user`"));
    // …but not when only one namespace was read (no SCIM on this plan).
    let rest_only = vec![fs("user", "10", "ana.lee@acme.example")];
    assert!(run(&r, &rest_only).findings.is_empty());
}

#[test]
fn duplicates_name_every_account_and_keep_the_primary_address() {
    let r = roster();
    // The primary address is kept even though the plus-addressed account is older; of two
    // spellings of the primary address, the older is kept.
    let mut newer = hs("1", "ana.lee@acme.example");
    newer.created_at = Some(NOW - Duration::days(5));
    let mut newest = hs("3", "ANA.LEE@acme.example");
    newest.created_at = Some(NOW - Duration::days(1));
    let accounts = vec![
        hs("2", "ana.lee+hs@acme.example"),
        newer,
        newest,
        account(
            "helpscout",
            "other-account",
            "user",
            "4",
            "ana.lee@acme.example",
        ),
    ];
    let rec = run(&r, &accounts);
    let mut got = kinds(&rec);
    got.sort();
    assert_eq!(
        got,
        vec![
            (FindingKind::DuplicateAccount, "2".into()),
            (FindingKind::DuplicateAccount, "3".into())
        ]
    );
    for f in &rec.findings {
        assert_eq!(f.related[0].native_id, "1", "the primary address is kept");
        assert_eq!(f.metrics["accounts_in_app"], 3);
    }
    assert_eq!(rec.apps[0].wasted_seats, 2);
}

#[test]
fn agent_also_requester_is_its_own_finding_not_a_duplicate() {
    let r = roster();
    let mut p = roster().into_people();
    p[0].alternate_emails = vec!["ana.l@acme.example".into()];
    let r2 = Roster::new("hr.csv", p).unwrap();
    let accounts = vec![
        account("freshservice", "fs", "agent", "1", "ana.lee@acme.example"),
        account("freshservice", "fs", "requester", "2", "ana.l@acme.example"),
    ];
    let rec = run(&r2, &accounts);
    assert_eq!(
        kinds(&rec),
        vec![(FindingKind::AgentAlsoRequester, "2".into())]
    );
    assert_eq!(rec.findings[0].related[0].native_id, "1");
    assert!(!rec.findings[0].wasted_seat);
    // Without the alias the requester matches nobody, and requesters are no owner problem.
    let rec = run(&r, &accounts);
    assert!(rec.findings.is_empty(), "{:#?}", rec.findings);
}

#[test]
fn no_owner_then_decisions_that_persist_across_syncs() {
    let r = roster();
    let mut bot = hs("9", "automation@acme.example");
    bot.display_name = Some("Automation Bot".into());
    let mut look_alike = hs("10", "ana@acme.example");
    look_alike.display_name = Some("Ana Lee".into());
    let first_sync = vec![bot.clone(), look_alike.clone()];
    let rec = run(&r, &first_sync);
    assert_eq!(
        kinds(&rec),
        vec![
            (FindingKind::NoOwner, "10".into()),
            (FindingKind::NoOwner, "9".into())
        ]
    );
    assert!(rec.findings[0]
        .evidence
        .contains("unlinked: Ana Lee (E1, by name)"));
    assert_eq!(rec.correlations.cases.len(), 1, "the name match is a case");

    let at = NOW - Duration::days(1);
    let decisions = vec![
        Decision {
            account: bot.key.clone(),
            verdict: Verdict::ServiceAccount,
            decided_by: "it@acme.example".into(),
            decided_at: at,
            note: Some("CI bot".into()),
        },
        Decision {
            account: look_alike.key.clone(),
            verdict: Verdict::Link {
                employee_id: "E1".into(),
            },
            decided_by: "it@acme.example".into(),
            decided_at: at,
            note: None,
        },
    ];
    // The next sync: same keys, fresh field values.
    let mut bot2 = bot;
    bot2.last_login_at = Some(NOW - Duration::hours(3));
    let mut look_alike2 = look_alike;
    look_alike2.display_name = Some("Ana L.".into());
    let second_sync = vec![bot2, look_alike2];
    let policy = Policy::default();
    let input = ReconcileInput {
        decisions: &decisions,
        ..ReconcileInput::new(&r, &second_sync, &policy, NOW)
    };
    let rec = reconcile(&input);
    assert!(rec.findings.is_empty(), "{:#?}", rec.findings);
    assert!(rec.correlations.cases.is_empty());
    assert_eq!(rec.correlations.accounts[1].owner, Some(0));
    // A service account can still go dormant.
    let mut idle = second_sync.clone();
    idle[0].last_login_at = Some(NOW - Duration::days(120));
    let rec = reconcile(&ReconcileInput {
        accounts: &idle,
        ..input
    });
    assert_eq!(kinds(&rec), vec![(FindingKind::DormantAccount, "9".into())]);
}

#[test]
fn stale_sync_after_the_policy_hours_or_never() {
    let r = roster();
    let accounts = vec![hs("1", "ana.lee@acme.example")];
    let syncs = vec![
        AppSync {
            app: "helpscout".into(),
            tenant: "hs".into(),
            last_synced_at: Some(NOW - Duration::hours(24)),
        },
        AppSync {
            app: "freshdesk".into(),
            tenant: "fd".into(),
            last_synced_at: Some(NOW - Duration::hours(25)),
        },
        AppSync {
            app: "freshbooks".into(),
            tenant: "77001".into(),
            last_synced_at: None,
        },
    ];
    let policy = Policy::default();
    let input = ReconcileInput {
        syncs: &syncs,
        ..ReconcileInput::new(&r, &accounts, &policy, NOW)
    };
    let rec = reconcile(&input);
    let stale: Vec<&str> = rec.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        stale,
        vec!["stale_sync:freshbooks:77001", "stale_sync:freshdesk:fd"]
    );
    assert_eq!(rec.findings[1].metrics["hours_since_sync"], 25);
    assert!(rec.findings[0].evidence.contains("never"));
    let hs_summary = rec.apps.iter().find(|a| a.app == "helpscout").unwrap();
    assert_eq!(hs_summary.last_synced_at, Some(NOW - Duration::hours(24)));
}

#[test]
fn review_is_json_csv_and_fails_on_severity() {
    let r = roster();
    let mut pending = hs("2", "di.ro@acme.example");
    pending.status = AccountStatus::Pending;
    pending.created_at = Some(NOW - Duration::days(30));
    let accounts = vec![hs("1", "bo.chen@acme.example"), pending];
    let policy = Policy::default();
    let rv = review(&ReconcileInput::new(&r, &accounts, &policy, NOW));
    assert_eq!(rv.worst(), Some(Severity::High));
    assert!(rv.fails(Severity::High) && rv.fails(Severity::Low));
    assert!(!rv.fails(Severity::Critical));
    assert_eq!(rv.totals.findings, 2);
    assert_eq!(rv.totals.wasted_seats, 2);
    assert_eq!(rv.roster, *r.version());
    let groups = rv.by_severity();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].0, Severity::High);

    let json = serde_json::to_value(&rv).unwrap();
    assert_eq!(json["findings"][0]["kind"], "orphan_account");
    assert_eq!(json["findings"][1]["severity"], "low");
    assert_eq!(json["apps"][0]["app"], "helpscout");
    let back: idgraph_core::Review = serde_json::from_value(json).unwrap();
    assert_eq!(back, rv);

    let mut csv = Vec::new();
    rv.write_csv(&mut csv).unwrap();
    let mut rdr = csv::Reader::from_reader(csv.as_slice());
    assert_eq!(
        rdr.headers().unwrap().iter().collect::<Vec<_>>(),
        FINDING_COLUMNS
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][0], "high");
    assert_eq!(&rows[0][9], "E2");
    assert!(rows[0][14].starts_with("days_since_termination="));

    // No findings: a header only, and nothing fails.
    let clean = review(&ReconcileInput::new(&r, &[], &policy, NOW));
    assert!(!clean.fails(Severity::Low));
    let mut csv = Vec::new();
    clean.write_csv(&mut csv).unwrap();
    assert_eq!(String::from_utf8(csv).unwrap().lines().count(), 1);
}

#[test]
fn policy_reads_from_toml_with_defaults_and_refuses_unknown_keys() {
    let p: Policy = toml::from_str(
        "pending_days = 7\n[correlation]\ncompany_domains = [\"acme.example\"]\n\
         [correlation.normalisation.domain_aliases]\n\"acme.io\" = \"acme.example\"\n",
    )
    .unwrap();
    assert_eq!((p.pending_days, p.dormant_days), (7, 90));
    assert!(p.correlation.normalisation.plus_addressing);
    assert!(toml::from_str::<Policy>("pending_dayz = 7").is_err());
}

#[test]
fn score_counts_misses_and_unexpected_findings() {
    let r = roster();
    let accounts = vec![
        hs("1", "bo.chen@acme.example"),
        hs("2", "nobody@acme.example"),
    ];
    let rec = run(&r, &accounts);
    let key = |id: &str| {
        accounts
            .iter()
            .find(|a| a.key.native_id == id)
            .unwrap()
            .key
            .clone()
    };
    let expected = vec![
        Expected {
            label: "leaver".into(),
            kinds: vec![FindingKind::OrphanAccount],
            accounts: vec![key("1")],
        },
        Expected {
            label: "wrong kind".into(),
            kinds: vec![FindingKind::DormantAccount],
            accounts: vec![key("2")],
        },
    ];
    let s = score(&expected, &rec.findings);
    assert_eq!(
        (s.expected, s.found, s.findings, s.matching_findings),
        (2, 1, 2, 1)
    );
    assert_eq!(s.recall(), 0.5);
    assert_eq!(s.precision(), 0.5);
    assert_eq!(s.missed[0].label, "wrong kind");
    assert_eq!(s.unexpected[0].kind, FindingKind::NoOwner);
}

#[test]
fn score_needs_the_findings_own_account_not_a_related_one() {
    let r = roster();
    let accounts = vec![
        hs("1", "ana.lee@acme.example"),
        hs("2", "ana.lee+hs@acme.example"),
    ];
    let rec = run(&r, &accounts);
    let expect = |id: &str| {
        vec![Expected {
            label: "duplicate".into(),
            kinds: vec![FindingKind::DuplicateAccount],
            accounts: vec![accounts
                .iter()
                .find(|a| a.key.native_id == id)
                .unwrap()
                .key
                .clone()],
        }]
    };
    assert_eq!(score(&expect("2"), &rec.findings).recall(), 1.0);
    // The kept account is only related: naming it is not finding the duplicate.
    let s = score(&expect("1"), &rec.findings);
    assert_eq!((s.recall(), s.precision()), (0.0, 0.0));
}
