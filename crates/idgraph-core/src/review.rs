//! The access review: what `idgraph review` prints — the roster version it ran on, a summary
//! per app, then the findings by severity and the open correlation cases. Serialisable as
//! JSON as it is; [`Review::rows`] / [`Review::write_csv`] flatten the findings for CSV;
//! [`Review::fails`] decides `--fail-on SEVERITY`.

use crate::correlate::{CorrelationCase, Decision};
use crate::person::RosterVersion;
use crate::reconcile::{
    reconcile, AppSummary, Finding, FindingKind, Policy, ReconcileInput, Reconciliation, Severity,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Totals over all apps.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewTotals {
    pub people: usize,
    pub accounts: usize,
    pub identities: usize,
    pub seats_used: usize,
    pub wasted_seats: usize,
    pub findings: usize,
    pub by_severity: BTreeMap<Severity, usize>,
    pub by_kind: BTreeMap<FindingKind, usize>,
    pub cases: usize,
}

/// An access review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// The `now` the review was computed for.
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    /// The roster it was run on.
    pub roster: RosterVersion,
    pub policy: Policy,
    pub totals: ReviewTotals,
    pub apps: Vec<AppSummary>,
    /// Most severe first.
    pub findings: Vec<Finding>,
    /// Accounts waiting for `idgraph correlate`.
    pub cases: Vec<CorrelationCase>,
    /// Decisions that name people no longer in the roster.
    pub stale_decisions: Vec<Decision>,
}

/// Reconciles `input` and builds its review.
pub fn review(input: &ReconcileInput<'_>) -> Review {
    Review::new(input, reconcile(input))
}

impl Review {
    /// Builds the review of a reconciliation of `input`.
    pub fn new(input: &ReconcileInput<'_>, rec: Reconciliation) -> Review {
        let mut totals = ReviewTotals {
            people: input.roster.len(),
            findings: rec.findings.len(),
            cases: rec.correlations.cases.len(),
            ..ReviewTotals::default()
        };
        for a in &rec.apps {
            totals.accounts += a.accounts;
            totals.identities += a.identities;
            totals.seats_used += a.seats_used;
            totals.wasted_seats += a.wasted_seats;
        }
        for f in &rec.findings {
            *totals.by_severity.entry(f.severity).or_default() += 1;
            *totals.by_kind.entry(f.kind).or_default() += 1;
        }
        Review {
            generated_at: input.now,
            roster: input.roster.version().clone(),
            policy: input.policy.clone(),
            totals,
            apps: rec.apps,
            findings: rec.findings,
            cases: rec.correlations.cases,
            stale_decisions: rec.correlations.stale_decisions,
        }
    }

    /// The most severe finding's severity.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    /// Whether any finding is at least `threshold` (`--fail-on`).
    pub fn fails(&self, threshold: Severity) -> bool {
        self.worst().is_some_and(|w| w >= threshold)
    }

    /// Findings grouped by severity, most severe first (empty groups left out).
    pub fn by_severity(&self) -> Vec<(Severity, Vec<&Finding>)> {
        Severity::ALL
            .iter()
            .map(|&s| {
                (
                    s,
                    self.findings.iter().filter(|f| f.severity == s).collect(),
                )
            })
            .filter(|(_, v): &(Severity, Vec<&Finding>)| !v.is_empty())
            .collect()
    }

    /// The findings as flat rows (table and CSV output).
    pub fn rows(&self) -> Vec<FindingRow> {
        self.findings.iter().map(FindingRow::of).collect()
    }

    /// Writes the findings as CSV with a header ([`FINDING_COLUMNS`]).
    pub fn write_csv<W: std::io::Write>(&self, out: W) -> Result<(), csv::Error> {
        let mut w = csv::Writer::from_writer(out);
        for r in self.rows() {
            w.serialize(r)?;
        }
        if self.findings.is_empty() {
            w.write_record(FINDING_COLUMNS)?;
        }
        w.flush()?;
        Ok(())
    }
}

/// CSV columns of [`FindingRow`], in order.
pub const FINDING_COLUMNS: [&str; 20] = [
    "severity",
    "kind",
    "app",
    "tenant",
    "namespace",
    "native_id",
    "email",
    "display_name",
    "account_status",
    "employee_id",
    "person_name",
    "person_status",
    "evidence",
    "action",
    "metrics",
    "seat_consuming",
    "wasted_seat",
    "privileged",
    "related",
    "id",
];

/// One finding, flat: every value a string or a bool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingRow {
    pub severity: Severity,
    pub kind: FindingKind,
    pub app: String,
    pub tenant: String,
    pub namespace: String,
    pub native_id: String,
    pub email: String,
    pub display_name: String,
    pub account_status: String,
    pub employee_id: String,
    pub person_name: String,
    pub person_status: String,
    pub evidence: String,
    pub action: String,
    /// `key=value;key=value`.
    pub metrics: String,
    pub seat_consuming: bool,
    pub wasted_seat: bool,
    pub privileged: bool,
    /// `namespace:native_id;…` of the related records.
    pub related: String,
    pub id: String,
}

impl FindingRow {
    pub fn of(f: &Finding) -> FindingRow {
        let (namespace, native_id) = f
            .account
            .as_ref()
            .map(|k| (k.namespace.clone(), k.native_id.clone()))
            .unwrap_or_default();
        FindingRow {
            severity: f.severity,
            kind: f.kind,
            app: f.app.clone(),
            tenant: f.tenant.clone(),
            namespace,
            native_id,
            email: f.email.clone().unwrap_or_default(),
            display_name: f.display_name.clone().unwrap_or_default(),
            account_status: f
                .account_status
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            employee_id: f
                .person
                .as_ref()
                .map(|p| p.employee_id.clone())
                .unwrap_or_default(),
            person_name: f
                .person
                .as_ref()
                .map(|p| p.name.clone())
                .unwrap_or_default(),
            person_status: f
                .person
                .as_ref()
                .map(|p| p.status.as_str().to_string())
                .unwrap_or_default(),
            evidence: f.evidence.clone(),
            action: f.action.clone(),
            metrics: f
                .metrics
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(";"),
            seat_consuming: f.seat_consuming,
            wasted_seat: f.wasted_seat,
            privileged: f.privileged,
            related: f
                .related
                .iter()
                .map(|k| format!("{}:{}", k.namespace, k.native_id))
                .collect::<Vec<_>>()
                .join(";"),
            id: f.id.clone(),
        }
    }
}
