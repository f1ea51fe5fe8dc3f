//! Writing a generated company out: the HR roster as CSV (the source of truth idgraph imports)
//! and the ground truth (every account's owner and every injected drift) as JSON.

use super::*;
use std::io::Write;
use std::path::Path;

/// One account of the ground truth: who owns it and how its email relates to them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TruthAccount {
    pub app: App,
    pub kind: AccountKind,
    pub native_id: u64,
    pub scim_id: Option<String>,
    pub scope: Option<u64>,
    pub email: String,
    pub status: SeedStatus,
    pub owner: Option<String>,
    pub email_variant: EmailVariant,
}

/// What a correct sync + review must find: written next to the roster by `idgraph sim`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    pub config: CompanyConfig,
    pub pending_days: i64,
    pub dormant_days: i64,
    pub drifts: Vec<Drift>,
    pub accounts: Vec<TruthAccount>,
}

impl GroundTruth {
    pub fn of(company: &Company) -> Self {
        Self {
            config: company.config.clone(),
            pending_days: PENDING_DAYS,
            dormant_days: DORMANT_DAYS,
            drifts: company.drifts.clone(),
            accounts: company
                .accounts
                .iter()
                .map(|a| TruthAccount {
                    app: a.app,
                    kind: a.kind,
                    native_id: a.native_id,
                    scim_id: a.scim_id.clone(),
                    scope: a.scope,
                    email: a.email.clone(),
                    status: a.status,
                    owner: a.owner.clone(),
                    email_variant: a.email_variant,
                })
                .collect(),
        }
    }
}

/// The roster's CSV header, in column order.
pub const ROSTER_COLUMNS: [&str; 11] = [
    "employee_id",
    "email",
    "alternate_emails",
    "first_name",
    "last_name",
    "department",
    "title",
    "manager_id",
    "status",
    "hire_date",
    "status_date",
];

/// Writes the HR roster as CSV: one row per person; `alternate_emails` separated by `;`,
/// `status` one of `active`, `on_leave`, `terminated`; dates as `YYYY-MM-DD`.
pub fn write_roster_csv<W: Write>(company: &Company, out: W) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(ROSTER_COLUMNS)?;
    for p in &company.people {
        let status = match p.status {
            HrStatus::Active => "active",
            HrStatus::OnLeave => "on_leave",
            HrStatus::Terminated => "terminated",
        };
        let hire = p.hire_date.to_string();
        let status_date = p.status_date.map(|d| d.to_string()).unwrap_or_default();
        w.write_record([
            p.employee_id.as_str(),
            p.email.as_str(),
            &p.alternate_emails.join(";"),
            p.first_name.as_str(),
            p.last_name.as_str(),
            p.department.as_str(),
            p.title.as_str(),
            p.manager_id.as_deref().unwrap_or(""),
            status,
            &hire,
            &status_date,
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Writes the ground truth as pretty JSON to `path`.
pub fn write_ground_truth(company: &Company, path: &Path) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    let mut out = std::io::BufWriter::new(file);
    serde_json::to_writer(&mut out, &GroundTruth::of(company)).map_err(std::io::Error::other)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn roster_csv_has_one_row_per_person() {
        let c = generate(&CompanyConfig::new(2, 50, datetime!(2026-06-01 00:00 UTC)));
        let mut buf = Vec::new();
        write_roster_csv(&c, &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let mut r = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(
            r.headers().unwrap().iter().collect::<Vec<_>>(),
            ROSTER_COLUMNS
        );
        let rows: Vec<csv::StringRecord> = r.records().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), 50);
        assert_eq!(&rows[0][0], "E000001");
        assert!(rows
            .iter()
            .any(|r| &r[8] == "terminated" && !r[10].is_empty()));
    }

    #[test]
    fn ground_truth_round_trips() {
        let c = generate(&CompanyConfig::new(2, 80, datetime!(2026-06-01 00:00 UTC)));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("truth.json");
        write_ground_truth(&c, &path).unwrap();
        let t: GroundTruth = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(t, GroundTruth::of(&c));
        assert_eq!(t.accounts.len(), c.accounts.len());
    }
}
