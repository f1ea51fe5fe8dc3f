//! Importing the HR roster from CSV and JSON, all or nothing.
//!
//! Importing is two steps so that several sources can be checked together: `parse_csv` /
//! `parse_json` read one source into rows (collecting syntax errors: a bad status, a bad
//! date, a row of the wrong width), then [`build`] checks every row of every source together
//! (employee ids and emails unique across sources, managers exist, terminated people have a
//! date…) and returns either the whole [`Roster`] or every error, each naming its source, its
//! location (CSV file line, the header being line 1; JSON array index), the column and the
//! value. [`import_csv`] and [`import_json`] do both steps for a single source.
//!
//! CSV: a header row, then one row per person. Columns (any order; names compared after
//! trimming, lower-casing and turning spaces and hyphens into `_`):
//! `employee_id` (also `employee_number`, `employee_no`), `email` (also `primary_email`,
//! `work_email`), `alternate_emails` (also `alternate_email`, `aliases`; `;`-separated),
//! `first_name` (also `given_name`), `last_name` (also `family_name`, `surname`),
//! `department`, `title` (also `job_title`), `manager_id` (also `manager`,
//! `manager_employee_id`), `status` (`active`, `on_leave` — also `on leave`, `on-leave`,
//! `leave` — or `terminated`, any case), `hire_date` (also `start_date`) and `status_date`
//! (both `YYYY-MM-DD`). `employee_id`, `email` and `status` are required; an unknown column is an
//! error (so a misspelt optional column is not silently dropped). Empty cells are absent values.
//!
//! JSON: an array of objects with the same field names (canonical names only);
//! `alternate_emails` is an array of strings (a `;`-separated string is accepted too);
//! `employee_id` and `manager_id` may be numbers; `null` is an absent value.

use crate::account::normalize_email;
use crate::person::{HrStatus, Person, Roster, RosterSource, RosterVersion};
use serde::Serialize;
use std::collections::HashMap;
use std::io::Read;
use time::Date;

/// Where a bad value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "at")]
pub enum RowLocation {
    /// The whole source (its header, its shape).
    Source,
    /// A CSV file line (the header is line 1).
    Line(u64),
    /// A JSON array index (or the index in a list of people), from 0.
    Index(usize),
}

impl std::fmt::Display for RowLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RowLocation::Source => f.write_str("header"),
            RowLocation::Line(n) => write!(f, "line {n}"),
            RowLocation::Index(i) => write!(f, "index {i}"),
        }
    }
}

/// One bad value of a roster source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RosterError {
    /// The source's name (file name).
    pub input: String,
    pub location: RowLocation,
    /// The row's employee id when it has one.
    pub employee_id: Option<String>,
    /// The column (canonical name) the problem is in.
    pub column: Option<String>,
    /// The offending value as written.
    pub value: Option<String>,
    pub reason: String,
}

impl std::fmt::Display for RosterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.input, self.location)?;
        if let Some(id) = &self.employee_id {
            write!(f, " ({id})")?;
        }
        if let Some(c) = &self.column {
            write!(f, ": column `{c}`")?;
        }
        if let Some(v) = &self.value {
            write!(f, " value `{v}`")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Why a roster was not imported. Nothing is imported when any row is bad.
#[derive(Debug, thiserror::Error)]
pub enum RosterImportError {
    #[error("roster {input} not imported: {} bad value(s); first: {}", errors.len(), first(errors))]
    Invalid {
        input: String,
        /// Every problem, in source and location order.
        errors: Vec<RosterError>,
    },
    #[error("roster {input} could not be read")]
    Read {
        input: String,
        #[source]
        source: std::io::Error,
    },
    #[error("roster {input} is not JSON")]
    Json {
        input: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("stored roster {input}: content hash {computed} does not match the stored {stored}")]
    HashMismatch {
        input: String,
        stored: String,
        computed: String,
    },
}

fn first(errors: &[RosterError]) -> String {
    errors.first().map(|e| e.to_string()).unwrap_or_default()
}

impl RosterImportError {
    /// Every row problem (empty for read and JSON syntax errors).
    pub fn errors(&self) -> &[RosterError] {
        match self {
            RosterImportError::Invalid { errors, .. } => errors,
            _ => &[],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Col {
    EmployeeId,
    Email,
    AlternateEmails,
    FirstName,
    LastName,
    Department,
    Title,
    ManagerId,
    Status,
    HireDate,
    StatusDate,
}

const COLS: [Col; 11] = [
    Col::EmployeeId,
    Col::Email,
    Col::AlternateEmails,
    Col::FirstName,
    Col::LastName,
    Col::Department,
    Col::Title,
    Col::ManagerId,
    Col::Status,
    Col::HireDate,
    Col::StatusDate,
];

impl Col {
    fn name(self) -> &'static str {
        match self {
            Col::EmployeeId => "employee_id",
            Col::Email => "email",
            Col::AlternateEmails => "alternate_emails",
            Col::FirstName => "first_name",
            Col::LastName => "last_name",
            Col::Department => "department",
            Col::Title => "title",
            Col::ManagerId => "manager_id",
            Col::Status => "status",
            Col::HireDate => "hire_date",
            Col::StatusDate => "status_date",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }

    fn from_canonical(name: &str) -> Option<Col> {
        COLS.iter().copied().find(|c| c.name() == name)
    }

    /// A CSV header cell, canonical names and the documented variants.
    fn from_header(cell: &str) -> Option<Col> {
        let h = cell
            .trim()
            .trim_start_matches('\u{feff}')
            .trim()
            .to_ascii_lowercase()
            .replace([' ', '-'], "_");
        Col::from_canonical(&h).or(match h.as_str() {
            "employee_number" | "employee_no" => Some(Col::EmployeeId),
            "primary_email" | "work_email" => Some(Col::Email),
            "alternate_email" | "aliases" => Some(Col::AlternateEmails),
            "given_name" => Some(Col::FirstName),
            "family_name" | "surname" => Some(Col::LastName),
            "job_title" => Some(Col::Title),
            "manager" | "manager_employee_id" => Some(Col::ManagerId),
            "start_date" => Some(Col::HireDate),
            _ => None,
        })
    }
}

const REQUIRED: [Col; 3] = [Col::EmployeeId, Col::Email, Col::Status];

/// One row read from a source: the person as far as it could be read, and which columns did
/// not parse (their checks are skipped so one mistake gives one error).
#[derive(Clone, Debug)]
struct Row {
    location: RowLocation,
    person: Person,
    failed: u16,
}

/// One source read, not yet checked: its rows and its syntax errors.
#[derive(Clone, Debug)]
pub struct ParsedSource {
    name: String,
    rows: Vec<Row>,
    errors: Vec<RosterError>,
}

impl ParsedSource {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Rows read (bad ones included).
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

struct RowBuilder<'a> {
    input: &'a str,
    location: RowLocation,
    errors: &'a mut Vec<RosterError>,
    failed: u16,
    employee_id: Option<String>,
}

impl RowBuilder<'_> {
    fn error(&mut self, col: Col, value: &str, reason: impl Into<String>) {
        self.failed |= col.bit();
        self.errors.push(RosterError {
            input: self.input.to_string(),
            location: self.location,
            employee_id: self.employee_id.clone(),
            column: Some(col.name().to_string()),
            value: Some(value.to_string()),
            reason: reason.into(),
        });
    }

    fn date(&mut self, col: Col, v: Option<&str>) -> Option<Date> {
        let v = v?;
        match Date::parse(v, time::macros::format_description!("[year]-[month]-[day]")) {
            Ok(d) => Some(d),
            Err(_) => {
                self.error(col, v, "not a date (expected YYYY-MM-DD)");
                None
            }
        }
    }

    /// Builds the person from cell values (trimmed, `None` when empty).
    fn person(&mut self, cell: &dyn Fn(Col) -> Option<String>, alternates: Vec<String>) -> Person {
        let employee_id = cell(Col::EmployeeId).unwrap_or_default();
        self.employee_id = (!employee_id.is_empty()).then(|| employee_id.clone());
        let status = match cell(Col::Status) {
            Some(s) => match s.parse::<HrStatus>() {
                Ok(st) => st,
                Err(_) => {
                    self.error(
                        Col::Status,
                        &s,
                        "unknown status (expected active, on_leave or terminated)",
                    );
                    HrStatus::Active
                }
            },
            None => {
                self.error(Col::Status, "", "missing status");
                HrStatus::Active
            }
        };
        let hire_date = self.date(Col::HireDate, cell(Col::HireDate).as_deref());
        let status_date = self.date(Col::StatusDate, cell(Col::StatusDate).as_deref());
        Person {
            employee_id,
            email: cell(Col::Email).unwrap_or_default(),
            alternate_emails: alternates,
            first_name: cell(Col::FirstName).unwrap_or_default(),
            last_name: cell(Col::LastName).unwrap_or_default(),
            department: cell(Col::Department),
            title: cell(Col::Title),
            manager_id: cell(Col::ManagerId),
            status,
            hire_date,
            status_date,
        }
    }
}

fn split_alternates(v: &str) -> Vec<String> {
    v.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn trimmed(v: &str) -> Option<String> {
    let t = v.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Reads a CSV roster source (see the module doc for columns). Syntax problems are collected
/// in the result; only a failure to read the input is an error here.
pub fn parse_csv<R: Read>(input: &str, reader: R) -> Result<ParsedSource, RosterImportError> {
    let mut out = ParsedSource {
        name: input.to_string(),
        rows: Vec::new(),
        errors: Vec::new(),
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let read_err = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(source) => RosterImportError::Read {
            input: input.to_string(),
            source,
        },
        other => RosterImportError::Read {
            input: input.to_string(),
            source: std::io::Error::other(format!("{other:?}")),
        },
    };
    let mut records = rdr.byte_records();
    let header = match records.next() {
        Some(h) => h.map_err(read_err)?,
        None => {
            out.errors
                .push(source_error(input, "the file is empty (no header)"));
            return Ok(out);
        }
    };
    let mut cols: Vec<Option<Col>> = Vec::with_capacity(header.len());
    for cell in header.iter() {
        let text = String::from_utf8_lossy(cell).to_string();
        match Col::from_header(&text) {
            Some(c) if cols.contains(&Some(c)) => out.errors.push(RosterError {
                column: Some(c.name().to_string()),
                value: Some(text),
                ..source_error(input, "column appears twice in the header")
            }),
            Some(c) => cols.push(Some(c)),
            None => {
                out.errors.push(RosterError {
                    value: Some(text),
                    ..source_error(
                        input,
                        "unknown column (expected employee_id, email, alternate_emails, \
                         first_name, last_name, department, title, manager_id, status, \
                         hire_date, status_date)",
                    )
                });
                cols.push(None);
            }
        }
    }
    for req in REQUIRED {
        if !cols.contains(&Some(req)) {
            out.errors.push(RosterError {
                column: Some(req.name().to_string()),
                ..source_error(input, "required column missing from the header")
            });
        }
    }
    if !out.errors.is_empty() {
        return Ok(out);
    }
    for rec in records {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line());
                match e.into_kind() {
                    csv::ErrorKind::Io(source) => {
                        return Err(RosterImportError::Read {
                            input: input.to_string(),
                            source,
                        })
                    }
                    other => {
                        out.errors.push(RosterError {
                            input: input.to_string(),
                            location: line.map_or(RowLocation::Source, RowLocation::Line),
                            employee_id: None,
                            column: None,
                            value: None,
                            reason: format!("unreadable CSV row: {other:?}"),
                        });
                        continue;
                    }
                }
            }
        };
        let line = rec.position().map_or(0, |p| p.line());
        let location = RowLocation::Line(line);
        if rec.len() != cols.len() {
            out.errors.push(RosterError {
                input: input.to_string(),
                location,
                employee_id: None,
                column: None,
                value: None,
                reason: format!(
                    "row has {} fields, the header has {}",
                    rec.len(),
                    cols.len()
                ),
            });
            continue;
        }
        let mut values: [Option<String>; 11] = Default::default();
        let mut utf8_bad: Vec<Col> = Vec::new();
        for (cell, col) in rec.iter().zip(&cols) {
            let Some(col) = col else { continue };
            match std::str::from_utf8(cell) {
                Ok(s) => values[*col as usize] = Some(s.to_string()),
                Err(_) => utf8_bad.push(*col),
            }
        }
        let mut b = RowBuilder {
            input,
            location,
            errors: &mut out.errors,
            failed: 0,
            employee_id: None,
        };
        for col in utf8_bad {
            b.error(col, "", "not UTF-8 text");
        }
        let alternates = values[Col::AlternateEmails as usize]
            .as_deref()
            .map(split_alternates)
            .unwrap_or_default();
        let cell = |c: Col| values[c as usize].as_deref().and_then(trimmed);
        let person = b.person(&cell, alternates);
        let failed = b.failed;
        out.rows.push(Row {
            location,
            person,
            failed,
        });
    }
    Ok(out)
}

fn source_error(input: &str, reason: &str) -> RosterError {
    RosterError {
        input: input.to_string(),
        location: RowLocation::Source,
        employee_id: None,
        column: None,
        value: None,
        reason: reason.to_string(),
    }
}

/// Reads a JSON roster source: an array of objects (see the module doc).
pub fn parse_json<R: Read>(input: &str, reader: R) -> Result<ParsedSource, RosterImportError> {
    let value: serde_json::Value = serde_json::from_reader(reader).map_err(|source| {
        if source.is_io() {
            RosterImportError::Read {
                input: input.to_string(),
                source: source.into(),
            }
        } else {
            RosterImportError::Json {
                input: input.to_string(),
                source,
            }
        }
    })?;
    let mut out = ParsedSource {
        name: input.to_string(),
        rows: Vec::new(),
        errors: Vec::new(),
    };
    let serde_json::Value::Array(items) = value else {
        out.errors
            .push(source_error(input, "expected a JSON array of people"));
        return Ok(out);
    };
    for (i, item) in items.into_iter().enumerate() {
        let location = RowLocation::Index(i);
        let serde_json::Value::Object(obj) = item else {
            out.errors.push(RosterError {
                input: input.to_string(),
                location,
                employee_id: None,
                column: None,
                value: Some(item.to_string()),
                reason: "expected an object".into(),
            });
            continue;
        };
        let mut b = RowBuilder {
            input,
            location,
            errors: &mut out.errors,
            failed: 0,
            employee_id: None,
        };
        let mut values: [Option<String>; 11] = Default::default();
        let mut alternates = Vec::new();
        // Unknown and mistyped fields first (reported with the id once it is known below).
        let mut deferred: Vec<(Option<Col>, String, String, &'static str)> = Vec::new();
        for (key, v) in &obj {
            let Some(col) = Col::from_canonical(key) else {
                deferred.push((None, key.clone(), v.to_string(), "unknown field"));
                continue;
            };
            match (col, v) {
                (_, serde_json::Value::Null) => {}
                (_, serde_json::Value::String(s)) if col == Col::AlternateEmails => {
                    alternates = split_alternates(s)
                }
                (Col::AlternateEmails, serde_json::Value::Array(xs)) => {
                    for x in xs {
                        match x.as_str() {
                            Some(s) if !s.trim().is_empty() => {
                                alternates.push(s.trim().to_string())
                            }
                            Some(_) => {}
                            None => deferred.push((
                                Some(col),
                                key.clone(),
                                x.to_string(),
                                "expected an email string",
                            )),
                        }
                    }
                }
                (_, serde_json::Value::String(s)) => values[col as usize] = Some(s.clone()),
                (Col::EmployeeId | Col::ManagerId, serde_json::Value::Number(n)) => {
                    values[col as usize] = Some(n.to_string())
                }
                _ => deferred.push((
                    Some(col),
                    key.clone(),
                    v.to_string(),
                    if col == Col::AlternateEmails {
                        "expected an array of strings"
                    } else {
                        "expected a string"
                    },
                )),
            }
        }
        let cell = |c: Col| values[c as usize].as_deref().and_then(trimmed);
        let person = b.person(&cell, alternates);
        for (col, key, value, reason) in deferred {
            match col {
                Some(c) => b.error(c, &value, reason),
                None => b.errors.push(RosterError {
                    input: input.to_string(),
                    location,
                    employee_id: b.employee_id.clone(),
                    column: Some(key),
                    value: Some(value),
                    reason: format!(
                        "{reason} (expected employee_id, email, alternate_emails, first_name, \
                         last_name, department, title, manager_id, status, hire_date, \
                         status_date)"
                    ),
                }),
            }
        }
        let failed = b.failed;
        out.rows.push(Row {
            location,
            person,
            failed,
        });
    }
    Ok(out)
}

/// Why `email` is not a usable address, if it is not.
pub fn email_problem(email: &str) -> Option<&'static str> {
    if email.chars().any(char::is_whitespace) {
        return Some("email contains whitespace");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Some("not an email address (no @)");
    };
    if local.is_empty() {
        return Some("not an email address (nothing before @)");
    }
    if domain.contains('@') {
        return Some("not an email address (more than one @)");
    }
    if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
        return Some("not an email address (bad domain)");
    }
    if domain.contains("..") {
        return Some("not an email address (bad domain)");
    }
    None
}

/// Checks every row of every source together and builds the roster, or returns every error.
pub fn build(sources: Vec<ParsedSource>) -> Result<Roster, RosterImportError> {
    let input = sources
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(" + ");
    let mut errors: Vec<(usize, RosterError)> = Vec::new();
    for (si, s) in sources.iter().enumerate() {
        errors.extend(s.errors.iter().cloned().map(|e| (si, e)));
        if s.rows.is_empty() && s.errors.is_empty() {
            errors.push((si, source_error(&s.name, "no people in the source")));
        }
    }
    // Ids and emails, first come first kept, across sources.
    let mut ids: HashMap<&str, (usize, RowLocation)> = HashMap::new();
    let mut emails: HashMap<String, (usize, RowLocation, &str)> = HashMap::new();
    for (si, s) in sources.iter().enumerate() {
        for row in &s.rows {
            let p = &row.person;
            let mut err = |col: Option<Col>, value: &str, reason: String| {
                errors.push((
                    si,
                    RosterError {
                        input: s.name.clone(),
                        location: row.location,
                        employee_id: (!p.employee_id.is_empty()).then(|| p.employee_id.clone()),
                        column: col.map(|c| c.name().to_string()),
                        value: Some(value.to_string()),
                        reason,
                    },
                ))
            };
            let at = |osi: usize, loc: RowLocation| -> String {
                if osi == si {
                    loc.to_string()
                } else {
                    format!("{} {loc}", sources[osi].name)
                }
            };
            if p.employee_id.is_empty() {
                err(Some(Col::EmployeeId), "", "missing employee id".into());
            } else if let Some(&(osi, loc)) = ids.get(p.employee_id.as_str()) {
                err(
                    Some(Col::EmployeeId),
                    &p.employee_id,
                    format!("duplicate employee id (first used at {})", at(osi, loc)),
                );
            } else {
                ids.insert(&p.employee_id, (si, row.location));
            }
            if p.email.is_empty() {
                err(Some(Col::Email), "", "missing email".into());
            }
            let mut own: Vec<String> = Vec::new();
            for (k, e) in p.emails().enumerate() {
                let col = if k == 0 {
                    Col::Email
                } else {
                    Col::AlternateEmails
                };
                if e.is_empty() {
                    continue;
                }
                if let Some(problem) = email_problem(e) {
                    err(Some(col), e, problem.into());
                    continue;
                }
                let n = normalize_email(e);
                if own.contains(&n) {
                    continue; // the same person listing an address twice is harmless
                }
                own.push(n.clone());
                match emails.get(&n) {
                    Some(&(osi, loc, owner)) => err(
                        Some(col),
                        e,
                        format!(
                            "email used by two people: already {owner}'s (at {})",
                            at(osi, loc)
                        ),
                    ),
                    None => {
                        emails.insert(n, (si, row.location, p.employee_id.as_str()));
                    }
                }
            }
            let failed = |c: Col| row.failed & c.bit() != 0;
            if p.status == HrStatus::Terminated
                && p.status_date.is_none()
                && !failed(Col::StatusDate)
            {
                err(
                    Some(Col::StatusDate),
                    "",
                    "terminated without a date (status_date is required for terminated people)"
                        .into(),
                );
            }
            if let (Some(h), Some(s)) = (p.hire_date, p.status_date) {
                if s < h {
                    err(
                        Some(Col::StatusDate),
                        &s.to_string(),
                        format!("status_date is before hire_date {h}"),
                    );
                }
            }
            if p.manager_id.as_deref() == Some(p.employee_id.as_str()) && !p.employee_id.is_empty()
            {
                err(
                    Some(Col::ManagerId),
                    &p.employee_id,
                    "a person cannot be their own manager".into(),
                );
            }
        }
    }
    for (si, s) in sources.iter().enumerate() {
        for row in &s.rows {
            let p = &row.person;
            if let Some(m) = &p.manager_id {
                if m != &p.employee_id && !ids.contains_key(m.as_str()) {
                    errors.push((
                        si,
                        RosterError {
                            input: s.name.clone(),
                            location: row.location,
                            employee_id: (!p.employee_id.is_empty()).then(|| p.employee_id.clone()),
                            column: Some(Col::ManagerId.name().to_string()),
                            value: Some(m.clone()),
                            reason: "manager id not in the roster".into(),
                        },
                    ));
                }
            }
        }
    }
    if !errors.is_empty() {
        let col_order = |c: &Option<String>| {
            c.as_deref()
                .and_then(Col::from_canonical)
                .map_or(0, |c| c as usize + 1)
        };
        errors.sort_by(|(sa, a), (sb, b)| {
            (sa, a.location, col_order(&a.column)).cmp(&(sb, b.location, col_order(&b.column)))
        });
        return Err(RosterImportError::Invalid {
            input,
            errors: errors.into_iter().map(|(_, e)| e).collect(),
        });
    }
    let mut versions: Vec<RosterSource> = Vec::with_capacity(sources.len());
    let mut people = Vec::new();
    for s in sources {
        let ps: Vec<Person> = s.rows.into_iter().map(|r| r.person).collect();
        versions.push(RosterSource {
            name: s.name,
            hash: crate::person::content_hash(&ps),
            rows: ps.len(),
        });
        people.extend(ps);
    }
    let hash = match versions.as_slice() {
        [one] => one.hash.clone(),
        _ => crate::person::content_hash(&people),
    };
    let version = RosterVersion {
        hash,
        rows: people.len(),
        sources: versions,
    };
    Ok(Roster::assemble(people, version))
}

/// Imports one CSV source: the whole roster or every error.
pub fn import_csv<R: Read>(input: &str, reader: R) -> Result<Roster, RosterImportError> {
    build(vec![parse_csv(input, reader)?])
}

/// Imports one JSON source: the whole roster or every error.
pub fn import_json<R: Read>(input: &str, reader: R) -> Result<Roster, RosterImportError> {
    build(vec![parse_json(input, reader)?])
}

/// Validates people given as values (e.g. loaded from the store); errors name the index.
pub(crate) fn validate_people(
    input: &str,
    people: Vec<Person>,
) -> Result<Roster, RosterImportError> {
    let rows = people
        .into_iter()
        .enumerate()
        .map(|(i, mut p)| {
            p.employee_id = p.employee_id.trim().to_string();
            p.email = p.email.trim().to_string();
            Row {
                location: RowLocation::Index(i),
                person: p,
                failed: 0,
            }
        })
        .collect();
    build(vec![ParsedSource {
        name: input.to_string(),
        rows,
        errors: Vec::new(),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "employee_id,email,alternate_emails,first_name,last_name,department,title,manager_id,status,hire_date,status_date\n";

    #[test]
    fn good_csv_imports_every_row() {
        let csv = format!(
            "{HEADER}E1,ada@acme.example,a.l@acme.example;ada.old@acme.example,Ada,Lovelace,Eng,CEO,,active,2020-01-02,\n\
             E2,bob@acme.example,,Bob,Ross,Eng,Painter,E1,terminated,2021-01-02,2026-03-04\n"
        );
        let r = import_csv("hr.csv", csv.as_bytes()).unwrap();
        assert_eq!(r.len(), 2);
        let ada = r.get("E1").unwrap();
        assert_eq!(ada.alternate_emails.len(), 2);
        assert_eq!(r.get("E2").unwrap().manager_id.as_deref(), Some("E1"));
        assert_eq!(r.version().rows, 2);
        assert_eq!(r.version().sources[0].name, "hr.csv");
    }

    #[test]
    fn header_variants_and_column_order_are_accepted() {
        let csv = "Status,Work Email,Employee-Number,Given Name\nactive,ada@acme.example,E1,Ada\n";
        let r = import_csv("x.csv", csv.as_bytes()).unwrap();
        assert_eq!(r.get("E1").unwrap().first_name, "Ada");
    }

    #[test]
    fn unknown_and_missing_columns_are_header_errors() {
        let csv = "employee_id,emial,status\nE1,ada@acme.example,active\n";
        let err = import_csv("x.csv", csv.as_bytes()).unwrap_err();
        let reasons: Vec<String> = err.errors().iter().map(|e| e.to_string()).collect();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(reasons[0].contains("emial") && reasons[0].contains("unknown column"));
        assert!(reasons[1].contains("`email`") && reasons[1].contains("required"));
    }

    #[test]
    fn json_and_csv_of_the_same_people_hash_the_same() {
        let csv = format!(
            "{HEADER}E1,ada@acme.example,x@acme.example;y@acme.example,Ada,Lovelace,,,,active,,\n"
        );
        let json = r#"[{"employee_id": "E1", "email": "ada@acme.example",
            "alternate_emails": ["y@acme.example", "x@acme.example"], "first_name": "Ada",
            "last_name": "Lovelace", "status": "active", "manager_id": null}]"#;
        let a = import_csv("a.csv", csv.as_bytes()).unwrap();
        let b = import_json("b.json", json.as_bytes()).unwrap();
        assert_eq!(a.version().hash, b.version().hash);
    }

    #[test]
    fn json_errors_name_the_index_and_the_field() {
        let json = r#"[{"employee_id": 7, "email": "ok@acme.example", "status": "active"},
                       {"employee_id": "E2", "email": "bad", "status": "active", "colour": "red"},
                       "nope"]"#;
        let err = import_json("p.json", json.as_bytes()).unwrap_err();
        let e = err.errors();
        assert_eq!(e.len(), 3, "{e:?}");
        assert_eq!(e[0].location, RowLocation::Index(1));
        assert!(e.iter().any(|x| x.column.as_deref() == Some("colour")));
        assert!(e.iter().any(|x| x.value.as_deref() == Some("bad")));
        assert_eq!(e[2].location, RowLocation::Index(2));
    }

    #[test]
    fn not_json_is_a_json_error_with_its_cause() {
        let err = import_json("p.json", "[{".as_bytes()).unwrap_err();
        assert!(matches!(err, RosterImportError::Json { .. }));
        assert!(std::error::Error::source(&err).is_some());
    }

    #[test]
    fn email_problems() {
        assert_eq!(email_problem("a@b.example"), None);
        for bad in [
            "a",
            "@b.example",
            "a@b",
            "a@@b.example",
            "a b@c.example",
            "a@.b",
        ] {
            assert!(email_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn several_sources_are_checked_together() {
        let hr = format!("{HEADER}E1,ada@acme.example,,Ada,L,,,,active,,\n");
        let contractors = r#"[{"employee_id": "C1", "email": "ADA@acme.example",
            "status": "active", "manager_id": "E1"},
            {"employee_id": "C2", "email": "cy@partner.example", "status": "active",
             "manager_id": "E1"}]"#;
        let a = parse_csv("hr.csv", hr.as_bytes()).unwrap();
        let b = parse_json("contractors.json", contractors.as_bytes()).unwrap();
        let err = build(vec![a.clone(), b]).unwrap_err();
        assert_eq!(err.errors().len(), 1);
        let e = &err.errors()[0];
        assert_eq!(e.input, "contractors.json");
        assert!(
            e.reason.contains("E1") && e.reason.contains("hr.csv line 2"),
            "{e}"
        );

        let good = r#"[{"employee_id": "C2", "email": "cy@partner.example",
            "status": "active", "manager_id": "E1"}]"#;
        let b = parse_json("contractors.json", good.as_bytes()).unwrap();
        let r = build(vec![a, b]).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r.version().sources.len(), 2);
        assert_eq!(r.version().label().split(" + ").count(), 2);
    }
}
