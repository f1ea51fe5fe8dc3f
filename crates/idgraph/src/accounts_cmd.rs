//! `idgraph accounts`: lists the accounts in the store, filtered by app, tenant, namespace,
//! status or email, as a table, JSON or CSV. Rows are read from the store in pages, so JSON
//! and CSV of a million accounts stream without holding them all.

use crate::cli::{self, Format, Global};
use anyhow::{Context, Result};
use clap::Args;
use idgraph_core::AccountStatus;
use idgraph_store::{AccountFilter, StoredAccount};
use serde_json::json;
use std::io::Write;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Rows read from the store per query.
const PAGE: u64 = 5_000;

/// List the accounts idgraph has read, tombstones included.
///
/// Every account of every synced app, with its status as last listed (`missing` when it
/// vanished from a complete listing), email, name and when idgraph first and last saw it.
/// Filters combine (all must hold). The email filter compares the primary address ignoring
/// letter case. JSON prints one array; the vendor's raw record is included with --raw.
///
/// Examples:
///   idgraph accounts --app freshservice --status inactive
///   idgraph accounts --email Jane.Doe@acme.example
///   idgraph accounts --status missing --format csv > vanished.csv
///   idgraph accounts --app helpscout --format json --raw | jq '.[0].raw'
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct AccountsArgs {
    /// Only this app (`freshservice`, `freshdesk`, `freshsales`, `freshbooks`, `helpscout`).
    #[arg(long)]
    pub app: Option<String>,
    /// Only this vendor account (`acme.freshdesk.com`, a FreshBooks business id, …).
    #[arg(long)]
    pub tenant: Option<String>,
    /// Only this namespace (`agent`, `requester`, `contact`, `user`, `scim_user`, `member`,
    /// `invitation`).
    #[arg(long)]
    pub namespace: Option<String>,
    /// Only this status: active, inactive, pending, deleted or missing.
    #[arg(long, value_parser = parse_status)]
    pub status: Option<AccountStatus>,
    /// Only accounts whose primary email is this one (letter case ignored).
    #[arg(long)]
    pub email: Option<String>,
    /// Output: table, json or csv.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Include the vendor's raw record (JSON and CSV).
    #[arg(long)]
    pub raw: bool,
    /// At most this many accounts.
    #[arg(long)]
    pub limit: Option<u64>,
}

fn parse_status(s: &str) -> Result<AccountStatus, String> {
    s.trim().to_ascii_lowercase().parse()
}

fn rfc3339(t: Option<OffsetDateTime>) -> String {
    t.and_then(|t| t.format(&Rfc3339).ok()).unwrap_or_default()
}

/// One account as JSON (`raw` only when asked for).
pub fn account_json(a: &StoredAccount, raw: bool) -> serde_json::Value {
    let acc = &a.account;
    let mut v = json!({
        "app": acc.key.app,
        "tenant": acc.key.tenant,
        "namespace": acc.key.namespace,
        "native_id": acc.key.native_id,
        "primary_email": acc.primary_email(),
        "emails": acc.emails,
        "display_name": acc.display_name,
        "status": acc.status.as_str(),
        "listed_status": a.listed_status.as_str(),
        "seat_consuming": acc.seat_consuming,
        "attributes": acc.attributes,
        "created_at": acc.created_at.map(|t| rfc3339(Some(t))),
        "updated_at": acc.updated_at.map(|t| rfc3339(Some(t))),
        "last_login_at": acc.last_login_at.map(|t| rfc3339(Some(t))),
        "resource": a.resource,
        "first_seen_at": rfc3339(Some(a.first_seen_at)),
        "last_seen_at": rfc3339(Some(a.last_seen_at)),
        "last_seen_run": a.last_seen_run,
        "missing_since": a.missing_since.map(|t| rfc3339(Some(t))),
    });
    if raw {
        v["raw"] = acc.raw.clone();
    }
    v
}

const CSV_HEADERS: [&str; 18] = [
    "app",
    "tenant",
    "namespace",
    "native_id",
    "primary_email",
    "emails",
    "display_name",
    "status",
    "listed_status",
    "seat_consuming",
    "attributes",
    "created_at",
    "updated_at",
    "last_login_at",
    "resource",
    "first_seen_at",
    "last_seen_at",
    "missing_since",
];

fn csv_row(a: &StoredAccount, raw: bool) -> Vec<String> {
    let acc = &a.account;
    let mut row = vec![
        acc.key.app.clone(),
        acc.key.tenant.clone(),
        acc.key.namespace.clone(),
        acc.key.native_id.clone(),
        acc.primary_email().unwrap_or_default().to_string(),
        acc.emails.join(";"),
        acc.display_name.clone().unwrap_or_default(),
        acc.status.as_str().to_string(),
        a.listed_status.as_str().to_string(),
        acc.seat_consuming.to_string(),
        serde_json::Value::Object(acc.attributes.clone()).to_string(),
        rfc3339(acc.created_at),
        rfc3339(acc.updated_at),
        rfc3339(acc.last_login_at),
        a.resource.clone(),
        rfc3339(Some(a.first_seen_at)),
        rfc3339(Some(a.last_seen_at)),
        rfc3339(a.missing_since),
    ];
    if raw {
        row.push(acc.raw.to_string());
    }
    row
}

fn table_row(a: &StoredAccount) -> Vec<String> {
    let acc = &a.account;
    let status = if acc.status == AccountStatus::Missing {
        format!("missing (was {})", a.listed_status.as_str())
    } else {
        acc.status.as_str().to_string()
    };
    let day = |t: OffsetDateTime| {
        t.format(&Rfc3339)
            .map(|s| s.chars().take(10).collect::<String>())
            .unwrap_or_default()
    };
    vec![
        acc.key.app.clone(),
        acc.key.tenant.clone(),
        acc.key.namespace.clone(),
        acc.key.native_id.clone(),
        acc.primary_email().unwrap_or_default().to_string(),
        acc.display_name.clone().unwrap_or_default(),
        status,
        if acc.seat_consuming { "yes" } else { "" }.to_string(),
        day(a.last_seen_at),
    ]
}

pub async fn run(args: AccountsArgs, global: &Global) -> Result<()> {
    let cfg = cli::load_config(global, false)?;
    let store = cli::open_store(&cfg).await?;
    let base = AccountFilter {
        app: args.app.clone(),
        tenant: args.tenant.clone(),
        namespace: args.namespace.clone(),
        status: args.status,
        email: args.email.as_deref().map(str::trim).map(str::to_string),
        ..AccountFilter::default()
    };
    let mut out = std::io::stdout().lock();
    let mut csv = (args.format == Format::Csv).then(|| csv::Writer::from_writer(std::io::stdout()));
    if let Some(w) = csv.as_mut() {
        let mut headers: Vec<&str> = CSV_HEADERS.to_vec();
        if args.raw {
            headers.push("raw");
        }
        w.write_record(&headers)?;
    }
    let mut table_rows = Vec::new();
    let mut offset = 0u64;
    let mut shown = 0u64;
    if args.format == Format::Json {
        write!(out, "[")?;
    }
    loop {
        let want = match args.limit {
            Some(l) => PAGE.min(l.saturating_sub(shown)),
            None => PAGE,
        };
        if want == 0 {
            break;
        }
        let page = store
            .accounts(&AccountFilter {
                limit: Some(want),
                offset: Some(offset),
                ..base.clone()
            })
            .await
            .context("cannot list accounts")?;
        let n = page.len() as u64;
        for a in &page {
            match args.format {
                Format::Json => {
                    let sep = if shown == 0 { "\n" } else { ",\n" };
                    write!(out, "{sep}{}", account_json(a, args.raw))?;
                }
                Format::Csv => {
                    if let Some(w) = csv.as_mut() {
                        w.write_record(csv_row(a, args.raw))?;
                    }
                }
                Format::Table => table_rows.push(table_row(a)),
            }
            shown += 1;
        }
        if let Some(w) = csv.as_mut() {
            w.flush()?;
        }
        offset += n;
        if n < want {
            break;
        }
    }
    match args.format {
        Format::Json => writeln!(out, "{}]", if shown == 0 { "" } else { "\n" })?,
        Format::Csv => {}
        Format::Table => {
            if table_rows.is_empty() {
                writeln!(out, "no accounts match")?;
            } else {
                writeln!(
                    out,
                    "{}",
                    cli::table(
                        &[
                            "app",
                            "tenant",
                            "namespace",
                            "id",
                            "email",
                            "name",
                            "status",
                            "seat",
                            "last seen"
                        ],
                        table_rows
                    )
                )?;
                writeln!(out, "{shown} account(s)")?;
            }
        }
    }
    out.flush()?;
    drop(out);
    store.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_parses_in_any_case_and_names_the_choices() {
        assert_eq!(parse_status("Inactive"), Ok(AccountStatus::Inactive));
        let e = parse_status("gone").unwrap_err();
        assert!(e.contains("gone") && e.contains("missing"), "{e}");
    }
}
