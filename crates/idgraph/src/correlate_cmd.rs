//! `idgraph correlate`: the correlation cases (disputed accounts and weak name matches) with
//! their candidates, and the decisions a person records on them — accept a link, reject a
//! candidate, mark a service account, undo. Decisions are stored by account key, so they
//! persist across syncs; the next review applies them.

use crate::cli::{self, Format, Global};
use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use idgraph_core::{correlate, AccountKey, CorrelationCase, Decision, Verdict};
use idgraph_store::{
    AccountFilter, DecisionFilter, ReviewData, Store, StoredDecision, StoredRosterVersion,
};
use serde::Serialize;
use std::io::Write;

/// List open correlation cases, or record a decision on an account.
///
/// Without a subcommand: the accounts idgraph could not link on its own — several people
/// match (disputed) or only a name matches (weak match) — with their candidates. Customers
/// and deleted accounts are left out. Decide with a subcommand; decisions are kept across
/// syncs and applied by the next `idgraph review`.
///
/// ACCOUNT is `app/tenant/namespace/native_id` as listed here and by `idgraph accounts`; a
/// shorter form works when it names one account: `app/native_id`,
/// `app/namespace/native_id`, the bare native id, or the account's email.
///
/// Examples:
///   idgraph correlate
///   idgraph correlate link freshdesk/acme.freshdesk.com/agent/4012 E000123 --note "confirmed by IT"
///   idgraph correlate reject helpscout/991 E000042
///   idgraph correlate service freshservice/agent/77 --note "shared support mailbox"
///   idgraph correlate undo helpscout/991
///   idgraph correlate decisions --all
#[derive(Debug, Args)]
#[command(verbatim_doc_comment, args_conflicts_with_subcommands = true)]
pub struct CorrelateArgs {
    #[command(subcommand)]
    pub action: Option<CorrelateAction>,
    /// Only cases of this app.
    #[arg(long)]
    pub app: Option<String>,
    /// Output: table, json or csv (one row per candidate).
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum CorrelateAction {
    /// The account belongs to this person (links it, whatever the rules say).
    Link(DecideArgs),
    /// The account does not belong to this person (the next rule or candidate decides).
    Reject(DecideArgs),
    /// The account is a service account: no human owner is expected.
    Service(ServiceArgs),
    /// Withdraw the newest decision on the account (with --all, every decision on it).
    Undo(UndoArgs),
    /// List the decisions in force (with --all, withdrawn ones too).
    Decisions(DecisionsArgs),
}

#[derive(Debug, Args)]
pub struct DecideArgs {
    /// The account: app/tenant/namespace/native_id (or a shorter unambiguous form).
    pub account: String,
    /// The person's employee id in the current roster.
    pub employee_id: String,
    /// Why (kept with the decision).
    #[arg(long)]
    pub note: Option<String>,
    /// Who decides [default: $USER].
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServiceArgs {
    /// The account: app/tenant/namespace/native_id (or a shorter unambiguous form).
    pub account: String,
    /// Why (kept with the decision).
    #[arg(long)]
    pub note: Option<String>,
    /// Who decides [default: $USER].
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
}

#[derive(Debug, Args)]
pub struct UndoArgs {
    /// The account: app/tenant/namespace/native_id (or a shorter unambiguous form).
    pub account: String,
    /// Withdraw every decision on the account, not only the newest.
    #[arg(long)]
    pub all: bool,
    /// Who withdraws [default: $USER].
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
}

#[derive(Debug, Args)]
pub struct DecisionsArgs {
    /// Withdrawn decisions too.
    #[arg(long)]
    pub all: bool,
    /// Only decisions on accounts of this app.
    #[arg(long)]
    pub app: Option<String>,
    /// Output: table, json or csv.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

/// `app/tenant/namespace/native_id`.
pub fn account_spec(k: &AccountKey) -> String {
    format!("{}/{}/{}/{}", k.app, k.tenant, k.namespace, k.native_id)
}

/// Whether `prefix` names `k`'s app, tenant and namespace in that order, leaving any out.
fn names(prefix: &[&str], k: &AccountKey) -> bool {
    let parts = [k.app.as_str(), k.tenant.as_str(), k.namespace.as_str()];
    let mut i = 0;
    for p in prefix {
        match parts[i..].iter().position(|x| x == p) {
            Some(j) => i += j + 1,
            None => return false,
        }
    }
    true
}

/// Finds the one account `spec` names (see [`CorrelateArgs`]).
pub async fn resolve_account(store: &dyn Store, spec: &str) -> Result<AccountKey> {
    let spec = spec.trim();
    let found: Vec<AccountKey> = if spec.contains('@') && !spec.contains('/') {
        store
            .accounts(&AccountFilter {
                email: Some(spec.to_string()),
                ..AccountFilter::default()
            })
            .await?
            .into_iter()
            .map(|a| a.account.key)
            .collect()
    } else {
        let parts: Vec<&str> = spec.split('/').collect();
        let (prefix, native_id) = parts.split_at(parts.len() - 1);
        let native_id = native_id.first().copied().unwrap_or_default();
        let candidates = store.accounts_with_id(native_id).await?;
        let keys = candidates.into_iter().map(|a| a.account.key);
        if prefix.len() >= 3 {
            // app/tenant…/namespace/native_id (a tenant may hold a slash).
            let tenant = prefix[1..prefix.len() - 1].join("/");
            keys.filter(|k| {
                k.app == prefix[0] && k.tenant == tenant && k.namespace == prefix[prefix.len() - 1]
            })
            .collect()
        } else {
            keys.filter(|k| names(prefix, k)).collect()
        }
    };
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!(
            "no account matches `{spec}`: give app/tenant/namespace/native_id as `idgraph correlate` and `idgraph accounts` print it"
        ),
        many => bail!(
            "`{spec}` matches {} accounts; name one of: {}",
            many.len(),
            many.iter()
                .take(10)
                .map(account_spec)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The open cases and the decisions that name people who left the roster.
#[derive(Debug, Serialize)]
pub struct Cases {
    pub roster_version: StoredRosterVersion,
    pub cases: Vec<CorrelationCase>,
    pub stale_decisions: Vec<Decision>,
}

/// Correlates the store's accounts (of `app`) with the current roster and decisions.
pub async fn cases(
    store: &dyn Store,
    cfg: &crate::config::LoadedConfig,
    app: Option<&str>,
) -> Result<Cases> {
    let policy = crate::review_cmd::policy(cfg)?;
    let data = ReviewData::load(store, app).await?;
    let c = correlate(
        &data.roster,
        &data.accounts,
        &data.decisions,
        &policy.correlation,
    );
    Ok(Cases {
        roster_version: data.roster_version,
        cases: c.cases,
        stale_decisions: c.stale_decisions,
    })
}

const CASE_CSV: [&str; 14] = [
    "app",
    "tenant",
    "namespace",
    "native_id",
    "email",
    "display_name",
    "status",
    "situation",
    "reason",
    "candidate_employee_id",
    "candidate_name",
    "candidate_email",
    "rule",
    "matched",
];

fn write_cases(out: &mut dyn Write, c: &Cases, format: Format) -> Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, c)?;
            writeln!(out)?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record(CASE_CSV)?;
            for case in &c.cases {
                let k = &case.account;
                for cand in &case.candidates {
                    w.write_record([
                        k.app.as_str(),
                        k.tenant.as_str(),
                        k.namespace.as_str(),
                        k.native_id.as_str(),
                        case.email.as_deref().unwrap_or_default(),
                        case.display_name.as_deref().unwrap_or_default(),
                        case.status.as_str(),
                        case.situation.as_str(),
                        reason(case),
                        cand.employee_id.as_str(),
                        cand.name.as_str(),
                        cand.email.as_str(),
                        cand.rule.as_str(),
                        cand.matched.as_str(),
                    ])?;
                }
            }
            w.flush()?;
        }
        Format::Table => {
            writeln!(
                out,
                "Roster: version {} — {}",
                c.roster_version.id,
                c.roster_version.version.label()
            )?;
            if c.cases.is_empty() {
                writeln!(out, "No open correlation cases.")?;
            } else {
                let rows = c.cases.iter().map(|case| {
                    let cands = case
                        .candidates
                        .iter()
                        .map(|x| {
                            format!(
                                "{} {} <{}> (by {}: {})",
                                x.employee_id,
                                x.name,
                                x.email,
                                x.rule.as_str(),
                                x.matched
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; ");
                    vec![
                        account_spec(&case.account),
                        format!(
                            "{} {}",
                            case.email.as_deref().unwrap_or("—"),
                            case.display_name.as_deref().unwrap_or("")
                        )
                        .trim()
                        .to_string(),
                        case.status.as_str().to_string(),
                        reason(case).to_string(),
                        cands,
                    ]
                });
                writeln!(
                    out,
                    "{}",
                    cli::table(
                        &["account", "email / name", "status", "why", "candidates"],
                        rows
                    )
                )?;
                writeln!(
                    out,
                    "{} open case{}. Decide with `idgraph correlate link ACCOUNT EMPLOYEE_ID`, `reject ACCOUNT EMPLOYEE_ID` or `service ACCOUNT`.",
                    c.cases.len(),
                    if c.cases.len() == 1 { "" } else { "s" }
                )?;
            }
            for d in &c.stale_decisions {
                writeln!(
                    out,
                    "Ignored: {} on {} names a person no longer in the roster (undo it with `idgraph correlate undo {}`).",
                    verdict_text(&d.verdict),
                    account_spec(&d.account),
                    account_spec(&d.account)
                )?;
            }
        }
    }
    Ok(())
}

fn reason(case: &CorrelationCase) -> &'static str {
    match case.reason {
        idgraph_core::correlate::CaseReason::Disputed => "disputed",
        idgraph_core::correlate::CaseReason::WeakMatch => "weak_match",
    }
}

fn verdict_text(v: &Verdict) -> String {
    match v {
        Verdict::Link { employee_id } => format!("link to {employee_id}"),
        Verdict::Reject { employee_id } => format!("reject {employee_id}"),
        Verdict::ServiceAccount => "service account".to_string(),
    }
}

fn write_decisions(out: &mut dyn Write, ds: &[StoredDecision], format: Format) -> Result<()> {
    let cols = |d: &StoredDecision| -> Vec<String> {
        let (verdict, person) = match &d.decision.verdict {
            Verdict::Link { employee_id } => ("link", employee_id.clone()),
            Verdict::Reject { employee_id } => ("reject", employee_id.clone()),
            Verdict::ServiceAccount => ("service_account", String::new()),
        };
        vec![
            d.id.to_string(),
            account_spec(&d.decision.account),
            verdict.to_string(),
            person,
            d.decision.decided_by.clone(),
            cli::rfc3339(d.decision.decided_at),
            d.decision.note.clone().unwrap_or_default(),
            d.withdrawn_at.map(cli::rfc3339).unwrap_or_default(),
            d.withdrawn_by.clone().unwrap_or_default(),
        ]
    };
    const HEADERS: [&str; 9] = [
        "id",
        "account",
        "verdict",
        "employee_id",
        "decided_by",
        "decided_at",
        "note",
        "withdrawn_at",
        "withdrawn_by",
    ];
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, ds)?;
            writeln!(out)?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record(HEADERS)?;
            for d in ds {
                w.write_record(cols(d))?;
            }
            w.flush()?;
        }
        Format::Table => {
            if ds.is_empty() {
                writeln!(out, "No decisions recorded.")?;
            } else {
                writeln!(out, "{}", cli::table(&HEADERS, ds.iter().map(cols)))?;
            }
        }
    }
    Ok(())
}

/// Records a decision after checking the account exists and the person is in the current
/// roster (link and reject).
pub async fn decide(
    store: &dyn Store,
    account: &str,
    verdict: Verdict,
    by: &str,
    note: Option<String>,
    at: time::OffsetDateTime,
) -> Result<(StoredDecision, Option<String>)> {
    let key = resolve_account(store, account).await?;
    let person = match &verdict {
        Verdict::Link { employee_id } | Verdict::Reject { employee_id } => {
            let Some((v, roster)) = store.current_roster().await? else {
                bail!(
                    "no roster has been imported: import one with `idgraph roster import FILE…` before deciding who owns an account"
                );
            };
            match roster.get(employee_id) {
                Some(p) => Some(format!("{} ({})", p.display_name(), p.employee_id)),
                None => bail!(
                    "employee id `{employee_id}` is not in the current roster ({})",
                    v.label()
                ),
            }
        }
        Verdict::ServiceAccount => None,
    };
    let stored = store
        .record_decision(&Decision {
            account: key,
            verdict,
            decided_by: by.to_string(),
            decided_at: at,
            note: note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
        })
        .await?;
    Ok((stored, person))
}

pub async fn run(args: CorrelateArgs, global: &Global) -> Result<()> {
    let cfg = cli::load_config(global, false)?;
    let store = cli::open_store(&cfg).await?;
    let result = run_on(args, &cfg, store.as_ref()).await;
    store.close().await;
    result
}

async fn run_on(
    args: CorrelateArgs,
    cfg: &crate::config::LoadedConfig,
    store: &dyn Store,
) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match args.action {
        None => {
            let c = cases(store, cfg, args.app.as_deref()).await?;
            write_cases(&mut out, &c, args.format)?;
        }
        Some(CorrelateAction::Link(a)) => {
            let (d, person) = decide(
                store,
                &a.account,
                Verdict::Link {
                    employee_id: a.employee_id.trim().to_string(),
                },
                &cli::who(a.by.as_deref()),
                a.note,
                cli::now(),
            )
            .await?;
            writeln!(
                out,
                "Recorded decision {}: {} belongs to {}. The next review applies it.",
                d.id,
                account_spec(&d.decision.account),
                person.unwrap_or_default()
            )?;
        }
        Some(CorrelateAction::Reject(a)) => {
            let (d, person) = decide(
                store,
                &a.account,
                Verdict::Reject {
                    employee_id: a.employee_id.trim().to_string(),
                },
                &cli::who(a.by.as_deref()),
                a.note,
                cli::now(),
            )
            .await?;
            writeln!(
                out,
                "Recorded decision {}: {} does not belong to {}. The next review applies it.",
                d.id,
                account_spec(&d.decision.account),
                person.unwrap_or_default()
            )?;
        }
        Some(CorrelateAction::Service(a)) => {
            let (d, _) = decide(
                store,
                &a.account,
                Verdict::ServiceAccount,
                &cli::who(a.by.as_deref()),
                a.note,
                cli::now(),
            )
            .await?;
            writeln!(
                out,
                "Recorded decision {}: {} is a service account (no human owner). The next review applies it.",
                d.id,
                account_spec(&d.decision.account)
            )?;
        }
        Some(CorrelateAction::Undo(a)) => {
            let key = resolve_account(store, &a.account).await?;
            let gone = store
                .withdraw_decisions(&key, a.all, &cli::who(a.by.as_deref()), cli::now())
                .await?;
            if gone.is_empty() {
                bail!("no decision in force on {}", account_spec(&key));
            }
            for d in &gone {
                writeln!(
                    out,
                    "Withdrew decision {} on {}: {} (decided {} by {}).",
                    d.id,
                    account_spec(&key),
                    verdict_text(&d.decision.verdict),
                    cli::rfc3339(d.decision.decided_at),
                    d.decision.decided_by
                )?;
            }
            let left = store
                .decisions(&DecisionFilter {
                    account: Some(key.clone()),
                    ..DecisionFilter::default()
                })
                .await?;
            if let Some(d) = left.last() {
                writeln!(
                    out,
                    "Still in force on it: {} ({} decision{}; the newest is decision {}).",
                    verdict_text(&d.decision.verdict),
                    left.len(),
                    if left.len() == 1 { "" } else { "s" },
                    d.id
                )?;
            }
        }
        Some(CorrelateAction::Decisions(a)) => {
            let ds = store
                .decisions(&DecisionFilter {
                    app: a.app.clone(),
                    include_withdrawn: a.all,
                    ..DecisionFilter::default()
                })
                .await?;
            write_decisions(&mut out, &ds, a.format)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> AccountKey {
        AccountKey {
            app: "freshdesk".into(),
            tenant: "acme.freshdesk.com".into(),
            namespace: "agent".into(),
            native_id: "42".into(),
        }
    }

    #[test]
    fn short_account_forms_name_parts_in_order() {
        let k = key();
        assert!(names(&[], &k));
        assert!(names(&["freshdesk"], &k));
        assert!(names(&["agent"], &k));
        assert!(names(&["freshdesk", "agent"], &k));
        assert!(names(&["acme.freshdesk.com", "agent"], &k));
        assert!(!names(&["agent", "freshdesk"], &k), "order matters");
        assert!(!names(&["helpscout"], &k));
        assert!(!names(&["contact"], &k));
        assert_eq!(account_spec(&k), "freshdesk/acme.freshdesk.com/agent/42");
    }
}
