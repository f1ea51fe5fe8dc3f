// The `Store` implementation, written once and compiled into each backend module with
// `include!` (see `sqlite.rs`, `postgres.rs`). It uses the names the including module defines:
// `Db` (the sqlx database), `DbRow`, `DbConn`, `This` (the store type, with `writer()` and
// `reader()` pools and `location()`), `BACKEND`, and the time helpers `ts`, `ts_opt`,
// `get_ts` and `get_ts_opt` (SQLite keeps times as fixed-width UTC text, PostgreSQL as
// timestamptz). The SQL is common to both: `$N` placeholders (SQLite reads them too),
// `ON CONFLICT … DO UPDATE`, `RETURNING`; QueryBuilder writes each backend's placeholders.

use crate::error::query_err;
use crate::model::*;
use crate::plan::{self, group_ids, micros};
use crate::{Store, StoreError};
use async_trait::async_trait;
use idgraph_core::diff::{self, Change};
use idgraph_core::{normalize_email, Account, AccountKey, Entitlement, EntitlementKey, Grant};
use serde_json::{Map, Value};
use sqlx::types::Json;
use sqlx::{QueryBuilder, Row};
use std::collections::{BTreeSet, HashMap, HashSet};
use time::OffsetDateTime;

/// Rows per multi-row statement: far below both backends' bind-parameter limits.
const ROWS_PER_STATEMENT: usize = 200;

// ---------------------------------------------------------------------------------------
// Reading columns

fn get<'r, T>(row: &'r DbRow, table: &'static str, column: &'static str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, Db> + sqlx::Type<Db>,
{
    row.try_get(column).map_err(|source| StoreError::Decode {
        table,
        column,
        source,
    })
}

fn parsed<T>(row: &DbRow, table: &'static str, column: &'static str) -> Result<T, StoreError>
where
    T: std::str::FromStr<Err = String>,
{
    let s: String = get(row, table, column)?;
    s.parse().map_err(|detail| StoreError::Corrupt {
        table,
        column,
        detail,
    })
}

fn count(row: &DbRow, table: &'static str, column: &'static str) -> Result<u64, StoreError> {
    let v: i64 = get(row, table, column)?;
    u64::try_from(v).map_err(|_| StoreError::Corrupt {
        table,
        column,
        detail: format!("negative count {v}"),
    })
}

fn json(row: &DbRow, table: &'static str, column: &'static str) -> Result<Value, StoreError> {
    let Json(v): Json<Value> = get(row, table, column)?;
    Ok(v)
}

fn json_opt(
    row: &DbRow,
    table: &'static str,
    column: &'static str,
) -> Result<Option<Value>, StoreError> {
    let v: Option<Json<Value>> = get(row, table, column)?;
    Ok(v.map(|Json(v)| v))
}

fn object(
    row: &DbRow,
    table: &'static str,
    column: &'static str,
) -> Result<Map<String, Value>, StoreError> {
    match json(row, table, column)? {
        Value::Object(m) => Ok(m),
        other => Err(StoreError::Corrupt {
            table,
            column,
            detail: format!("expected a JSON object, found {other}"),
        }),
    }
}

fn strings(
    row: &DbRow,
    table: &'static str,
    column: &'static str,
) -> Result<Vec<String>, StoreError> {
    let v = json(row, table, column)?;
    serde_json::from_value(v).map_err(|e| StoreError::Corrupt {
        table,
        column,
        detail: format!("expected a JSON array of strings: {e}"),
    })
}

const RUN_COLS: &str =
    "id, app, tenant, mode, status, started_at, finished_at, pages, records, requests, events, error";

fn run_row(row: &DbRow) -> Result<SyncRun, StoreError> {
    const T: &str = "sync_runs";
    Ok(SyncRun {
        id: get(row, T, "id")?,
        app: get(row, T, "app")?,
        tenant: get(row, T, "tenant")?,
        mode: parsed(row, T, "mode")?,
        status: parsed(row, T, "status")?,
        started_at: get_ts(row, T, "started_at")?,
        finished_at: get_ts_opt(row, T, "finished_at")?,
        pages: count(row, T, "pages")?,
        records: count(row, T, "records")?,
        requests: count(row, T, "requests")?,
        events: count(row, T, "events")?,
        error: get(row, T, "error")?,
    })
}

const CHECKPOINT_COLS: &str = "app, tenant, resource, run_id, status, since, cursor, pages, \
                               records, requests, error, updated_at, watermark";

fn checkpoint_row(row: &DbRow) -> Result<Checkpoint, StoreError> {
    const T: &str = "checkpoints";
    Ok(Checkpoint {
        app: get(row, T, "app")?,
        tenant: get(row, T, "tenant")?,
        resource: get(row, T, "resource")?,
        run_id: get(row, T, "run_id")?,
        status: parsed(row, T, "status")?,
        since: get_ts_opt(row, T, "since")?,
        cursor: json_opt(row, T, "cursor")?,
        pages: count(row, T, "pages")?,
        records: count(row, T, "records")?,
        requests: count(row, T, "requests")?,
        error: get(row, T, "error")?,
        updated_at: get_ts(row, T, "updated_at")?,
        watermark: get_ts_opt(row, T, "watermark")?,
    })
}

/// The columns a diff compares (the raw record is not loaded for diffs).
const ACCOUNT_DIFF_COLS: &str = "app, tenant, namespace, native_id, emails, display_name, status, \
                                 seat_consuming, attributes, vendor_created_at";
const ACCOUNT_COLS: &str = "app, tenant, namespace, native_id, emails, display_name, status, \
                            listed_status, seat_consuming, attributes, vendor_created_at, \
                            vendor_updated_at, last_login_at, resource, first_seen_at, \
                            last_seen_at, last_seen_run, missing_since, raw";

fn account_key(row: &DbRow, table: &'static str) -> Result<AccountKey, StoreError> {
    Ok(AccountKey {
        app: get(row, table, "app")?,
        tenant: get(row, table, "tenant")?,
        namespace: get(row, table, "namespace")?,
        native_id: get(row, table, "native_id")?,
    })
}

/// An account from a row of [`ACCOUNT_DIFF_COLS`] (or more); `raw` and volatile times left
/// out unless `full`.
fn account_row(row: &DbRow, full: bool) -> Result<Account, StoreError> {
    const T: &str = "accounts";
    Ok(Account {
        key: account_key(row, T)?,
        emails: strings(row, T, "emails")?,
        display_name: get(row, T, "display_name")?,
        status: parsed(row, T, "status")?,
        seat_consuming: get(row, T, "seat_consuming")?,
        attributes: object(row, T, "attributes")?,
        created_at: get_ts_opt(row, T, "vendor_created_at")?,
        updated_at: if full {
            get_ts_opt(row, T, "vendor_updated_at")?
        } else {
            None
        },
        last_login_at: if full {
            get_ts_opt(row, T, "last_login_at")?
        } else {
            None
        },
        raw: if full {
            json(row, T, "raw")?
        } else {
            Value::Null
        },
    })
}

fn stored_account_row(row: &DbRow) -> Result<StoredAccount, StoreError> {
    const T: &str = "accounts";
    Ok(StoredAccount {
        account: account_row(row, true)?,
        listed_status: parsed(row, T, "listed_status")?,
        resource: get(row, T, "resource")?,
        first_seen_at: get_ts(row, T, "first_seen_at")?,
        last_seen_at: get_ts(row, T, "last_seen_at")?,
        last_seen_run: get(row, T, "last_seen_run")?,
        missing_since: get_ts_opt(row, T, "missing_since")?,
    })
}

const ENTITLEMENT_COLS: &str = "app, tenant, kind, native_id, name, privileged, resource, \
                                first_seen_at, last_seen_at, last_seen_run, missing_since, raw";

fn stored_entitlement_row(row: &DbRow) -> Result<StoredEntitlement, StoreError> {
    const T: &str = "entitlements";
    Ok(StoredEntitlement {
        entitlement: Entitlement {
            key: EntitlementKey {
                app: get(row, T, "app")?,
                tenant: get(row, T, "tenant")?,
                kind: get(row, T, "kind")?,
                native_id: get(row, T, "native_id")?,
            },
            name: get(row, T, "name")?,
            privileged: get(row, T, "privileged")?,
            raw: json(row, T, "raw")?,
        },
        resource: get(row, T, "resource")?,
        first_seen_at: get_ts(row, T, "first_seen_at")?,
        last_seen_at: get_ts(row, T, "last_seen_at")?,
        last_seen_run: get(row, T, "last_seen_run")?,
        missing_since: get_ts_opt(row, T, "missing_since")?,
    })
}

const GRANT_COLS: &str = "app, tenant, namespace, native_id, entitlement_tenant, \
                          entitlement_kind, entitlement_id, attributes, resource, first_seen_at, \
                          last_seen_at, last_seen_run";

fn stored_grant_row(row: &DbRow) -> Result<StoredGrant, StoreError> {
    const T: &str = "grants";
    let account = account_key(row, T)?;
    Ok(StoredGrant {
        grant: Grant {
            entitlement: EntitlementKey {
                app: account.app.clone(),
                tenant: get(row, T, "entitlement_tenant")?,
                kind: get(row, T, "entitlement_kind")?,
                native_id: get(row, T, "entitlement_id")?,
            },
            account,
            attributes: object(row, T, "attributes")?,
        },
        resource: get(row, T, "resource")?,
        first_seen_at: get_ts(row, T, "first_seen_at")?,
        last_seen_at: get_ts(row, T, "last_seen_at")?,
        last_seen_run: get(row, T, "last_seen_run")?,
    })
}

const EVENT_COLS: &str = "id, at, run_id, app, tenant, kind, namespace, native_id, \
                          entitlement_kind, entitlement_id, details";

fn event_row(row: &DbRow) -> Result<StoredEvent, StoreError> {
    const T: &str = "events";
    let app: String = get(row, T, "app")?;
    let tenant: String = get(row, T, "tenant")?;
    let details = json(row, T, "details")?;
    let namespace: Option<String> = get(row, T, "namespace")?;
    let native_id: Option<String> = get(row, T, "native_id")?;
    let ent_kind: Option<String> = get(row, T, "entitlement_kind")?;
    let ent_id: Option<String> = get(row, T, "entitlement_id")?;
    let account = match (namespace, native_id) {
        (Some(namespace), Some(native_id)) => Some(AccountKey {
            app: app.clone(),
            tenant: tenant.clone(),
            namespace,
            native_id,
        }),
        _ => None,
    };
    let entitlement = match (ent_kind, ent_id) {
        (Some(kind), Some(native_id)) => Some(EntitlementKey {
            app: app.clone(),
            tenant: details
                .get("entitlement_tenant")
                .and_then(Value::as_str)
                .unwrap_or(&tenant)
                .to_string(),
            kind,
            native_id,
        }),
        _ => None,
    };
    Ok(StoredEvent {
        id: get(row, T, "id")?,
        at: get_ts(row, T, "at")?,
        run_id: get(row, T, "run_id")?,
        kind: parsed(row, T, "kind")?,
        app,
        tenant,
        account,
        entitlement,
        details,
    })
}

const TENANT_COLS: &str = "app, tenant, source, first_seen_at, last_seen_at";

fn tenant_row(row: &DbRow) -> Result<Tenant, StoreError> {
    const T: &str = "tenants";
    Ok(Tenant {
        app: get(row, T, "app")?,
        tenant: get(row, T, "tenant")?,
        source: get(row, T, "source")?,
        first_seen_at: get_ts(row, T, "first_seen_at")?,
        last_seen_at: get_ts(row, T, "last_seen_at")?,
    })
}

fn as_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

// ---------------------------------------------------------------------------------------
// Statements used inside transactions

async fn load_run(conn: &mut DbConn, run_id: RunId) -> Result<SyncRun, StoreError> {
    let row = sqlx::query(&format!("SELECT {RUN_COLS} FROM sync_runs WHERE id = $1"))
        .bind(run_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(query_err(|| format!("load sync run {run_id}")))?;
    match row {
        Some(row) => run_row(&row),
        None => Err(StoreError::UnknownRun { run_id }),
    }
}

async fn load_open_run(conn: &mut DbConn, run_id: RunId) -> Result<SyncRun, StoreError> {
    let run = load_run(conn, run_id).await?;
    if run.finished_at.is_some() {
        return Err(StoreError::RunFinished {
            run_id,
            status: run.status.as_str(),
        });
    }
    Ok(run)
}

async fn load_checkpoint(
    conn: &mut DbConn,
    run: &SyncRun,
    resource: &str,
) -> Result<Option<Checkpoint>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {CHECKPOINT_COLS} FROM checkpoints WHERE app = $1 AND tenant = $2 AND resource = $3"
    ))
    .bind(run.app.as_str())
    .bind(run.tenant.as_str())
    .bind(resource)
    .fetch_optional(&mut *conn)
    .await
    .map_err(query_err(|| {
        format!("load checkpoint of {}/{resource}", run.app)
    }))?;
    row.as_ref().map(checkpoint_row).transpose()
}

async fn upsert_tenants(
    conn: &mut DbConn,
    app: &str,
    source: &str,
    tenants: &BTreeSet<&str>,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    if tenants.is_empty() {
        return Ok(());
    }
    let mut qb = QueryBuilder::<Db>::new(
        "INSERT INTO tenants (app, tenant, source, first_seen_at, last_seen_at) ",
    );
    qb.push_values(tenants.iter(), |mut b, t| {
        b.push_bind(app)
            .push_bind(*t)
            .push_bind(source)
            .push_bind(ts(at))
            .push_bind(ts(at));
    });
    qb.push(
        " ON CONFLICT (app, tenant) DO UPDATE SET source = excluded.source, \
         last_seen_at = excluded.last_seen_at",
    );
    qb.build()
        .execute(&mut *conn)
        .await
        .map_err(query_err(|| format!("record tenants of {app}")))?;
    Ok(())
}

async fn load_accounts(
    conn: &mut DbConn,
    accounts: &[Account],
) -> Result<HashMap<AccountKey, Account>, StoreError> {
    let groups = group_ids(accounts.iter().map(|a| {
        (
            a.key.app.as_str(),
            a.key.tenant.as_str(),
            a.key.namespace.as_str(),
            a.key.native_id.as_str(),
        )
    }));
    let mut out = HashMap::with_capacity(accounts.len());
    for ((app, tenant, namespace), ids) in groups {
        for ids in ids.chunks(ROWS_PER_STATEMENT) {
            let mut qb = QueryBuilder::<Db>::new(format!(
                "SELECT {ACCOUNT_DIFF_COLS} FROM accounts WHERE app = "
            ));
            qb.push_bind(app)
                .push(" AND tenant = ")
                .push_bind(tenant)
                .push(" AND namespace = ")
                .push_bind(namespace)
                .push(" AND native_id IN (");
            let mut sep = qb.separated(", ");
            for id in ids {
                sep.push_bind(*id);
            }
            qb.push(")");
            let rows = qb
                .build()
                .fetch_all(&mut *conn)
                .await
                .map_err(query_err(|| format!("load {app} {namespace} accounts")))?;
            for row in &rows {
                let a = account_row(row, false)?;
                out.insert(a.key.clone(), a);
            }
        }
    }
    Ok(out)
}

async fn upsert_accounts(
    conn: &mut DbConn,
    run_id: RunId,
    resource: &str,
    accounts: &[Account],
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    for chunk in accounts.chunks(ROWS_PER_STATEMENT) {
        let mut qb = QueryBuilder::<Db>::new(
            "INSERT INTO accounts (app, tenant, namespace, native_id, primary_email, emails, \
             display_name, status, listed_status, seat_consuming, attributes, vendor_created_at, \
             vendor_updated_at, last_login_at, resource, first_seen_at, last_seen_at, \
             last_seen_run, missing_since, raw) ",
        );
        qb.push_values(chunk, |mut b, a| {
            b.push_bind(a.key.app.as_str())
                .push_bind(a.key.tenant.as_str())
                .push_bind(a.key.namespace.as_str())
                .push_bind(a.key.native_id.as_str())
                .push_bind(a.primary_email().map(normalize_email))
                .push_bind(Json(&a.emails))
                .push_bind(a.display_name.as_deref())
                .push_bind(a.status.as_str())
                .push_bind(a.status.as_str())
                .push_bind(a.seat_consuming)
                .push_bind(Json(&a.attributes))
                .push_bind(ts_opt(a.created_at))
                .push_bind(ts_opt(a.updated_at))
                .push_bind(ts_opt(a.last_login_at))
                .push_bind(resource)
                .push_bind(ts(at))
                .push_bind(ts(at))
                .push_bind(run_id)
                .push("NULL")
                .push_bind(Json(&a.raw));
        });
        qb.push(
            " ON CONFLICT (app, tenant, namespace, native_id) DO UPDATE SET \
             primary_email = excluded.primary_email, emails = excluded.emails, \
             display_name = excluded.display_name, status = excluded.status, \
             listed_status = excluded.listed_status, seat_consuming = excluded.seat_consuming, \
             attributes = excluded.attributes, vendor_created_at = excluded.vendor_created_at, \
             vendor_updated_at = excluded.vendor_updated_at, \
             last_login_at = excluded.last_login_at, resource = excluded.resource, \
             last_seen_at = excluded.last_seen_at, last_seen_run = excluded.last_seen_run, \
             missing_since = NULL, raw = excluded.raw",
        );
        qb.build()
            .execute(&mut *conn)
            .await
            .map_err(query_err(|| format!("write accounts listed by {resource}")))?;
    }
    Ok(())
}

async fn load_entitlements(
    conn: &mut DbConn,
    entitlements: &[Entitlement],
) -> Result<HashMap<EntitlementKey, (Entitlement, bool)>, StoreError> {
    let groups = group_ids(entitlements.iter().map(|e| {
        (
            e.key.app.as_str(),
            e.key.tenant.as_str(),
            e.key.kind.as_str(),
            e.key.native_id.as_str(),
        )
    }));
    let mut out = HashMap::with_capacity(entitlements.len());
    for ((app, tenant, kind), ids) in groups {
        for ids in ids.chunks(ROWS_PER_STATEMENT) {
            let mut qb = QueryBuilder::<Db>::new(format!(
                "SELECT {ENTITLEMENT_COLS} FROM entitlements WHERE app = "
            ));
            qb.push_bind(app)
                .push(" AND tenant = ")
                .push_bind(tenant)
                .push(" AND kind = ")
                .push_bind(kind)
                .push(" AND native_id IN (");
            let mut sep = qb.separated(", ");
            for id in ids {
                sep.push_bind(*id);
            }
            qb.push(")");
            let rows = qb
                .build()
                .fetch_all(&mut *conn)
                .await
                .map_err(query_err(|| format!("load {app} {kind} entitlements")))?;
            for row in &rows {
                let e = stored_entitlement_row(row)?;
                let missing = e.missing_since.is_some();
                out.insert(e.entitlement.key.clone(), (e.entitlement, missing));
            }
        }
    }
    Ok(out)
}

async fn upsert_entitlements(
    conn: &mut DbConn,
    run_id: RunId,
    resource: &str,
    entitlements: &[Entitlement],
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    for chunk in entitlements.chunks(ROWS_PER_STATEMENT) {
        let mut qb = QueryBuilder::<Db>::new(
            "INSERT INTO entitlements (app, tenant, kind, native_id, name, privileged, resource, \
             first_seen_at, last_seen_at, last_seen_run, missing_since, raw) ",
        );
        qb.push_values(chunk, |mut b, e| {
            b.push_bind(e.key.app.as_str())
                .push_bind(e.key.tenant.as_str())
                .push_bind(e.key.kind.as_str())
                .push_bind(e.key.native_id.as_str())
                .push_bind(e.name.as_str())
                .push_bind(e.privileged)
                .push_bind(resource)
                .push_bind(ts(at))
                .push_bind(ts(at))
                .push_bind(run_id)
                .push("NULL")
                .push_bind(Json(&e.raw));
        });
        qb.push(
            " ON CONFLICT (app, tenant, kind, native_id) DO UPDATE SET name = excluded.name, \
             privileged = excluded.privileged, resource = excluded.resource, \
             last_seen_at = excluded.last_seen_at, last_seen_run = excluded.last_seen_run, \
             missing_since = NULL, raw = excluded.raw",
        );
        qb.build().execute(&mut *conn).await.map_err(query_err(|| {
            format!("write entitlements listed by {resource}")
        }))?;
    }
    Ok(())
}

/// Every stored grant of these accounts (from any resource).
async fn load_grants_of(
    conn: &mut DbConn,
    accounts: &[&AccountKey],
) -> Result<Vec<StoredGrant>, StoreError> {
    let groups = group_ids(accounts.iter().map(|k| {
        (
            k.app.as_str(),
            k.tenant.as_str(),
            k.namespace.as_str(),
            k.native_id.as_str(),
        )
    }));
    let mut out = Vec::new();
    for ((app, tenant, namespace), ids) in groups {
        for ids in ids.chunks(ROWS_PER_STATEMENT) {
            let mut qb =
                QueryBuilder::<Db>::new(format!("SELECT {GRANT_COLS} FROM grants WHERE app = "));
            qb.push_bind(app)
                .push(" AND tenant = ")
                .push_bind(tenant)
                .push(" AND namespace = ")
                .push_bind(namespace)
                .push(" AND native_id IN (");
            let mut sep = qb.separated(", ");
            for id in ids {
                sep.push_bind(*id);
            }
            qb.push(") ORDER BY native_id, entitlement_tenant, entitlement_kind, entitlement_id");
            let rows = qb
                .build()
                .fetch_all(&mut *conn)
                .await
                .map_err(query_err(|| {
                    format!("load grants of {app} {namespace} accounts")
                }))?;
            for row in &rows {
                out.push(stored_grant_row(row)?);
            }
        }
    }
    Ok(out)
}

async fn upsert_grants(
    conn: &mut DbConn,
    run_id: RunId,
    resource: &str,
    grants: &[Grant],
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    for chunk in grants.chunks(ROWS_PER_STATEMENT) {
        let mut qb = QueryBuilder::<Db>::new(
            "INSERT INTO grants (app, tenant, namespace, native_id, entitlement_tenant, \
             entitlement_kind, entitlement_id, attributes, resource, first_seen_at, last_seen_at, \
             last_seen_run) ",
        );
        qb.push_values(chunk, |mut b, g| {
            b.push_bind(g.account.app.as_str())
                .push_bind(g.account.tenant.as_str())
                .push_bind(g.account.namespace.as_str())
                .push_bind(g.account.native_id.as_str())
                .push_bind(g.entitlement.tenant.as_str())
                .push_bind(g.entitlement.kind.as_str())
                .push_bind(g.entitlement.native_id.as_str())
                .push_bind(Json(&g.attributes))
                .push_bind(resource)
                .push_bind(ts(at))
                .push_bind(ts(at))
                .push_bind(run_id);
        });
        qb.push(
            " ON CONFLICT (app, tenant, namespace, native_id, entitlement_tenant, \
             entitlement_kind, entitlement_id) DO UPDATE SET attributes = excluded.attributes, \
             resource = excluded.resource, last_seen_at = excluded.last_seen_at, \
             last_seen_run = excluded.last_seen_run",
        );
        qb.build()
            .execute(&mut *conn)
            .await
            .map_err(query_err(|| format!("write grants listed by {resource}")))?;
    }
    Ok(())
}

async fn delete_grants(conn: &mut DbConn, grants: &[Grant]) -> Result<(), StoreError> {
    for g in grants {
        sqlx::query(
            "DELETE FROM grants WHERE app = $1 AND tenant = $2 AND namespace = $3 AND \
             native_id = $4 AND entitlement_tenant = $5 AND entitlement_kind = $6 AND \
             entitlement_id = $7",
        )
        .bind(g.account.app.as_str())
        .bind(g.account.tenant.as_str())
        .bind(g.account.namespace.as_str())
        .bind(g.account.native_id.as_str())
        .bind(g.entitlement.tenant.as_str())
        .bind(g.entitlement.kind.as_str())
        .bind(g.entitlement.native_id.as_str())
        .execute(&mut *conn)
        .await
        .map_err(query_err(|| {
            format!(
                "revoke {} {} {} from {} {}",
                g.account.app,
                g.entitlement.kind,
                g.entitlement.native_id,
                g.account.namespace,
                g.account.native_id
            )
        }))?;
    }
    Ok(())
}

/// Grants that `resource` (of the connector tenant `source`) listed before but not in
/// `run_id`.
async fn load_unseen_grants(
    conn: &mut DbConn,
    run: &SyncRun,
    resource: &str,
) -> Result<Vec<Grant>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {GRANT_COLS} FROM grants WHERE app = $1 AND resource = $2 AND last_seen_run <> $3 \
         AND tenant IN (SELECT tenant FROM tenants WHERE app = $1 AND source = $4) \
         ORDER BY tenant, namespace, native_id, entitlement_tenant, entitlement_kind, entitlement_id"
    ))
    .bind(run.app.as_str())
    .bind(resource)
    .bind(run.id)
    .bind(run.tenant.as_str())
    .fetch_all(&mut *conn)
    .await
    .map_err(query_err(|| {
        format!("find {} grants no longer listed by {resource}", run.app)
    }))?;
    rows.iter()
        .map(|r| stored_grant_row(r).map(|g| g.grant))
        .collect()
}

async fn insert_events(
    conn: &mut DbConn,
    run_id: Option<RunId>,
    at: OffsetDateTime,
    changes: &[Change],
) -> Result<u64, StoreError> {
    for chunk in changes.chunks(ROWS_PER_STATEMENT) {
        let mut qb = QueryBuilder::<Db>::new(
            "INSERT INTO events (at, run_id, app, tenant, kind, namespace, native_id, \
             entitlement_kind, entitlement_id, details) ",
        );
        qb.push_values(chunk, |mut b, c| {
            b.push_bind(ts(at))
                .push_bind(run_id)
                .push_bind(c.app())
                .push_bind(c.tenant())
                .push_bind(c.kind.as_str())
                .push_bind(c.account.as_ref().map(|k| k.namespace.as_str()))
                .push_bind(c.account.as_ref().map(|k| k.native_id.as_str()))
                .push_bind(c.entitlement.as_ref().map(|k| k.kind.as_str()))
                .push_bind(c.entitlement.as_ref().map(|k| k.native_id.as_str()))
                .push_bind(Json(&c.details));
        });
        qb.build()
            .execute(&mut *conn)
            .await
            .map_err(query_err(|| "append events".to_string()))?;
    }
    Ok(changes.len() as u64)
}

/// Marks missing the accounts of namespace `namespace` that the run's connector tenant reads
/// and that the run did not see; returns their went-missing events.
async fn tombstone_accounts(
    conn: &mut DbConn,
    run: &SyncRun,
    namespace: &str,
    at: OffsetDateTime,
) -> Result<Vec<Change>, StoreError> {
    const SCOPE: &str = "app = $1 AND namespace = $2 AND status <> 'missing' AND \
                         last_seen_run <> $3 AND tenant IN \
                         (SELECT tenant FROM tenants WHERE app = $1 AND source = $4)";
    let rows = sqlx::query(&format!(
        "SELECT {ACCOUNT_DIFF_COLS} FROM accounts WHERE {SCOPE} ORDER BY tenant, native_id"
    ))
    .bind(run.app.as_str())
    .bind(namespace)
    .bind(run.id)
    .bind(run.tenant.as_str())
    .fetch_all(&mut *conn)
    .await
    .map_err(query_err(|| {
        format!("find {} {namespace} accounts no longer listed", run.app)
    }))?;
    let mut changes = Vec::with_capacity(rows.len());
    for row in &rows {
        changes.push(diff::account_went_missing(&account_row(row, false)?, at));
    }
    if !changes.is_empty() {
        sqlx::query(&format!(
            "UPDATE accounts SET status = 'missing', missing_since = $5 WHERE {SCOPE}"
        ))
        .bind(run.app.as_str())
        .bind(namespace)
        .bind(run.id)
        .bind(run.tenant.as_str())
        .bind(ts(at))
        .execute(&mut *conn)
        .await
        .map_err(query_err(|| {
            format!("mark {} {namespace} accounts missing", run.app)
        }))?;
    }
    Ok(changes)
}

/// Marks missing the entitlements of `kind` the run did not see.
async fn tombstone_entitlements(
    conn: &mut DbConn,
    run: &SyncRun,
    kind: &str,
    at: OffsetDateTime,
) -> Result<Vec<Change>, StoreError> {
    const SCOPE: &str = "app = $1 AND kind = $2 AND missing_since IS NULL AND \
                         last_seen_run <> $3 AND tenant IN \
                         (SELECT tenant FROM tenants WHERE app = $1 AND source = $4)";
    let rows = sqlx::query(&format!(
        "SELECT {ENTITLEMENT_COLS} FROM entitlements WHERE {SCOPE} ORDER BY tenant, native_id"
    ))
    .bind(run.app.as_str())
    .bind(kind)
    .bind(run.id)
    .bind(run.tenant.as_str())
    .fetch_all(&mut *conn)
    .await
    .map_err(query_err(|| {
        format!("find {} {kind} entitlements no longer listed", run.app)
    }))?;
    let mut changes = Vec::with_capacity(rows.len());
    for row in &rows {
        let e = stored_entitlement_row(row)?;
        changes.push(diff::entitlement_went_missing(&e.entitlement, at));
    }
    if !changes.is_empty() {
        sqlx::query(&format!(
            "UPDATE entitlements SET missing_since = $5 WHERE {SCOPE}"
        ))
        .bind(run.app.as_str())
        .bind(kind)
        .bind(run.id)
        .bind(run.tenant.as_str())
        .bind(ts(at))
        .execute(&mut *conn)
        .await
        .map_err(query_err(|| {
            format!("mark {} {kind} entitlements missing", run.app)
        }))?;
    }
    Ok(changes)
}

/// `AND` the row is this account's (`app`, `tenant`, `namespace`, `native_id`).
fn push_account_key<'a>(qb: &mut QueryBuilder<'a, Db>, k: &'a AccountKey) {
    qb.push(" AND app = ")
        .push_bind(k.app.as_str())
        .push(" AND tenant = ")
        .push_bind(k.tenant.as_str())
        .push(" AND namespace = ")
        .push_bind(k.namespace.as_str())
        .push(" AND native_id = ")
        .push_bind(k.native_id.as_str());
}

/// `LIMIT`/`OFFSET` for a listing (SQLite needs a limit whenever there is an offset).
fn push_page(qb: &mut QueryBuilder<'_, Db>, limit: Option<u64>, offset: Option<u64>) {
    if limit.is_some() || offset.is_some() {
        qb.push(" LIMIT ")
            .push_bind(as_i64(limit.unwrap_or(i64::MAX as u64)));
    }
    if let Some(offset) = offset {
        qb.push(" OFFSET ").push_bind(as_i64(offset));
    }
}

// ---------------------------------------------------------------------------------------
// The trait

#[async_trait]
impl Store for This {
    fn backend(&self) -> Backend {
        BACKEND
    }

    fn location(&self) -> String {
        This::location(self)
    }

    async fn close(&self) {
        self.writer().close().await;
        self.reader().close().await;
    }

    async fn open_run(
        &self,
        app: &str,
        tenant: &str,
        mode: SyncMode,
        at: OffsetDateTime,
    ) -> Result<OpenedRun, StoreError> {
        let at = micros(at);
        let ctx = || format!("open a {} sync run of {app} ({tenant})", mode.as_str());
        let mut tx = self.writer().begin().await.map_err(query_err(ctx))?;
        let unfinished = sqlx::query(&format!(
            "SELECT {RUN_COLS} FROM sync_runs WHERE app = $1 AND tenant = $2 \
             AND finished_at IS NULL ORDER BY id DESC LIMIT 1"
        ))
        .bind(app)
        .bind(tenant)
        .fetch_optional(&mut *tx)
        .await
        .map_err(query_err(ctx))?
        .as_ref()
        .map(run_row)
        .transpose()?;
        let mut abandoned = None;
        if let Some(run) = unfinished {
            // An unfinished run is resumed unless a full sync is asked of an incremental one
            // (its cursors were taken with `since`, so they cannot serve a full listing).
            if !(mode == SyncMode::Full && run.mode == SyncMode::Incremental) {
                let row = sqlx::query(&format!(
                    "UPDATE sync_runs SET status = 'running' WHERE id = $1 RETURNING {RUN_COLS}"
                ))
                .bind(run.id)
                .fetch_one(&mut *tx)
                .await
                .map_err(query_err(ctx))?;
                let run = run_row(&row)?;
                tx.commit().await.map_err(query_err(ctx))?;
                return Ok(OpenedRun {
                    run,
                    resumed: true,
                    abandoned: None,
                });
            }
            sqlx::query(
                "UPDATE sync_runs SET status = 'interrupted', finished_at = $2, error = $3 \
                 WHERE id = $1",
            )
            .bind(run.id)
            .bind(ts(at))
            .bind("abandoned unfinished: a full sync was requested")
            .execute(&mut *tx)
            .await
            .map_err(query_err(ctx))?;
            abandoned = Some(run.id);
        }
        let row = sqlx::query(&format!(
            "INSERT INTO sync_runs (app, tenant, mode, status, started_at) \
             VALUES ($1, $2, $3, 'running', $4) RETURNING {RUN_COLS}"
        ))
        .bind(app)
        .bind(tenant)
        .bind(mode.as_str())
        .bind(ts(at))
        .fetch_one(&mut *tx)
        .await
        .map_err(query_err(ctx))?;
        let run = run_row(&row)?;
        tx.commit().await.map_err(query_err(ctx))?;
        Ok(OpenedRun {
            run,
            resumed: false,
            abandoned,
        })
    }

    async fn start_resource(
        &self,
        run_id: RunId,
        resource: &str,
        since: Option<OffsetDateTime>,
        at: OffsetDateTime,
    ) -> Result<Checkpoint, StoreError> {
        let at = micros(at);
        let ctx = || format!("start {resource} in sync run {run_id}");
        let mut tx = self.writer().begin().await.map_err(query_err(ctx))?;
        let run = load_open_run(&mut tx, run_id).await?;
        if let Some(cp) = load_checkpoint(&mut tx, &run, resource).await? {
            if cp.run_id == run_id {
                // Already started in this run: its cursor stands.
                return Ok(cp);
            }
        }
        let row = sqlx::query(&format!(
            "INSERT INTO checkpoints (app, tenant, resource, run_id, status, since, cursor, \
             pages, records, requests, error, updated_at) \
             VALUES ($1, $2, $3, $4, 'running', $5, NULL, 0, 0, 0, NULL, $6) \
             ON CONFLICT (app, tenant, resource) DO UPDATE SET run_id = excluded.run_id, \
             status = excluded.status, since = excluded.since, cursor = NULL, pages = 0, \
             records = 0, requests = 0, error = NULL, updated_at = excluded.updated_at \
             RETURNING {CHECKPOINT_COLS}"
        ))
        .bind(run.app.as_str())
        .bind(run.tenant.as_str())
        .bind(resource)
        .bind(run_id)
        .bind(ts_opt(since.map(micros)))
        .bind(ts(at))
        .fetch_one(&mut *tx)
        .await
        .map_err(query_err(ctx))?;
        let cp = checkpoint_row(&row)?;
        tx.commit().await.map_err(query_err(ctx))?;
        Ok(cp)
    }

    async fn commit_page(&self, page: PageCommit) -> Result<PageOutcome, StoreError> {
        let PageCommit {
            run_id,
            resource,
            grants: policy,
            records,
            next,
            requests,
            at,
        } = page;
        let at = micros(at);
        let n_records = records.len() as u64;
        let recs = plan::split(records);
        let ctx = || format!("commit a page of {resource} in sync run {run_id}");
        let mut tx = self.writer().begin().await.map_err(query_err(ctx))?;
        let run = load_open_run(&mut tx, run_id).await?;
        let cp = match load_checkpoint(&mut tx, &run, &resource).await? {
            Some(cp) if cp.run_id == run_id && cp.status != ResourceStatus::Done => cp,
            _ => {
                return Err(StoreError::NotStarted {
                    run_id,
                    resource: resource.clone(),
                })
            }
        };

        let tenants: BTreeSet<&str> = recs
            .accounts
            .iter()
            .map(|a| a.key.tenant.as_str())
            .chain(recs.entitlements.iter().map(|e| e.key.tenant.as_str()))
            .chain(recs.grants.iter().map(|g| g.account.tenant.as_str()))
            .collect();
        upsert_tenants(&mut tx, &run.app, &run.tenant, &tenants, at).await?;

        let mut changes: Vec<Change> = Vec::new();
        if !recs.entitlements.is_empty() {
            let prev = load_entitlements(&mut tx, &recs.entitlements).await?;
            for e in &recs.entitlements {
                let (p, missing) = match prev.get(&e.key) {
                    Some((p, missing)) => (Some(p), *missing),
                    None => (None, false),
                };
                changes.extend(diff::diff_entitlement(p, missing, e));
            }
            upsert_entitlements(&mut tx, run_id, &resource, &recs.entitlements, at).await?;
        }
        if !recs.accounts.is_empty() {
            let prev = load_accounts(&mut tx, &recs.accounts).await?;
            for a in &recs.accounts {
                changes.extend(diff::diff_account(prev.get(&a.key), a));
            }
            upsert_accounts(&mut tx, run_id, &resource, &recs.accounts, at).await?;
        }

        match &policy {
            GrantPolicy::WithAccounts { resources } => {
                let mut seen = HashSet::new();
                let keys: Vec<&AccountKey> = recs
                    .accounts
                    .iter()
                    .map(|a| &a.key)
                    .chain(recs.grants.iter().map(|g| &g.account))
                    .filter(|k| seen.insert(*k))
                    .collect();
                if !keys.is_empty() {
                    let stored: Vec<Grant> = load_grants_of(&mut tx, &keys)
                        .await?
                        .into_iter()
                        .filter(|g| g.resource == resource || resources.contains(&g.resource))
                        .map(|g| g.grant)
                        .collect();
                    let d = diff::diff_grants(&stored, &recs.grants, true);
                    delete_grants(&mut tx, &d.revoked).await?;
                    changes.extend(d.changes);
                }
            }
            GrantPolicy::Additive | GrantPolicy::Memberships => {
                if !recs.grants.is_empty() {
                    let mut seen = HashSet::new();
                    let keys: Vec<&AccountKey> = recs
                        .grants
                        .iter()
                        .map(|g| &g.account)
                        .filter(|k| seen.insert(*k))
                        .collect();
                    let listed: HashSet<(&AccountKey, &EntitlementKey)> = recs
                        .grants
                        .iter()
                        .map(|g| (&g.account, &g.entitlement))
                        .collect();
                    let stored: Vec<Grant> = load_grants_of(&mut tx, &keys)
                        .await?
                        .into_iter()
                        .map(|g| g.grant)
                        .filter(|g| listed.contains(&(&g.account, &g.entitlement)))
                        .collect();
                    changes.extend(diff::diff_grants(&stored, &recs.grants, false).changes);
                }
            }
        }
        upsert_grants(&mut tx, run_id, &resource, &recs.grants, at).await?;

        let done = next.is_none();
        let mut revoked = 0;
        if done && policy == GrantPolicy::Memberships && cp.is_full() {
            let unseen = load_unseen_grants(&mut tx, &run, &resource).await?;
            let d = diff::diff_grants(&unseen, &[], true);
            delete_grants(&mut tx, &d.revoked).await?;
            revoked = d.revoked.len() as u64;
            changes.extend(d.changes);
        }

        let events = insert_events(&mut tx, Some(run_id), at, &changes).await?;
        let row = sqlx::query(
            "UPDATE checkpoints SET pages = pages + 1, records = records + $4, \
             requests = requests + $5, cursor = $6, status = $7, updated_at = $8, \
             watermark = COALESCE($9, watermark) \
             WHERE app = $1 AND tenant = $2 AND resource = $3 \
             RETURNING pages, records, requests",
        )
        .bind(run.app.as_str())
        .bind(run.tenant.as_str())
        .bind(resource.as_str())
        .bind(as_i64(n_records))
        .bind(as_i64(requests))
        .bind(next.as_ref().map(Json))
        .bind(if done {
            ResourceStatus::Done.as_str()
        } else {
            ResourceStatus::Running.as_str()
        })
        .bind(ts(at))
        .bind(if done { Some(ts(run.started_at)) } else { None })
        .fetch_one(&mut *tx)
        .await
        .map_err(query_err(ctx))?;
        let outcome = PageOutcome {
            events,
            pages: count(&row, "checkpoints", "pages")?,
            records: count(&row, "checkpoints", "records")?,
            requests: count(&row, "checkpoints", "requests")?,
            revoked,
        };
        sqlx::query(
            "UPDATE sync_runs SET pages = pages + 1, records = records + $2, \
             requests = requests + $3, events = events + $4 WHERE id = $1",
        )
        .bind(run_id)
        .bind(as_i64(n_records))
        .bind(as_i64(requests))
        .bind(as_i64(events))
        .execute(&mut *tx)
        .await
        .map_err(query_err(ctx))?;
        tx.commit().await.map_err(query_err(ctx))?;
        Ok(outcome)
    }

    async fn fail_resource(
        &self,
        run_id: RunId,
        resource: &str,
        error: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let ctx = || format!("record the failure of {resource} in sync run {run_id}");
        let mut tx = self.writer().begin().await.map_err(query_err(ctx))?;
        let run = load_open_run(&mut tx, run_id).await?;
        sqlx::query(
            "UPDATE checkpoints SET status = 'failed', error = $5, updated_at = $6 \
             WHERE app = $1 AND tenant = $2 AND resource = $3 AND run_id = $4",
        )
        .bind(run.app.as_str())
        .bind(run.tenant.as_str())
        .bind(resource)
        .bind(run_id)
        .bind(error)
        .bind(ts(micros(at)))
        .execute(&mut *tx)
        .await
        .map_err(query_err(ctx))?;
        tx.commit().await.map_err(query_err(ctx))?;
        Ok(())
    }

    async fn interrupt_run(&self, run_id: RunId) -> Result<SyncRun, StoreError> {
        let ctx = || format!("mark sync run {run_id} interrupted");
        let row = sqlx::query(&format!(
            "UPDATE sync_runs SET status = 'interrupted' WHERE id = $1 AND finished_at IS NULL \
             RETURNING {RUN_COLS}"
        ))
        .bind(run_id)
        .fetch_optional(self.writer())
        .await
        .map_err(query_err(ctx))?;
        match row {
            Some(row) => run_row(&row),
            None => {
                let run = self.run(run_id).await?;
                Err(StoreError::RunFinished {
                    run_id,
                    status: run.status.as_str(),
                })
            }
        }
    }

    async fn finish_run(&self, finish: RunFinish) -> Result<FinishOutcome, StoreError> {
        let RunFinish {
            run_id,
            status,
            error,
            complete_namespaces,
            complete_kinds,
            at,
        } = finish;
        let at = micros(at);
        let ctx = || format!("finish sync run {run_id}");
        let mut tx = self.writer().begin().await.map_err(query_err(ctx))?;
        let run = load_open_run(&mut tx, run_id).await?;
        let mut changes = Vec::new();
        for kind in &complete_kinds {
            changes.extend(tombstone_entitlements(&mut tx, &run, kind, at).await?);
        }
        let entitlements_missing = changes.len() as u64;
        for namespace in &complete_namespaces {
            changes.extend(tombstone_accounts(&mut tx, &run, namespace, at).await?);
        }
        let accounts_missing = changes.len() as u64 - entitlements_missing;
        let events = insert_events(&mut tx, Some(run_id), at, &changes).await?;
        let row = sqlx::query(&format!(
            "UPDATE sync_runs SET status = $2, finished_at = $3, error = $4, \
             events = events + $5 WHERE id = $1 RETURNING {RUN_COLS}"
        ))
        .bind(run_id)
        .bind(status.as_str())
        .bind(ts(at))
        .bind(error.as_deref())
        .bind(as_i64(events))
        .fetch_one(&mut *tx)
        .await
        .map_err(query_err(ctx))?;
        let run = run_row(&row)?;
        tx.commit().await.map_err(query_err(ctx))?;
        Ok(FinishOutcome {
            run,
            accounts_missing,
            entitlements_missing,
        })
    }

    async fn run(&self, run_id: RunId) -> Result<SyncRun, StoreError> {
        let mut conn = self
            .reader()
            .acquire()
            .await
            .map_err(query_err(|| format!("load sync run {run_id}")))?;
        load_run(&mut conn, run_id).await
    }

    async fn runs(&self, filter: &RunFilter) -> Result<Vec<SyncRun>, StoreError> {
        let mut qb =
            QueryBuilder::<Db>::new(format!("SELECT {RUN_COLS} FROM sync_runs WHERE 1 = 1"));
        if let Some(app) = &filter.app {
            qb.push(" AND app = ").push_bind(app.as_str());
        }
        if let Some(tenant) = &filter.tenant {
            qb.push(" AND tenant = ").push_bind(tenant.as_str());
        }
        if filter.latest_only {
            qb.push(" AND id IN (SELECT max(id) FROM sync_runs GROUP BY app, tenant)");
        }
        qb.push(" ORDER BY id DESC");
        push_page(&mut qb, filter.limit, None);
        let rows = qb
            .build()
            .fetch_all(self.reader())
            .await
            .map_err(query_err(|| "list sync runs".to_string()))?;
        rows.iter().map(run_row).collect()
    }

    async fn checkpoints(
        &self,
        app: Option<&str>,
        tenant: Option<&str>,
    ) -> Result<Vec<Checkpoint>, StoreError> {
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {CHECKPOINT_COLS} FROM checkpoints WHERE 1 = 1"
        ));
        if let Some(app) = app {
            qb.push(" AND app = ").push_bind(app);
        }
        if let Some(tenant) = tenant {
            qb.push(" AND tenant = ").push_bind(tenant);
        }
        qb.push(" ORDER BY app, tenant, resource");
        let rows = qb
            .build()
            .fetch_all(self.reader())
            .await
            .map_err(query_err(|| "list checkpoints".to_string()))?;
        rows.iter().map(checkpoint_row).collect()
    }

    async fn accounts(&self, filter: &AccountFilter) -> Result<Vec<StoredAccount>, StoreError> {
        let mut qb =
            QueryBuilder::<Db>::new(format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE 1 = 1"));
        if let Some(app) = &filter.app {
            qb.push(" AND app = ").push_bind(app.as_str());
        }
        if let Some(tenant) = &filter.tenant {
            qb.push(" AND tenant = ").push_bind(tenant.as_str());
        }
        if let Some(namespace) = &filter.namespace {
            qb.push(" AND namespace = ").push_bind(namespace.as_str());
        }
        if let Some(status) = filter.status {
            qb.push(" AND status = ").push_bind(status.as_str());
        }
        if let Some(email) = &filter.email {
            qb.push(" AND primary_email = ")
                .push_bind(normalize_email(email));
        }
        qb.push(" ORDER BY app, tenant, namespace, native_id");
        push_page(&mut qb, filter.limit, filter.offset);
        let rows = qb
            .build()
            .fetch_all(self.reader())
            .await
            .map_err(query_err(|| "list accounts".to_string()))?;
        rows.iter().map(stored_account_row).collect()
    }

    async fn entitlements(
        &self,
        filter: &EntitlementFilter,
    ) -> Result<Vec<StoredEntitlement>, StoreError> {
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {ENTITLEMENT_COLS} FROM entitlements WHERE 1 = 1"
        ));
        if let Some(app) = &filter.app {
            qb.push(" AND app = ").push_bind(app.as_str());
        }
        if let Some(kind) = &filter.kind {
            qb.push(" AND kind = ").push_bind(kind.as_str());
        }
        qb.push(" ORDER BY app, tenant, kind, native_id");
        let rows = qb
            .build()
            .fetch_all(self.reader())
            .await
            .map_err(query_err(|| "list entitlements".to_string()))?;
        rows.iter().map(stored_entitlement_row).collect()
    }

    async fn grants(&self, filter: &GrantFilter) -> Result<Vec<StoredGrant>, StoreError> {
        let mut qb =
            QueryBuilder::<Db>::new(format!("SELECT {GRANT_COLS} FROM grants WHERE 1 = 1"));
        if let Some(app) = &filter.app {
            qb.push(" AND app = ").push_bind(app.as_str());
        }
        if let Some(k) = &filter.account {
            push_account_key(&mut qb, k);
        }
        if let Some(k) = &filter.entitlement {
            qb.push(" AND app = ")
                .push_bind(k.app.as_str())
                .push(" AND entitlement_tenant = ")
                .push_bind(k.tenant.as_str())
                .push(" AND entitlement_kind = ")
                .push_bind(k.kind.as_str())
                .push(" AND entitlement_id = ")
                .push_bind(k.native_id.as_str());
        }
        qb.push(
            " ORDER BY app, tenant, namespace, native_id, entitlement_tenant, entitlement_kind, \
             entitlement_id",
        );
        let rows = qb
            .build()
            .fetch_all(self.reader())
            .await
            .map_err(query_err(|| "list grants".to_string()))?;
        rows.iter().map(stored_grant_row).collect()
    }

    async fn events(&self, filter: &EventFilter) -> Result<Vec<StoredEvent>, StoreError> {
        let mut qb =
            QueryBuilder::<Db>::new(format!("SELECT {EVENT_COLS} FROM events WHERE 1 = 1"));
        if let Some(since) = filter.since {
            qb.push(" AND at >= ").push_bind(ts(since));
        }
        if let Some(after) = filter.after_id {
            qb.push(" AND id > ").push_bind(after);
        }
        if let Some(app) = &filter.app {
            qb.push(" AND app = ").push_bind(app.as_str());
        }
        if !filter.kinds.is_empty() {
            qb.push(" AND kind IN (");
            let mut sep = qb.separated(", ");
            for k in &filter.kinds {
                sep.push_bind(k.as_str());
            }
            qb.push(")");
        }
        if let Some(run_id) = filter.run_id {
            qb.push(" AND run_id = ").push_bind(run_id);
        }
        if let Some(k) = &filter.account {
            push_account_key(&mut qb, k);
        }
        qb.push(" ORDER BY id");
        push_page(&mut qb, filter.limit, None);
        let rows = qb
            .build()
            .fetch_all(self.reader())
            .await
            .map_err(query_err(|| "list events".to_string()))?;
        rows.iter().map(event_row).collect()
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {TENANT_COLS} FROM tenants ORDER BY app, tenant"
        ))
        .fetch_all(self.reader())
        .await
        .map_err(query_err(|| "list tenants".to_string()))?;
        rows.iter().map(tenant_row).collect()
    }

    async fn counts(&self) -> Result<Counts, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT count(*) FROM tenants) AS tenants, \
             (SELECT count(*) FROM accounts) AS accounts, \
             (SELECT count(*) FROM entitlements) AS entitlements, \
             (SELECT count(*) FROM grants) AS grants, \
             (SELECT count(*) FROM events) AS events, \
             (SELECT count(*) FROM sync_runs) AS sync_runs",
        )
        .fetch_one(self.reader())
        .await
        .map_err(query_err(|| "count rows".to_string()))?;
        Ok(Counts {
            tenants: count(&row, "tenants", "tenants")?,
            accounts: count(&row, "accounts", "accounts")?,
            entitlements: count(&row, "entitlements", "entitlements")?,
            grants: count(&row, "grants", "grants")?,
            events: count(&row, "events", "events")?,
            sync_runs: count(&row, "sync_runs", "sync_runs")?,
        })
    }

    // --- Source of truth, correlation decisions, reviews (migration 0002) ------------------
    // The statements are in `shared_people.rs` (module `people_sql` of each backend).

    async fn import_roster(
        &self,
        roster: &idgraph_core::Roster,
        by: &str,
        at: OffsetDateTime,
    ) -> Result<crate::RosterImport, StoreError> {
        people_sql::import_roster(self, roster, by, at).await
    }

    async fn current_roster(
        &self,
    ) -> Result<Option<(crate::StoredRosterVersion, idgraph_core::Roster)>, StoreError> {
        people_sql::current_roster(self).await
    }

    async fn roster_versions(
        &self,
        limit: Option<u64>,
    ) -> Result<Vec<crate::StoredRosterVersion>, StoreError> {
        people_sql::roster_versions(self, limit).await
    }

    async fn roster_people(
        &self,
        version: crate::RosterVersionId,
    ) -> Result<Option<Vec<idgraph_core::Person>>, StoreError> {
        people_sql::roster_people(self, version).await
    }

    async fn record_decision(
        &self,
        decision: &idgraph_core::Decision,
    ) -> Result<crate::StoredDecision, StoreError> {
        people_sql::record_decision(self, decision).await
    }

    async fn withdraw_decisions(
        &self,
        account: &AccountKey,
        all: bool,
        by: &str,
        at: OffsetDateTime,
    ) -> Result<Vec<crate::StoredDecision>, StoreError> {
        people_sql::withdraw_decisions(self, account, all, by, at).await
    }

    async fn decisions(
        &self,
        filter: &crate::DecisionFilter,
    ) -> Result<Vec<crate::StoredDecision>, StoreError> {
        people_sql::decisions(self, filter).await
    }

    async fn review_accounts(&self, app: Option<&str>) -> Result<Vec<Account>, StoreError> {
        people_sql::review_accounts(self, app).await
    }

    async fn privileged_grants(
        &self,
        app: Option<&str>,
    ) -> Result<(Vec<Entitlement>, Vec<Grant>), StoreError> {
        people_sql::privileged_grants(self, app).await
    }

    async fn last_syncs(&self) -> Result<Vec<crate::LastSync>, StoreError> {
        people_sql::last_syncs(self).await
    }

    async fn accounts_with_id(&self, native_id: &str) -> Result<Vec<StoredAccount>, StoreError> {
        people_sql::accounts_with_id(self, native_id).await
    }

    async fn record_review(&self, review: &crate::ReviewRecord) -> Result<i64, StoreError> {
        people_sql::record_review(self, review).await
    }

    async fn last_review(
        &self,
        scope: Option<&str>,
    ) -> Result<Option<crate::ReviewRecord>, StoreError> {
        people_sql::last_review(self, scope).await
    }
}
