//! `idgraph events`: the change log the syncs wrote (accounts appeared, changed, deactivated,
//! went missing; entitlements granted and revoked …) since a time or for a recent period,
//! as a table or as JSON lines. Read from the store in pages.

use crate::cli::{self, Format, Global};
use anyhow::{bail, Context, Result};
use clap::Args;
use idgraph_core::diff::EventKind;
use idgraph_core::Clock;
use idgraph_store::{EventFilter, StoredEvent};
use serde_json::json;
use std::io::Write;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Events read from the store per query.
const PAGE: u64 = 5_000;

/// Show what changed in the apps: the event log of the syncs, oldest first.
///
/// Events are derived by diffing each page a sync reads against the store: an account
/// appeared, changed (fields with old and new values), was deactivated or reactivated, went
/// missing from a complete listing; an entitlement appeared, changed or went missing; a
/// grant was given, changed or revoked. JSON prints one object per line (for `jq` and log
/// shippers).
///
/// Examples:
///   idgraph events --since 24h
///   idgraph events --since 7d --app freshservice --kind account_deactivated
///   idgraph events --since 2026-03-01T00:00:00Z --format json | jq -c 'select(.app == "helpscout")'
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct EventsArgs {
    /// From when: an RFC 3339 time (`2026-03-01T00:00:00Z`, or a date `2026-03-01`), or a
    /// period back from now (`90m`, `24h`, `7d`, `2w`, `1d12h`).
    #[arg(long, value_name = "TIME|PERIOD")]
    pub since: String,
    /// Only this app.
    #[arg(long)]
    pub app: Option<String>,
    /// Only these kinds (repeat, or comma-separate): account_appeared, account_changed,
    /// account_deactivated, account_reactivated, account_status_changed,
    /// account_went_missing, entitlement_appeared, entitlement_changed,
    /// entitlement_went_missing, entitlement_granted, entitlement_revoked,
    /// entitlement_grant_changed.
    #[arg(long, value_delimiter = ',', value_parser = parse_kind)]
    pub kind: Vec<EventKind>,
    /// Output: table, or json (one object per line).
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// At most this many events.
    #[arg(long)]
    pub limit: Option<u64>,
}

fn parse_kind(s: &str) -> Result<EventKind, String> {
    s.trim().to_ascii_lowercase().parse()
}

/// `--since`: an RFC 3339 time, a date (midnight UTC), or a period before `now`.
pub fn parse_since(s: &str, now: OffsetDateTime) -> Result<OffsetDateTime> {
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t);
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = time::Date::parse(s, &date_format) {
        return Ok(d.midnight().assume_utc());
    }
    let mut total = time::Duration::ZERO;
    let mut digits = String::new();
    let mut any = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 604_800,
            _ => bail!(
                "--since {s:?}: `{c}` is not a unit (use s, m, h, d or w: `24h`, `7d`), and the \
                 value is not an RFC 3339 time (`2026-03-01T00:00:00Z`)"
            ),
        };
        let n: i64 = digits.parse().with_context(|| {
            format!("--since {s:?}: a number must come before `{c}` (e.g. `24h`)")
        })?;
        digits.clear();
        total += time::Duration::seconds(n.saturating_mul(unit));
        any = true;
    }
    if !digits.is_empty() || !any {
        bail!(
            "--since {s:?}: expected an RFC 3339 time (`2026-03-01T00:00:00Z`), a date \
             (`2026-03-01`) or a period with a unit (`24h`, `7d`)"
        );
    }
    Ok(now - total)
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// One event as a JSON object.
pub fn event_json(e: &StoredEvent) -> serde_json::Value {
    json!({
        "id": e.id,
        "at": rfc3339(e.at),
        "run_id": e.run_id,
        "app": e.app,
        "tenant": e.tenant,
        "kind": e.kind.as_str(),
        "namespace": e.account.as_ref().map(|k| &k.namespace),
        "native_id": e.account.as_ref().map(|k| &k.native_id),
        "entitlement_kind": e.entitlement.as_ref().map(|k| &k.kind),
        "entitlement_id": e.entitlement.as_ref().map(|k| &k.native_id),
        "details": e.details,
    })
}

/// A short, readable account of an event's details.
fn details_text(e: &StoredEvent) -> String {
    let d = &e.details;
    let s = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "∅".to_string(),
        other => other.to_string(),
    };
    match e.kind {
        EventKind::AccountChanged | EventKind::EntitlementChanged => {
            match d["fields"].as_object() {
                Some(fields) => fields
                    .iter()
                    .map(|(k, v)| format!("{k}: {} → {}", s(&v["old"]), s(&v["new"])))
                    .collect::<Vec<_>>()
                    .join("; "),
                None => d.to_string(),
            }
        }
        EventKind::AccountDeactivated
        | EventKind::AccountReactivated
        | EventKind::AccountStatusChanged
        | EventKind::AccountWentMissing => format!("{} → {}", s(&d["from"]), s(&d["to"])),
        EventKind::AccountAppeared => {
            let email = d["emails"]
                .as_array()
                .and_then(|a| a.first())
                .map(s)
                .unwrap_or_default();
            format!("{} {email}", s(&d["status"]))
        }
        EventKind::EntitlementAppeared | EventKind::EntitlementWentMissing => s(&d["name"]),
        _ => match d.as_object() {
            Some(o) if o.is_empty() => String::new(),
            _ => d.to_string(),
        },
    }
}

fn subject(e: &StoredEvent) -> String {
    let acc = e
        .account
        .as_ref()
        .map(|k| format!("{}:{}", k.namespace, k.native_id));
    let ent = e
        .entitlement
        .as_ref()
        .map(|k| format!("{}:{}", k.kind, k.native_id));
    match (acc, ent) {
        (Some(a), Some(e)) => format!("{a} ⇄ {e}"),
        (Some(a), None) => a,
        (None, Some(e)) => e,
        (None, None) => String::new(),
    }
}

pub async fn run(args: EventsArgs, global: &Global) -> Result<()> {
    if args.format == Format::Csv {
        bail!("--format csv is not offered for events (details are nested JSON); use json");
    }
    let since = parse_since(&args.since, idgraph_core::clock::SystemClock.now())?;
    let cfg = cli::load_config(global, false)?;
    let store = cli::open_store(&cfg).await?;
    let mut out = std::io::stdout().lock();
    let mut rows = Vec::new();
    let mut after: Option<i64> = None;
    let mut shown = 0u64;
    loop {
        let want = match args.limit {
            Some(l) => PAGE.min(l.saturating_sub(shown)),
            None => PAGE,
        };
        if want == 0 {
            break;
        }
        let page = store
            .events(&EventFilter {
                since: Some(since),
                after_id: after,
                app: args.app.clone(),
                kinds: args.kind.clone(),
                limit: Some(want),
                ..EventFilter::default()
            })
            .await
            .context("cannot list events")?;
        for e in &page {
            match args.format {
                Format::Json => writeln!(out, "{}", event_json(e))?,
                _ => rows.push(vec![
                    e.id.to_string(),
                    rfc3339(e.at),
                    e.app.clone(),
                    e.kind.as_str().to_string(),
                    subject(e),
                    details_text(e),
                ]),
            }
            shown += 1;
        }
        after = page.last().map(|e| e.id).or(after);
        if (page.len() as u64) < want {
            break;
        }
    }
    if args.format == Format::Table {
        if rows.is_empty() {
            writeln!(out, "no events since {}", rfc3339(since))?;
        } else {
            writeln!(
                out,
                "{}",
                cli::table(&["id", "at", "app", "kind", "subject", "details"], rows)
            )?;
            writeln!(out, "{shown} event(s) since {}", rfc3339(since))?;
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
    use time::macros::datetime;

    #[test]
    fn since_takes_times_dates_and_periods() {
        let now = datetime!(2026-03-10 12:00 UTC);
        assert_eq!(
            parse_since("2026-03-01T08:30:00Z", now).unwrap(),
            datetime!(2026-03-01 08:30 UTC)
        );
        assert_eq!(
            parse_since("2026-03-01", now).unwrap(),
            datetime!(2026-03-01 00:00 UTC)
        );
        assert_eq!(
            parse_since("24h", now).unwrap(),
            datetime!(2026-03-09 12:00 UTC)
        );
        assert_eq!(
            parse_since("1d12h", now).unwrap(),
            datetime!(2026-03-09 00:00 UTC)
        );
        assert_eq!(
            parse_since("2w", now).unwrap(),
            datetime!(2026-02-24 12:00 UTC)
        );
        for bad in ["", "24", "h", "3y", "yesterday"] {
            let e = parse_since(bad, now).unwrap_err().to_string();
            assert!(e.contains("--since"), "{bad}: {e}");
        }
    }

    #[test]
    fn kinds_parse_and_name_the_choices() {
        assert_eq!(
            parse_kind("Account_Deactivated"),
            Ok(EventKind::AccountDeactivated)
        );
        assert!(parse_kind("fired")
            .unwrap_err()
            .contains("account_appeared"));
    }
}
