//! Roster import on the generator's roster: faithful, versioned, and all or nothing.

use idgraph_core::roster::{build, parse_csv, parse_json, RowLocation};
use idgraph_core::{import_csv, import_json, HrStatus, RosterImportError};
use idgraph_sim::company::{generate, write_roster_csv, Company, CompanyConfig, HrStatus as SimHr};
use time::macros::datetime;

fn company(people: usize) -> Company {
    generate(&CompanyConfig::new(
        4,
        people,
        datetime!(2026-06-01 00:00 UTC),
    ))
}

fn roster_csv(c: &Company) -> String {
    let mut buf = Vec::new();
    write_roster_csv(c, &mut buf).unwrap();
    String::from_utf8(buf).unwrap()
}

/// The generator's people as the JSON roster format.
fn roster_json(c: &Company) -> String {
    let people: Vec<serde_json::Value> = c
        .people
        .iter()
        .map(|p| {
            serde_json::json!({
                "employee_id": p.employee_id,
                "email": p.email,
                "alternate_emails": p.alternate_emails,
                "first_name": p.first_name,
                "last_name": p.last_name,
                "department": p.department,
                "title": p.title,
                "manager_id": p.manager_id,
                "status": match p.status {
                    SimHr::Active => "active",
                    SimHr::OnLeave => "on_leave",
                    SimHr::Terminated => "terminated",
                },
                "hire_date": p.hire_date.to_string(),
                "status_date": p.status_date.map(|d| d.to_string()),
            })
        })
        .collect();
    serde_json::to_string_pretty(&people).unwrap()
}

#[test]
fn generated_roster_imports_faithfully_from_csv_and_json_with_one_hash() {
    let c = company(300);
    let csv = roster_csv(&c);
    let r = import_csv("hr.csv", csv.as_bytes()).unwrap();
    assert_eq!(r.len(), 300);
    for (ours, theirs) in r.people().iter().zip(&c.people) {
        assert_eq!(ours.employee_id, theirs.employee_id);
        assert_eq!(ours.email, theirs.email);
        assert_eq!(ours.alternate_emails, theirs.alternate_emails);
        assert_eq!(ours.manager_id, theirs.manager_id);
        assert_eq!(ours.hire_date, Some(theirs.hire_date));
        assert_eq!(ours.status_date, theirs.status_date);
        let st = match theirs.status {
            SimHr::Active => HrStatus::Active,
            SimHr::OnLeave => HrStatus::OnLeave,
            SimHr::Terminated => HrStatus::Terminated,
        };
        assert_eq!(ours.status, st);
    }
    let j = import_json("hr.json", roster_json(&c).as_bytes()).unwrap();
    assert_eq!(j.version().hash, r.version().hash);
    assert_eq!(j.people(), r.people());
    // Another company is another version.
    let other = import_csv("hr.csv", roster_csv(&company(299)).as_bytes()).unwrap();
    assert_ne!(other.version().hash, r.version().hash);
    assert_eq!(r.version().rows, 300);
    assert!(r.version().label().starts_with("hr.csv (300 rows, "));
}

/// Replaces CSV line `line` (1-based, the header is line 1) with `text`.
fn set_line(csv: &str, line: usize, text: &str) -> String {
    let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
    lines[line - 1] = text.to_string();
    lines.join("\n") + "\n"
}

fn line(csv: &str, n: usize) -> Vec<String> {
    csv.lines()
        .nth(n - 1)
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect()
}

#[test]
fn every_bad_row_is_reported_with_its_line_and_nothing_is_imported() {
    let c = company(60);
    let good = roster_csv(&c);
    let mut csv = good.clone();
    // (line, column index, new value, expected column, expected words in the reason)
    let edits: &[(usize, usize, &str, &str, &str)] = &[
        (25, 0, "", "employee_id", "missing employee id"),
        (27, 0, "E000003", "employee_id", "duplicate employee id"),
        (29, 1, "not-an-email", "email", "no @"),
        (33, 8, "retired", "status", "unknown status"),
        (35, 9, "2024-13-01", "hire_date", "not a date"),
        (
            39,
            7,
            "E999999",
            "manager_id",
            "manager id not in the roster",
        ),
    ];
    for &(n, col, value, _, _) in edits {
        let mut fields = line(&csv, n);
        fields[col] = value.to_string();
        csv = set_line(&csv, n, &fields.join(","));
    }
    // Line 31 takes line 2's email (another person's address, in another letter case).
    let mut fields = line(&csv, 31);
    fields[1] = line(&good, 2)[1].to_uppercase();
    csv = set_line(&csv, 31, &fields.join(","));
    // Line 37 becomes terminated without a date.
    let mut fields = line(&csv, 37);
    fields[8] = "terminated".into();
    fields[10] = String::new();
    csv = set_line(&csv, 37, &fields.join(","));
    // Line 41 loses a field.
    let mut fields = line(&csv, 41);
    fields.pop();
    csv = set_line(&csv, 41, &fields.join(","));
    // And the last line is bad too.
    let last = csv.lines().count();
    let mut fields = line(&csv, last);
    fields[10] = "yesterday".into();
    csv = set_line(&csv, last, &fields.join(","));

    let err = import_csv("hr.csv", csv.as_bytes()).unwrap_err();
    let errors = err.errors();
    let got: Vec<(RowLocation, Option<&str>)> = errors
        .iter()
        .map(|e| (e.location, e.column.as_deref()))
        .collect();
    let mut want: Vec<(RowLocation, Option<&str>)> = edits
        .iter()
        .map(|&(n, _, _, col, _)| (RowLocation::Line(n as u64), Some(col)))
        .collect();
    want.push((RowLocation::Line(31), Some("email")));
    want.push((RowLocation::Line(37), Some("status_date")));
    want.push((RowLocation::Line(41), None));
    want.push((RowLocation::Line(last as u64), Some("status_date")));
    want.sort();
    assert_eq!(got, want, "{errors:#?}");
    for &(n, _, value, _, words) in edits {
        let e = errors
            .iter()
            .find(|e| e.location == RowLocation::Line(n as u64))
            .unwrap();
        assert!(e.reason.contains(words), "line {n}: {e}");
        assert_eq!(e.value.as_deref(), Some(value), "line {n}");
        assert!(
            e.to_string().starts_with(&format!("hr.csv line {n}")),
            "{e}"
        );
    }
    let dup = errors
        .iter()
        .find(|e| e.location == RowLocation::Line(31))
        .unwrap();
    assert!(
        dup.reason.contains("E000001") && dup.reason.contains("line 2"),
        "{dup}"
    );
    assert!(err.to_string().contains("10 bad value(s)"), "{err}");

    // The untouched file imports; one bad value anywhere and nothing does.
    assert_eq!(import_csv("hr.csv", good.as_bytes()).unwrap().len(), 60);
    let last_good = good.lines().count();
    let mut fields = line(&good, last_good);
    fields[1] = "broken".into();
    let one_bad = set_line(&good, last_good, &fields.join(","));
    match import_csv("hr.csv", one_bad.as_bytes()) {
        Err(RosterImportError::Invalid { errors, .. }) => {
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].location, RowLocation::Line(last_good as u64));
        }
        other => panic!("expected an invalid roster, got {other:?}"),
    }
}

#[test]
fn a_manager_whose_row_is_bad_still_counts_as_present() {
    // The manager's own row has a bad date: one error (the date), not a cascade of
    // "manager not in roster" errors on every report of theirs.
    let c = company(60);
    let csv = roster_csv(&c);
    let mut fields = line(&csv, 2); // E000001, everybody's top manager
    fields[9] = "01/02/2020".into();
    let csv = set_line(&csv, 2, &fields.join(","));
    let err = import_csv("hr.csv", csv.as_bytes()).unwrap_err();
    assert_eq!(err.errors().len(), 1, "{:#?}", err.errors());
    assert_eq!(err.errors()[0].column.as_deref(), Some("hire_date"));
}

#[test]
fn json_roster_errors_name_the_index() {
    let c = company(30);
    let mut people: Vec<serde_json::Value> = serde_json::from_str(&roster_json(&c)).unwrap();
    people[4]["status"] = "gone".into();
    people[9]["alternate_emails"] = serde_json::json!([42]);
    people[12]["employee_id"] = serde_json::Value::Null;
    let text = serde_json::to_string(&people).unwrap();
    let err = import_json("hr.json", text.as_bytes()).unwrap_err();
    let locs: Vec<RowLocation> = err.errors().iter().map(|e| e.location).collect();
    assert_eq!(
        locs,
        vec![
            RowLocation::Index(4),
            RowLocation::Index(9),
            RowLocation::Index(12)
        ],
        "{:#?}",
        err.errors()
    );
    assert!(err.errors()[0].to_string().starts_with("hr.json index 4"));
}

#[test]
fn two_sources_are_one_roster_with_both_versions() {
    let c = company(40);
    let csv = roster_csv(&c);
    let contractors = r#"[{"employee_id": "C-1", "email": "sam@partnerco.example",
        "first_name": "Sam", "last_name": "Vendor", "status": "active",
        "manager_id": "E000001"}]"#;
    let r = build(vec![
        parse_csv("hr.csv", csv.as_bytes()).unwrap(),
        parse_json("contractors.json", contractors.as_bytes()).unwrap(),
    ])
    .unwrap();
    assert_eq!(r.len(), 41);
    let v = r.version();
    assert_eq!(v.sources.len(), 2);
    assert_eq!((v.sources[0].rows, v.sources[1].rows), (40, 1));
    assert_ne!(v.hash, v.sources[0].hash);
    assert_eq!(r.get("C-1").unwrap().manager_id.as_deref(), Some("E000001"));
}
