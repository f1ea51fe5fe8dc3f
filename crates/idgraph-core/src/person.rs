//! People from the source of truth (the HR roster): who they are, their emails, their
//! employment status with its dates, and the roster as a whole with the version a review names.
//!
//! A [`Roster`] is only ever built from validated rows (see [`crate::roster`] for the CSV and
//! JSON importers, [`Roster::new`] for people that come from elsewhere, e.g. the store), so
//! its employee ids and emails are unique and its managers exist.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use time::{Date, OffsetDateTime};

time::serde::format_description!(pub(crate) ymd, Date, "[year]-[month]-[day]");

/// Employment status in the HR roster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HrStatus {
    Active,
    /// Employed but away; accounts are expected to be kept.
    OnLeave,
    /// Left the company on `status_date`; every account should be closed.
    Terminated,
}

impl HrStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HrStatus::Active => "active",
            HrStatus::OnLeave => "on_leave",
            HrStatus::Terminated => "terminated",
        }
    }
}

impl std::fmt::Display for HrStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for HrStatus {
    type Err = String;
    /// Accepts `active`, `on_leave` (also `on leave`, `on-leave`, `leave`) and `terminated`,
    /// in any letter case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "active" => Ok(HrStatus::Active),
            "on_leave" | "on leave" | "on-leave" | "leave" => Ok(HrStatus::OnLeave),
            "terminated" => Ok(HrStatus::Terminated),
            other => Err(format!(
                "unknown status `{other}` (expected active, on_leave or terminated)"
            )),
        }
    }
}

/// One person of the roster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub employee_id: String,
    /// Primary work email, as HR spells it (trimmed).
    pub email: String,
    /// Aliases and former addresses.
    #[serde(default)]
    pub alternate_emails: Vec<String>,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub manager_id: Option<String>,
    pub status: HrStatus,
    #[serde(with = "ymd::option", default)]
    pub hire_date: Option<Date>,
    /// The date the status took effect: termination date, start of leave.
    #[serde(with = "ymd::option", default)]
    pub status_date: Option<Date>,
}

impl Person {
    /// `First Last` (or whichever of them is present; the employee id when neither is).
    pub fn display_name(&self) -> String {
        let name = format!("{} {}", self.first_name.trim(), self.last_name.trim());
        let name = name.trim();
        if name.is_empty() {
            self.employee_id.clone()
        } else {
            name.to_string()
        }
    }

    /// Every email of the person, primary first.
    pub fn emails(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.email.as_str()).chain(self.alternate_emails.iter().map(String::as_str))
    }

    /// The termination date when the person is terminated.
    pub fn terminated_on(&self) -> Option<Date> {
        (self.status == HrStatus::Terminated)
            .then_some(self.status_date)
            .flatten()
    }

    /// Whole days between the termination date and `now` (`None` unless terminated).
    pub fn days_since_termination(&self, now: OffsetDateTime) -> Option<i64> {
        self.terminated_on().map(|d| (now.date() - d).whole_days())
    }

    /// The canonical text of the person for the roster hash: fields in a fixed order,
    /// separated by control characters that cannot appear in CSV or JSON text values.
    pub(crate) fn canonical(&self) -> String {
        let mut alts: Vec<String> = self
            .alternate_emails
            .iter()
            .map(|e| e.trim().to_string())
            .collect();
        alts.sort();
        let date = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_default();
        [
            self.employee_id.trim().to_string(),
            self.email.trim().to_string(),
            alts.join("\u{1e}"),
            self.first_name.trim().to_string(),
            self.last_name.trim().to_string(),
            self.department.clone().unwrap_or_default(),
            self.title.clone().unwrap_or_default(),
            self.manager_id.clone().unwrap_or_default(),
            self.status.as_str().to_string(),
            date(self.hire_date),
            date(self.status_date),
        ]
        .join("\u{1f}")
    }
}

/// One roster source that went into a roster (a CSV file, a JSON export…).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterSource {
    /// The name the caller gave the source (usually the file name).
    pub name: String,
    /// SHA-256 (hex) of the source's people, see [`RosterVersion::hash`].
    pub hash: String,
    pub rows: usize,
}

/// What a review was run on: the sources and a content hash of the people.
///
/// The hash is SHA-256 over the people's canonical text (trimmed fields, alternate emails
/// sorted) in employee-id order: the same people give the same hash whatever the file format,
/// column order or row order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterVersion {
    pub sources: Vec<RosterSource>,
    pub hash: String,
    pub rows: usize,
}

impl RosterVersion {
    /// A short label: `hr.csv (200 rows, 3f2a9c1d0b7e)`.
    pub fn label(&self) -> String {
        let names: Vec<&str> = self.sources.iter().map(|s| s.name.as_str()).collect();
        let short: String = self.hash.chars().take(12).collect();
        format!("{} ({} rows, {short})", names.join(" + "), self.rows)
    }
}

/// SHA-256 (hex) of `people` in employee-id order.
pub(crate) fn content_hash(people: &[Person]) -> String {
    let mut order: Vec<&Person> = people.iter().collect();
    order.sort_by(|a, b| a.employee_id.cmp(&b.employee_id));
    let mut h = Sha256::new();
    for p in order {
        h.update(p.canonical().as_bytes());
        h.update(b"\n");
    }
    hex(&h.finalize())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// The validated people of one or more sources, with an index by employee id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RosterRepr", into = "RosterRepr")]
pub struct Roster {
    people: Vec<Person>,
    by_id: HashMap<String, usize>,
    version: RosterVersion,
}

/// The serialised form of a roster: version and people (the index is rebuilt on load).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RosterRepr {
    version: RosterVersion,
    people: Vec<Person>,
}

impl From<Roster> for RosterRepr {
    fn from(r: Roster) -> Self {
        RosterRepr {
            version: r.version,
            people: r.people,
        }
    }
}

impl TryFrom<RosterRepr> for Roster {
    type Error = crate::roster::RosterImportError;
    /// Revalidates the people and keeps the stored sources (the hash is recomputed and must
    /// match, so a tampered or truncated copy is refused).
    fn try_from(r: RosterRepr) -> Result<Self, Self::Error> {
        Roster::restore(r.version, r.people)
    }
}

impl Roster {
    /// Validates `people` (the same checks as the importers; errors name the array index) and
    /// builds a roster whose version names `source`.
    pub fn new(
        source: impl Into<String>,
        people: Vec<Person>,
    ) -> Result<Roster, crate::roster::RosterImportError> {
        crate::roster::validate_people(&source.into(), people)
    }

    /// A roster saved earlier (e.g. in the store) with the version it was imported as: the
    /// people are revalidated and their content hash must equal the version's, so a tampered
    /// or truncated copy is refused.
    pub fn restore(
        version: RosterVersion,
        people: Vec<Person>,
    ) -> Result<Roster, crate::roster::RosterImportError> {
        let name = version
            .sources
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(" + ");
        let mut roster = Roster::new(name.clone(), people)?;
        if roster.version.hash != version.hash {
            return Err(crate::roster::RosterImportError::HashMismatch {
                input: name,
                stored: version.hash,
                computed: roster.version.hash,
            });
        }
        roster.version = version;
        Ok(roster)
    }

    pub(crate) fn assemble(people: Vec<Person>, version: RosterVersion) -> Roster {
        let by_id = people
            .iter()
            .enumerate()
            .map(|(i, p)| (p.employee_id.clone(), i))
            .collect();
        Roster {
            people,
            by_id,
            version,
        }
    }

    /// The people, in source order (sources in the order they were combined).
    pub fn people(&self) -> &[Person] {
        &self.people
    }

    pub fn len(&self) -> usize {
        self.people.len()
    }

    pub fn is_empty(&self) -> bool {
        self.people.is_empty()
    }

    pub fn version(&self) -> &RosterVersion {
        &self.version
    }

    /// The person with this employee id.
    pub fn get(&self, employee_id: &str) -> Option<&Person> {
        self.index_of(employee_id).map(|i| &self.people[i])
    }

    /// The position of the person in [`Roster::people`].
    pub fn index_of(&self, employee_id: &str) -> Option<usize> {
        self.by_id.get(employee_id).copied()
    }

    /// Consumes the roster, returning its people.
    pub fn into_people(self) -> Vec<Person> {
        self.people
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn person(id: &str, email: &str) -> Person {
        Person {
            employee_id: id.into(),
            email: email.into(),
            alternate_emails: vec![],
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            department: None,
            title: None,
            manager_id: None,
            status: HrStatus::Active,
            hire_date: Some(date!(2020 - 01 - 02)),
            status_date: None,
        }
    }

    #[test]
    fn status_parses_variants_and_names_a_bad_value() {
        assert_eq!("On Leave".parse::<HrStatus>(), Ok(HrStatus::OnLeave));
        assert_eq!("on-leave".parse::<HrStatus>(), Ok(HrStatus::OnLeave));
        assert_eq!("TERMINATED".parse::<HrStatus>(), Ok(HrStatus::Terminated));
        assert!("fired".parse::<HrStatus>().unwrap_err().contains("fired"));
    }

    #[test]
    fn hash_ignores_row_order_and_alternate_order_but_not_content() {
        let mut a = person("E1", "ada@acme.example");
        a.alternate_emails = vec!["x@acme.example".into(), "b@acme.example".into()];
        let b = person("E2", "bob@acme.example");
        let h1 = content_hash(&[a.clone(), b.clone()]);
        let mut a2 = a.clone();
        a2.alternate_emails.reverse();
        assert_eq!(h1, content_hash(&[b.clone(), a2]));
        let mut a3 = a;
        a3.title = Some("CEO".into());
        assert_ne!(h1, content_hash(&[a3, b]));
        assert_eq!(h1.len(), 64);
    }

    #[test]
    fn days_since_termination_counts_calendar_days() {
        let mut p = person("E1", "ada@acme.example");
        assert_eq!(
            p.days_since_termination(datetime!(2026-06-01 10:00 UTC)),
            None
        );
        p.status = HrStatus::Terminated;
        p.status_date = Some(date!(2026 - 05 - 20));
        assert_eq!(
            p.days_since_termination(datetime!(2026-06-01 10:00 UTC)),
            Some(12)
        );
    }

    #[test]
    fn roster_round_trips_through_json_and_refuses_a_tampered_copy() {
        let r = Roster::new(
            "hr.csv",
            vec![
                person("E1", "ada@acme.example"),
                person("E2", "bob@acme.example"),
            ],
        )
        .unwrap();
        let json = serde_json::to_string(&r).unwrap();
        let back: Roster = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.get("E2").unwrap().email, "bob@acme.example");
        let tampered = json.replace("bob@acme.example", "eve@acme.example");
        let err = serde_json::from_str::<Roster>(&tampered).unwrap_err();
        assert!(err.to_string().contains("hash"), "{err}");
    }
}
