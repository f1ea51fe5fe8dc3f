// Migration 0002 for both backends — roster versions and their people, correlation
// decisions, recorded reviews, and the lean reads a review makes — written once like
// `shared.rs` and included into a child module (`people_sql`) of each backend module, after
// `shared.rs`, whose helpers (`get`, `json`, `count`, `ts`, `query_err`, …) and backend names
// (`Db`, `DbRow`, `This`) it uses through `super::*`. `Store` methods in `shared.rs` delegate
// here.

use super::*;
use crate::people::*;
use futures::TryStreamExt;
use idgraph_core::person::RosterSource;
use idgraph_core::{Decision, HrStatus, Person, Roster, RosterVersion, Verdict};
use time::Date;

// ---------------------------------------------------------------------------------------
// Rows

const VERSION_COLS: &str = "id, hash, rows, sources, imported_at, imported_by, \
     EXISTS (SELECT 1 FROM people p WHERE p.version_id = roster_versions.id) AS people_kept";

fn version_row(row: &DbRow) -> Result<StoredRosterVersion, StoreError> {
    const T: &str = "roster_versions";
    let sources: Vec<RosterSource> =
        serde_json::from_value(json(row, T, "sources")?).map_err(|e| StoreError::Corrupt {
            table: T,
            column: "sources",
            detail: format!("expected [{{name, hash, rows}}]: {e}"),
        })?;
    Ok(StoredRosterVersion {
        id: get(row, T, "id")?,
        version: RosterVersion {
            sources,
            hash: get(row, T, "hash")?,
            rows: usize::try_from(count(row, T, "rows")?).unwrap_or(usize::MAX),
        },
        imported_at: get_ts(row, T, "imported_at")?,
        imported_by: get(row, T, "imported_by")?,
        people_kept: get(row, T, "people_kept")?,
    })
}

const PERSON_COLS: &str = "employee_id, email, alternate_emails, first_name, last_name, \
                           department, title, manager_id, status, hire_date, status_date";

fn person_row(row: &DbRow) -> Result<Person, StoreError> {
    const T: &str = "people";
    Ok(Person {
        employee_id: get(row, T, "employee_id")?,
        email: get(row, T, "email")?,
        alternate_emails: strings(row, T, "alternate_emails")?,
        first_name: get(row, T, "first_name")?,
        last_name: get(row, T, "last_name")?,
        department: get(row, T, "department")?,
        title: get(row, T, "title")?,
        manager_id: get(row, T, "manager_id")?,
        status: parsed::<HrStatus>(row, T, "status")?,
        hire_date: get::<Option<Date>>(row, T, "hire_date")?,
        status_date: get::<Option<Date>>(row, T, "status_date")?,
    })
}

const DECISION_COLS: &str = "id, app, tenant, namespace, native_id, verdict, employee_id, \
                             decided_by, decided_at, note, withdrawn_at, withdrawn_by";

fn decision_row(row: &DbRow) -> Result<StoredDecision, StoreError> {
    const T: &str = "correlation_decisions";
    let verdict: String = get(row, T, "verdict")?;
    let employee_id: Option<String> = get(row, T, "employee_id")?;
    let verdict = match (verdict.as_str(), employee_id) {
        ("link", Some(employee_id)) => Verdict::Link { employee_id },
        ("reject", Some(employee_id)) => Verdict::Reject { employee_id },
        ("service_account", None) => Verdict::ServiceAccount,
        (v, e) => {
            return Err(StoreError::Corrupt {
                table: T,
                column: "verdict",
                detail: format!("verdict `{v}` with employee id {e:?}"),
            })
        }
    };
    Ok(StoredDecision {
        id: get(row, T, "id")?,
        decision: Decision {
            account: account_key(row, T)?,
            verdict,
            decided_by: get(row, T, "decided_by")?,
            decided_at: get_ts(row, T, "decided_at")?,
            note: get(row, T, "note")?,
        },
        withdrawn_at: get_ts_opt(row, T, "withdrawn_at")?,
        withdrawn_by: get(row, T, "withdrawn_by")?,
    })
}

fn verdict_columns(v: &Verdict) -> (&'static str, Option<&str>) {
    match v {
        Verdict::Link { employee_id } => ("link", Some(employee_id.as_str())),
        Verdict::Reject { employee_id } => ("reject", Some(employee_id.as_str())),
        Verdict::ServiceAccount => ("service_account", None),
    }
}

const REVIEW_COLS: &str =
    "id, generated_at, scope, roster_version, roster_hash, syncs, totals, apps, findings";

fn typed<T: serde::de::DeserializeOwned>(
    v: Value,
    table: &'static str,
    column: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_value(v).map_err(|e| StoreError::Corrupt {
        table,
        column,
        detail: e.to_string(),
    })
}

fn review_row(row: &DbRow) -> Result<ReviewRecord, StoreError> {
    const T: &str = "reviews";
    Ok(ReviewRecord {
        id: get(row, T, "id")?,
        generated_at: get_ts(row, T, "generated_at")?,
        scope: get(row, T, "scope")?,
        roster_version: get(row, T, "roster_version")?,
        roster_hash: get(row, T, "roster_hash")?,
        syncs: typed(json(row, T, "syncs")?, T, "syncs")?,
        totals: typed(json(row, T, "totals")?, T, "totals")?,
        apps: typed(json(row, T, "apps")?, T, "apps")?,
        findings: json_opt(row, T, "findings")?
            .map(|v| typed(v, T, "findings"))
            .transpose()?,
    })
}

/// The columns reconciliation reads (everything but `raw` and the sync bookkeeping).
const REVIEW_ACCOUNT_COLS: &str = "app, tenant, namespace, native_id, emails, display_name, \
                                   status, seat_consuming, attributes, vendor_created_at, \
                                   vendor_updated_at, last_login_at";

/// A column by position (the hot path of a million-row read: no name lookup per column).
fn at<'r, T>(row: &'r DbRow, i: usize, column: &'static str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, Db> + sqlx::Type<Db>,
{
    row.try_get(i).map_err(|source| StoreError::Decode {
        table: "accounts",
        column,
        source,
    })
}

/// A row of [`REVIEW_ACCOUNT_COLS`], read by position, JSON decoded straight into its type.
fn review_account_row(row: &DbRow) -> Result<Account, StoreError> {
    const T: &str = "accounts";
    let status: String = at(row, 6, "status")?;
    let Json(emails): Json<Vec<String>> = at(row, 4, "emails")?;
    let Json(attributes): Json<Map<String, Value>> = at(row, 8, "attributes")?;
    Ok(Account {
        key: AccountKey {
            app: at(row, 0, "app")?,
            tenant: at(row, 1, "tenant")?,
            namespace: at(row, 2, "namespace")?,
            native_id: at(row, 3, "native_id")?,
        },
        emails,
        display_name: at(row, 5, "display_name")?,
        status: status.parse().map_err(|detail| StoreError::Corrupt {
            table: T,
            column: "status",
            detail,
        })?,
        seat_consuming: at(row, 7, "seat_consuming")?,
        attributes,
        created_at: get_ts_opt(row, T, "vendor_created_at")?,
        updated_at: get_ts_opt(row, T, "vendor_updated_at")?,
        last_login_at: get_ts_opt(row, T, "last_login_at")?,
        raw: Value::Null,
    })
}

// ---------------------------------------------------------------------------------------
// Roster

async fn current_version(conn: &mut DbConn) -> Result<Option<StoredRosterVersion>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {VERSION_COLS} FROM roster_versions ORDER BY id DESC LIMIT 1"
    ))
    .fetch_optional(&mut *conn)
    .await
    .map_err(query_err(|| "load the current roster version".to_string()))?;
    row.as_ref().map(version_row).transpose()
}

async fn version_by_id(
    conn: &mut DbConn,
    id: RosterVersionId,
) -> Result<Option<StoredRosterVersion>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {VERSION_COLS} FROM roster_versions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(query_err(|| format!("load roster version {id}")))?;
    row.as_ref().map(version_row).transpose()
}

async fn people_of(conn: &mut DbConn, id: RosterVersionId) -> Result<Vec<Person>, StoreError> {
    let sql = format!("SELECT {PERSON_COLS} FROM people WHERE version_id = $1 ORDER BY position");
    let mut rows = sqlx::query(&sql).bind(id).fetch(&mut *conn);
    let mut out = Vec::new();
    while let Some(row) = rows.try_next().await.map_err(query_err(|| {
        format!("load the people of roster version {id}")
    }))? {
        out.push(person_row(&row)?);
    }
    Ok(out)
}

/// The source name of each position: sources hold consecutive runs of people.
fn source_names(version: &RosterVersion) -> Vec<(usize, &str)> {
    let mut end = 0;
    version
        .sources
        .iter()
        .map(|s| {
            end += s.rows;
            (end, s.name.as_str())
        })
        .collect()
}

async fn insert_people(
    conn: &mut DbConn,
    version_id: RosterVersionId,
    roster: &Roster,
) -> Result<(), StoreError> {
    let sources = source_names(roster.version());
    let source_of = |i: usize| {
        sources
            .iter()
            .find(|(end, _)| i < *end)
            .map_or("", |(_, name)| *name)
    };
    let people: Vec<(usize, &Person)> = roster.people().iter().enumerate().collect();
    for chunk in people.chunks(ROWS_PER_STATEMENT) {
        let mut qb = QueryBuilder::<Db>::new(
            "INSERT INTO people (version_id, position, source, employee_id, email, \
             alternate_emails, first_name, last_name, department, title, manager_id, status, \
             hire_date, status_date) ",
        );
        qb.push_values(chunk, |mut b, (i, p)| {
            b.push_bind(version_id)
                .push_bind(as_i64(*i as u64))
                .push_bind(source_of(*i))
                .push_bind(p.employee_id.as_str())
                .push_bind(p.email.as_str())
                .push_bind(Json(&p.alternate_emails))
                .push_bind(p.first_name.as_str())
                .push_bind(p.last_name.as_str())
                .push_bind(p.department.as_deref())
                .push_bind(p.title.as_deref())
                .push_bind(p.manager_id.as_deref())
                .push_bind(p.status.as_str())
                .push_bind(p.hire_date)
                .push_bind(p.status_date);
        });
        qb.build().execute(&mut *conn).await.map_err(query_err(|| {
            let first = chunk.first().map_or("", |(_, p)| p.employee_id.as_str());
            format!("write the people of roster version {version_id} (from {first})")
        }))?;
    }
    Ok(())
}

pub(super) async fn import_roster(
    store: &This,
    roster: &Roster,
    by: &str,
    at: OffsetDateTime,
) -> Result<RosterImport, StoreError> {
    let at = micros(at);
    let v = roster.version();
    let ctx = || format!("import roster {}", v.label());
    let mut tx = store.writer().begin().await.map_err(query_err(ctx))?;
    let previous = current_version(&mut tx).await?;
    if let Some(current) = previous.as_ref().filter(|c| c.version.hash == v.hash) {
        return Ok(RosterImport {
            version: current.clone(),
            unchanged: true,
            previous: Some(current.clone()),
        });
    }
    let row = sqlx::query(
        "INSERT INTO roster_versions (hash, rows, sources, imported_at, imported_by) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(v.hash.as_str())
    .bind(as_i64(v.rows as u64))
    .bind(Json(&v.sources))
    .bind(ts(at))
    .bind(by)
    .fetch_one(&mut *tx)
    .await
    .map_err(query_err(ctx))?;
    let id: RosterVersionId = get(&row, "roster_versions", "id")?;
    insert_people(&mut tx, id, roster).await?;
    // Keep the people of this version and the one before it.
    let keep = previous.as_ref().map_or(id, |p| p.id);
    sqlx::query("DELETE FROM people WHERE version_id <> $1 AND version_id <> $2")
        .bind(id)
        .bind(keep)
        .execute(&mut *tx)
        .await
        .map_err(query_err(|| {
            "drop the people of older roster versions".to_string()
        }))?;
    let version = version_by_id(&mut tx, id)
        .await?
        .ok_or(StoreError::Corrupt {
            table: "roster_versions",
            column: "id",
            detail: format!("version {id} vanished while it was written"),
        })?;
    let previous = match previous {
        Some(p) => version_by_id(&mut tx, p.id).await?,
        None => None,
    };
    tx.commit().await.map_err(query_err(ctx))?;
    Ok(RosterImport {
        version,
        unchanged: false,
        previous,
    })
}

pub(super) async fn roster_versions(
    store: &This,
    limit: Option<u64>,
) -> Result<Vec<StoredRosterVersion>, StoreError> {
    let mut qb = QueryBuilder::<Db>::new(format!(
        "SELECT {VERSION_COLS} FROM roster_versions ORDER BY id DESC"
    ));
    push_page(&mut qb, limit, None);
    let rows = qb
        .build()
        .fetch_all(store.reader())
        .await
        .map_err(query_err(|| "list roster versions".to_string()))?;
    rows.iter().map(version_row).collect()
}

pub(super) async fn roster_people(
    store: &This,
    version_id: RosterVersionId,
) -> Result<Option<Vec<Person>>, StoreError> {
    let ctx = || format!("load roster version {version_id}");
    let mut tx = store.reader().begin().await.map_err(query_err(ctx))?;
    let Some(v) = version_by_id(&mut tx, version_id).await? else {
        return Ok(None);
    };
    if !v.people_kept {
        return Ok(None);
    }
    let people = people_of(&mut tx, version_id).await?;
    tx.commit().await.map_err(query_err(ctx))?;
    Ok(Some(people))
}

pub(super) async fn current_roster(
    store: &This,
) -> Result<Option<(StoredRosterVersion, Roster)>, StoreError> {
    let ctx = || "load the current roster".to_string();
    // One read transaction: the version and its people from the same snapshot.
    let mut tx = store.reader().begin().await.map_err(query_err(ctx))?;
    let Some(version) = current_version(&mut tx).await? else {
        return Ok(None);
    };
    let people = people_of(&mut tx, version.id).await?;
    tx.commit().await.map_err(query_err(ctx))?;
    let roster = Roster::restore(version.version.clone(), people).map_err(|source| {
        StoreError::InvalidRoster {
            version_id: version.id,
            source,
        }
    })?;
    Ok(Some((version, roster)))
}

// ---------------------------------------------------------------------------------------
// Correlation decisions

pub(super) async fn record_decision(
    store: &This,
    d: &Decision,
) -> Result<StoredDecision, StoreError> {
    let (verdict, employee_id) = verdict_columns(&d.verdict);
    let k = &d.account;
    let row = sqlx::query(&format!(
        "INSERT INTO correlation_decisions (app, tenant, namespace, native_id, verdict, \
         employee_id, decided_by, decided_at, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         RETURNING {DECISION_COLS}"
    ))
    .bind(k.app.as_str())
    .bind(k.tenant.as_str())
    .bind(k.namespace.as_str())
    .bind(k.native_id.as_str())
    .bind(verdict)
    .bind(employee_id)
    .bind(d.decided_by.as_str())
    .bind(ts(d.decided_at))
    .bind(d.note.as_deref())
    .fetch_one(store.writer())
    .await
    .map_err(query_err(|| {
        format!(
            "record a {verdict} decision on {} {} {}",
            k.app, k.namespace, k.native_id
        )
    }))?;
    decision_row(&row)
}

pub(super) async fn withdraw_decisions(
    store: &This,
    account: &AccountKey,
    all: bool,
    by: &str,
    at: OffsetDateTime,
) -> Result<Vec<StoredDecision>, StoreError> {
    let ctx = || {
        format!(
            "withdraw decisions on {} {} {}",
            account.app, account.namespace, account.native_id
        )
    };
    let mut tx = store.writer().begin().await.map_err(query_err(ctx))?;
    let rows = sqlx::query(&format!(
        "SELECT {DECISION_COLS} FROM correlation_decisions WHERE app = $1 AND tenant = $2 \
         AND namespace = $3 AND native_id = $4 AND withdrawn_at IS NULL \
         ORDER BY decided_at DESC, id DESC"
    ))
    .bind(account.app.as_str())
    .bind(account.tenant.as_str())
    .bind(account.namespace.as_str())
    .bind(account.native_id.as_str())
    .fetch_all(&mut *tx)
    .await
    .map_err(query_err(ctx))?;
    let mut out = Vec::new();
    for row in rows.iter().take(if all { usize::MAX } else { 1 }) {
        let d = decision_row(row)?;
        let row = sqlx::query(&format!(
            "UPDATE correlation_decisions SET withdrawn_at = $2, withdrawn_by = $3 \
             WHERE id = $1 RETURNING {DECISION_COLS}"
        ))
        .bind(d.id)
        .bind(ts(micros(at)))
        .bind(by)
        .fetch_one(&mut *tx)
        .await
        .map_err(query_err(ctx))?;
        out.push(decision_row(&row)?);
    }
    tx.commit().await.map_err(query_err(ctx))?;
    Ok(out)
}

pub(super) async fn decisions(
    store: &This,
    filter: &DecisionFilter,
) -> Result<Vec<StoredDecision>, StoreError> {
    let mut qb = QueryBuilder::<Db>::new(format!(
        "SELECT {DECISION_COLS} FROM correlation_decisions WHERE 1 = 1"
    ));
    if !filter.include_withdrawn {
        qb.push(" AND withdrawn_at IS NULL");
    }
    if let Some(app) = &filter.app {
        qb.push(" AND app = ").push_bind(app.as_str());
    }
    if let Some(k) = &filter.account {
        push_account_key(&mut qb, k);
    }
    qb.push(" ORDER BY decided_at, id");
    let rows = qb
        .build()
        .fetch_all(store.reader())
        .await
        .map_err(query_err(|| "list correlation decisions".to_string()))?;
    rows.iter().map(decision_row).collect()
}

// ---------------------------------------------------------------------------------------
// What a review reads

pub(super) async fn review_accounts(
    store: &This,
    app: Option<&str>,
) -> Result<Vec<Account>, StoreError> {
    let apps: Vec<String> = match app {
        Some(a) => vec![a.to_string()],
        None => sqlx::query_scalar("SELECT DISTINCT app FROM accounts ORDER BY app")
            .fetch_all(store.reader())
            .await
            .map_err(query_err(|| "list the apps with accounts".to_string()))?,
    };
    // One task per app, each on its own reader connection: decoding a million rows is CPU
    // work that the cores share.
    let tasks: Vec<_> = apps
        .into_iter()
        .map(|app| {
            let pool = store.reader().clone();
            tokio::spawn(async move { app_accounts(&pool, &app).await })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        let mut part = t.await.map_err(|source| StoreError::Task {
            op: "load accounts for the review".to_string(),
            source,
        })??;
        if out.is_empty() {
            out = part;
        } else {
            out.append(&mut part);
        }
    }
    Ok(out)
}

/// The accounts of one app in key order (the primary-key index's order), streamed: one row
/// at a time becomes an account, never the whole result set as rows.
async fn app_accounts(pool: &sqlx::Pool<Db>, app: &str) -> Result<Vec<Account>, StoreError> {
    let sql = format!(
        "SELECT {REVIEW_ACCOUNT_COLS} FROM accounts WHERE app = $1 \
         ORDER BY app, tenant, namespace, native_id"
    );
    let mut rows = sqlx::query(&sql).bind(app).fetch(pool);
    let mut out = Vec::new();
    while let Some(row) = rows
        .try_next()
        .await
        .map_err(query_err(|| format!("load {app} accounts for the review")))?
    {
        out.push(review_account_row(&row)?);
    }
    Ok(out)
}

pub(super) async fn privileged_grants(
    store: &This,
    app: Option<&str>,
) -> Result<(Vec<Entitlement>, Vec<Grant>), StoreError> {
    let mut qb = QueryBuilder::<Db>::new(
        "SELECT app, tenant, kind, native_id, name FROM entitlements WHERE privileged",
    );
    if let Some(app) = app {
        qb.push(" AND app = ").push_bind(app);
    }
    qb.push(" ORDER BY app, tenant, kind, native_id");
    let rows = qb
        .build()
        .fetch_all(store.reader())
        .await
        .map_err(query_err(|| "list privileged entitlements".to_string()))?;
    let mut entitlements = Vec::with_capacity(rows.len());
    for row in &rows {
        const T: &str = "entitlements";
        entitlements.push(Entitlement {
            key: EntitlementKey {
                app: get(row, T, "app")?,
                tenant: get(row, T, "tenant")?,
                kind: get(row, T, "kind")?,
                native_id: get(row, T, "native_id")?,
            },
            name: get(row, T, "name")?,
            privileged: true,
            raw: Value::Null,
        });
    }
    // Driven by the (few) privileged entitlements through the grants' entitlement index,
    // not by a scan of every grant; sorted here.
    let mut qb = QueryBuilder::<Db>::new(
        "SELECT g.app, g.tenant, g.namespace, g.native_id, g.entitlement_tenant, \
         g.entitlement_kind, g.entitlement_id, g.attributes FROM grants g \
         WHERE (g.app, g.entitlement_tenant, g.entitlement_kind, g.entitlement_id) IN \
         (SELECT app, tenant, kind, native_id FROM entitlements WHERE privileged)",
    );
    if let Some(app) = app {
        qb.push(" AND g.app = ").push_bind(app);
    }
    let mut rows = qb.build().fetch(store.reader());
    let mut grants = Vec::new();
    while let Some(row) = rows.try_next().await.map_err(query_err(|| {
        "list grants of privileged entitlements".to_string()
    }))? {
        const T: &str = "grants";
        let account = account_key(&row, T)?;
        grants.push(Grant {
            entitlement: EntitlementKey {
                app: account.app.clone(),
                tenant: get(&row, T, "entitlement_tenant")?,
                kind: get(&row, T, "entitlement_kind")?,
                native_id: get(&row, T, "entitlement_id")?,
            },
            account,
            attributes: object(&row, T, "attributes")?,
        });
    }
    grants.sort_by(|a, b| (&a.account, &a.entitlement).cmp(&(&b.account, &b.entitlement)));
    Ok((entitlements, grants))
}

pub(super) async fn last_syncs(store: &This) -> Result<Vec<LastSync>, StoreError> {
    let rows = sqlx::query(
        "SELECT r.app, r.tenant, r.status, r.started_at, \
         (SELECT max(s.finished_at) FROM sync_runs s WHERE s.app = r.app AND s.tenant = r.tenant \
          AND s.status = 'succeeded') AS succeeded_at \
         FROM sync_runs r WHERE r.id IN (SELECT max(id) FROM sync_runs GROUP BY app, tenant) \
         ORDER BY r.app, r.tenant",
    )
    .fetch_all(store.reader())
    .await
    .map_err(query_err(|| "find the last sync of each app".to_string()))?;
    rows.iter()
        .map(|row| {
            const T: &str = "sync_runs";
            Ok(LastSync {
                app: get(row, T, "app")?,
                tenant: get(row, T, "tenant")?,
                succeeded_at: get_ts_opt(row, T, "succeeded_at")?,
                latest_status: parsed(row, T, "status")?,
                latest_started_at: get_ts(row, T, "started_at")?,
            })
        })
        .collect()
}

pub(super) async fn accounts_with_id(
    store: &This,
    native_id: &str,
) -> Result<Vec<StoredAccount>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {ACCOUNT_COLS} FROM accounts WHERE native_id = $1 \
         ORDER BY app, tenant, namespace, native_id"
    ))
    .bind(native_id)
    .fetch_all(store.reader())
    .await
    .map_err(query_err(|| format!("find accounts with id {native_id}")))?;
    rows.iter().map(stored_account_row).collect()
}

// ---------------------------------------------------------------------------------------
// Reviews

pub(super) async fn record_review(store: &This, r: &ReviewRecord) -> Result<i64, StoreError> {
    let ctx = || format!("record the review of {}", r.generated_at);
    let mut tx = store.writer().begin().await.map_err(query_err(ctx))?;
    let row = sqlx::query(
        "INSERT INTO reviews (generated_at, scope, roster_version, roster_hash, syncs, totals, \
         apps, findings) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(ts(r.generated_at))
    .bind(r.scope.as_deref())
    .bind(r.roster_version)
    .bind(r.roster_hash.as_str())
    .bind(Json(&r.syncs))
    .bind(Json(&r.totals))
    .bind(Json(&r.apps))
    .bind(r.findings.as_ref().map(Json))
    .fetch_one(&mut *tx)
    .await
    .map_err(query_err(ctx))?;
    let id: i64 = get(&row, "reviews", "id")?;
    sqlx::query(
        "UPDATE reviews SET findings = NULL WHERE findings IS NOT NULL AND id NOT IN \
         (SELECT id FROM reviews ORDER BY id DESC LIMIT $1)",
    )
    .bind(REVIEWS_WITH_FINDINGS)
    .execute(&mut *tx)
    .await
    .map_err(query_err(|| {
        "prune the finding ids of old reviews".to_string()
    }))?;
    tx.commit().await.map_err(query_err(ctx))?;
    Ok(id)
}

pub(super) async fn last_review(
    store: &This,
    scope: Option<&str>,
) -> Result<Option<ReviewRecord>, StoreError> {
    let mut qb = QueryBuilder::<Db>::new(format!("SELECT {REVIEW_COLS} FROM reviews WHERE "));
    match scope {
        Some(s) => {
            qb.push("scope = ").push_bind(s);
        }
        None => {
            qb.push("scope IS NULL");
        }
    }
    qb.push(" ORDER BY id DESC LIMIT 1");
    let row = qb
        .build()
        .fetch_optional(store.reader())
        .await
        .map_err(query_err(|| "load the last review".to_string()))?;
    row.as_ref().map(review_row).transpose()
}
