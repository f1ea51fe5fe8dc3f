//! `idgraph review`: the access review. Reads the accounts, the privileged grants, the
//! current roster, the correlation decisions and each app's last successful sync out of the
//! store, reconciles them (`idgraph_core::review`) under the `[review]` policy of the
//! configuration, and prints a summary per app, then the findings by severity — as a table,
//! JSON or CSV. `--fail-on SEVERITY` ends with exit status 3 when a finding is at least that
//! severe, for scheduled jobs.
//!
//! [`build`] and [`write_report`] are what `idgraph demo` reuses.

use crate::cli::{self, Format, Global};
use crate::config::LoadedConfig;
use anyhow::{Context, Result};
use clap::Args;
use idgraph_core::reconcile::{AppSummary, Finding};
use idgraph_core::{AppSync, Policy, Review, Severity};
use idgraph_store::{ReviewData, ReviewRecord, Store, StoredRosterVersion};
use serde::Serialize;
use std::collections::{BTreeSet, HashSet};
use std::io::Write;
use time::OffsetDateTime;

/// Print the access review: a summary per app, then the findings by severity.
///
/// Reads what the last syncs stored, the current roster (`idgraph roster import`) and the
/// decisions made with `idgraph correlate`; the policy comes from `[review]` in the
/// configuration (pending_days, dormant_days, stale_sync_hours, [review.correlation]). Says
/// which roster version and which sync times it used. Each review's summary is recorded in
/// the store, so the next one tells new findings from known ones.
///
/// Exit status: 0, or 3 with --fail-on when a finding is at least that severe (1: error).
///
/// Examples:
///   idgraph review
///   idgraph review --app freshdesk --format csv > freshdesk-findings.csv
///   idgraph review --format json | jq '.findings[] | select(.severity == "critical")'
///   idgraph review --fail-on high        # in a scheduled job
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ReviewArgs {
    /// Only this app (`freshservice`, `freshdesk`, `freshsales`, `freshbooks`, `helpscout`).
    #[arg(long)]
    pub app: Option<String>,
    /// Output: table, json (the whole review) or csv (the findings).
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Exit with status 3 when a finding is at least this severe: low, medium, high or
    /// critical.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
    /// Review as of this time (RFC 3339, e.g. 2026-06-01T00:00:00Z) instead of now: for
    /// reproducible reports.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub as_of: Option<OffsetDateTime>,
    /// Do not record this review's summary in the store.
    #[arg(long)]
    pub no_record: bool,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

fn parse_time(s: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("`{s}` is not an RFC 3339 time like 2026-06-01T00:00:00Z: {e}"))
}

/// A review and what it was run on.
#[derive(Debug, Clone)]
pub struct ReviewReport {
    pub review: Review,
    /// The roster version it used.
    pub roster_version: StoredRosterVersion,
    /// The sync times it used, per (app, tenant).
    pub syncs: Vec<AppSync>,
    /// The app it was limited to.
    pub scope: Option<String>,
    /// Compared with the previous recorded review of the same scope.
    pub since_last: Option<SinceLast>,
    /// The id of this review's record (`None`: not recorded).
    pub recorded: Option<i64>,
}

/// What changed since the previous review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SinceLast {
    pub review_id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    pub roster_version: i64,
    /// `None` when the previous review no longer keeps its finding ids.
    pub new_findings: Option<usize>,
    pub resolved_findings: Option<usize>,
}

/// The `[review]` policy of the configuration (unknown keys are errors).
pub fn policy(cfg: &LoadedConfig) -> Result<Policy> {
    cfg.review_section::<Policy>()
        .context("config: [review] (keys: pending_days, dormant_days, stale_sync_hours, [review.correlation])")
}

/// Runs the review on the store's data as of `now` (`app`: only that app), comparing it with
/// the previous one and recording it when `record`.
pub async fn build(
    store: &dyn Store,
    cfg: &LoadedConfig,
    app: Option<&str>,
    now: OffsetDateTime,
    record: bool,
) -> Result<ReviewReport> {
    let policy = policy(cfg)?;
    let mut data = ReviewData::load(store, app).await?;
    // Configured apps that never synced are stale data too.
    let synced: HashSet<String> = data.syncs.iter().map(|s| s.app.clone()).collect();
    for name in cfg.app_names() {
        let kind = cfg.app_kind(&name).unwrap_or_else(|| name.clone());
        if app.is_some_and(|a| a != kind) || synced.contains(&kind) {
            continue;
        }
        data.syncs.push(AppSync {
            app: kind,
            tenant: format!("apps.{name}"),
            last_synced_at: None,
        });
    }
    let review = idgraph_core::review(&data.input(&policy, now));
    let scope = app.map(str::to_string);
    let previous = store.last_review(scope.as_deref()).await?;
    let ids: Vec<String> = review.findings.iter().map(|f| f.id.clone()).collect();
    let since_last = previous.map(|p| {
        let (new, resolved) = match &p.findings {
            Some(old) => {
                let old: HashSet<&str> = old.iter().map(String::as_str).collect();
                let now_ids: HashSet<&str> = ids.iter().map(String::as_str).collect();
                (
                    Some(now_ids.difference(&old).count()),
                    Some(old.difference(&now_ids).count()),
                )
            }
            None => (None, None),
        };
        SinceLast {
            review_id: p.id,
            generated_at: p.generated_at,
            roster_version: p.roster_version,
            new_findings: new,
            resolved_findings: resolved,
        }
    });
    let recorded = if record {
        Some(
            store
                .record_review(&ReviewRecord {
                    id: 0,
                    generated_at: now,
                    scope: scope.clone(),
                    roster_version: data.roster_version.id,
                    roster_hash: data.roster_version.version.hash.clone(),
                    syncs: data.syncs.clone(),
                    totals: review.totals.clone(),
                    apps: review.apps.clone(),
                    findings: Some(ids),
                })
                .await?,
        )
    } else {
        None
    };
    Ok(ReviewReport {
        review,
        roster_version: data.roster_version,
        syncs: data.syncs,
        scope,
        since_last,
        recorded,
    })
}

/// The JSON document: the review as `idgraph_core::Review` serialises it, plus what it ran on.
#[derive(Serialize)]
struct ReviewJson<'a> {
    #[serde(flatten)]
    review: &'a Review,
    roster_version: &'a StoredRosterVersion,
    syncs: &'a [AppSync],
    scope: Option<&'a str>,
    since_last_review: Option<&'a SinceLast>,
    /// The id this review was recorded under (`null`: not recorded).
    review_id: Option<i64>,
}

fn when(t: Option<OffsetDateTime>) -> String {
    t.map(cli::rfc3339).unwrap_or_else(|| "never".to_string())
}

fn app_row(a: &AppSummary) -> Vec<String> {
    use idgraph_core::Situation as S;
    let sit = |s: S| a.by_situation.get(&s).copied().unwrap_or(0).to_string();
    vec![
        a.app.clone(),
        a.tenants.len().to_string(),
        a.accounts.to_string(),
        sit(S::Linked),
        sit(S::Unlinked),
        sit(S::Unmatched),
        sit(S::Disputed),
        sit(S::Deleted),
        a.seats_used.to_string(),
        a.wasted_seats.to_string(),
        a.findings.to_string(),
        when(a.last_synced_at),
    ]
}

fn account_text(f: &Finding) -> String {
    let Some(k) = &f.account else {
        return format!("{} {}", f.app, f.tenant);
    };
    let mut s = format!("{}/{}/{}/{}", k.app, k.tenant, k.namespace, k.native_id);
    if let Some(e) = &f.email {
        s.push_str(&format!(" {e}"));
    }
    if let Some(st) = f.account_status {
        s.push_str(&format!(" ({})", st.as_str()));
    }
    s
}

fn person_text(f: &Finding) -> String {
    match &f.person {
        Some(p) => {
            let mut s = format!("{} ({}, {}", p.name, p.employee_id, p.status);
            if let Some(d) = p.status_date {
                s.push_str(&format!(" {d}"));
            }
            s.push(')');
            s
        }
        None => "—".to_string(),
    }
}

/// Prints the report: table (summary per app, then findings by severity), JSON (everything)
/// or CSV (the findings, one row each).
pub fn write_report(out: &mut dyn Write, report: &ReviewReport, format: Format) -> Result<()> {
    let r = &report.review;
    match format {
        Format::Json => {
            let doc = ReviewJson {
                review: r,
                roster_version: &report.roster_version,
                syncs: &report.syncs,
                scope: report.scope.as_deref(),
                since_last_review: report.since_last.as_ref(),
                review_id: report.recorded,
            };
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)?;
        }
        Format::Csv => r.write_csv(&mut *out)?,
        Format::Table => write_table(out, report)?,
    }
    Ok(())
}

fn write_table(out: &mut dyn Write, report: &ReviewReport) -> Result<()> {
    let r = &report.review;
    let v = &report.roster_version;
    writeln!(
        out,
        "Access review as of {}{}",
        cli::rfc3339(r.generated_at),
        report
            .scope
            .as_deref()
            .map(|a| format!(" (app {a})"))
            .unwrap_or_default()
    )?;
    writeln!(
        out,
        "Roster: version {} — {}, imported {} by {}",
        v.id,
        v.version.label(),
        cli::rfc3339(v.imported_at),
        v.imported_by
    )?;
    let syncs: Vec<String> = report
        .syncs
        .iter()
        .map(|s| format!("{} {} {}", s.app, s.tenant, when(s.last_synced_at)))
        .collect();
    writeln!(
        out,
        "Last successful syncs: {}",
        if syncs.is_empty() {
            "none (run `idgraph sync`)".to_string()
        } else {
            syncs.join("; ")
        }
    )?;
    writeln!(out)?;
    let headers = [
        "app",
        "tenants",
        "accounts",
        "linked",
        "unlinked",
        "unmatched",
        "disputed",
        "deleted",
        "seats",
        "wasted seats",
        "findings",
        "last sync",
    ];
    if r.apps.is_empty() {
        writeln!(out, "No accounts in the store yet: run `idgraph sync`.")?;
    } else {
        writeln!(out, "{}", cli::table(&headers, r.apps.iter().map(app_row)))?;
    }
    let t = &r.totals;
    let sev: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|s| t.by_severity.get(s).map(|n| format!("{n} {s}")))
        .collect();
    writeln!(
        out,
        "{} people; {} accounts ({} identities); {} seats used, {} wasted; {} finding{}{}",
        t.people,
        t.accounts,
        t.identities,
        t.seats_used,
        t.wasted_seats,
        t.findings,
        if t.findings == 1 { "" } else { "s" },
        if sev.is_empty() {
            String::new()
        } else {
            format!(": {}", sev.join(", "))
        }
    )?;
    if let Some(s) = &report.since_last {
        match (s.new_findings, s.resolved_findings) {
            (Some(n), Some(g)) => writeln!(
                out,
                "Since the last review ({}): {n} new, {g} resolved",
                cli::rfc3339(s.generated_at)
            )?,
            _ => writeln!(out, "Last review: {}", cli::rfc3339(s.generated_at))?,
        }
    }
    // Findings as blocks, not a table: evidence and actions are sentences, and a block reads
    // in any terminal width (scripts use --format json or csv).
    for (severity, findings) in r.by_severity() {
        writeln!(
            out,
            "\n{} ({})",
            severity.as_str().to_ascii_uppercase(),
            findings.len()
        )?;
        for f in findings {
            let mut flags = Vec::new();
            if f.privileged {
                flags.push("privileged");
            }
            if f.wasted_seat {
                flags.push("wasted seat");
            }
            let flags = if flags.is_empty() {
                String::new()
            } else {
                format!("  [{}]", flags.join(", "))
            };
            writeln!(out, "\n  {}  {}{flags}", f.kind, account_text(f))?;
            writeln!(out, "    person    {}", person_text(f))?;
            writeln!(out, "    evidence  {}", f.evidence)?;
            writeln!(out, "    action    {}", f.action)?;
        }
    }
    if !r.cases.is_empty() {
        writeln!(
            out,
            "\n{} correlation case{} wait{} for a decision: run `idgraph correlate`.",
            r.cases.len(),
            if r.cases.len() == 1 { "" } else { "s" },
            if r.cases.len() == 1 { "s" } else { "" }
        )?;
    }
    if !r.stale_decisions.is_empty() {
        let names: BTreeSet<String> = r
            .stale_decisions
            .iter()
            .map(|d| {
                let k = &d.account;
                format!("{}/{}/{}/{}", k.app, k.tenant, k.namespace, k.native_id)
            })
            .collect();
        writeln!(
            out,
            "{} decision{} name{} people no longer in the roster (ignored): {}; see `idgraph correlate decisions`.",
            r.stale_decisions.len(),
            if r.stale_decisions.len() == 1 { "" } else { "s" },
            if r.stale_decisions.len() == 1 { "s" } else { "" },
            names.into_iter().collect::<Vec<_>>().join(", ")
        )?;
    }
    Ok(())
}

pub async fn run(args: ReviewArgs, global: &Global) -> Result<()> {
    let cfg = cli::load_config(global, false)?;
    // Check the policy before opening the store: a config mistake is named first.
    policy(&cfg)?;
    let store = cli::open_store(&cfg).await?;
    let now = args.as_of.unwrap_or_else(cli::now);
    let report = build(
        store.as_ref(),
        &cfg,
        args.app.as_deref(),
        now,
        !args.no_record,
    )
    .await;
    store.close().await;
    let report = report?;
    write_report(&mut std::io::stdout().lock(), &report, args.format)?;
    if let Some(threshold) = args.fail_on {
        if report.review.fails(threshold) {
            let n = report
                .review
                .findings
                .iter()
                .filter(|f| f.severity >= threshold)
                .count();
            return Err(cli::Exit {
                code: cli::EXIT_FINDINGS,
                message: format!(
                    "review: {n} finding{} at or above {threshold} (--fail-on {threshold})",
                    if n == 1 { "" } else { "s" }
                ),
            }
            .into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_and_times_parse_with_useful_errors() {
        assert_eq!(parse_severity("HIGH"), Ok(Severity::High));
        assert!(parse_severity("urgent").unwrap_err().contains("urgent"));
        assert_eq!(
            parse_time("2026-06-01T00:00:00Z").unwrap(),
            time::macros::datetime!(2026-06-01 00:00 UTC)
        );
        assert!(parse_time("yesterday").unwrap_err().contains("RFC 3339"));
    }
}
