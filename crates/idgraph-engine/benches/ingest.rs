//! Ingest benchmark: 1,000,000 accounts (200,000 people in each of five apps) synced in pages
//! of 100 into a new SQLite file, the five apps at once, through the real engine and store
//! (diff, events, grants, checkpoints). Prints wall time, accounts per second, peak RSS
//! (`VmHWM` from /proc/self/status) and the database size; then re-syncs the unchanged data
//! (the steady state of a daily full sync) and prints the same.
//!
//! `cargo bench -p idgraph-engine --bench ingest` (release). `IDGRAPH_BENCH_PEOPLE` changes
//! the people per app (default 200,000); `IDGRAPH_BENCH_DIR` the directory of the database
//! file (default: a temporary directory, removed afterwards); `IDGRAPH_BENCH_RESYNC=0` skips
//! the second pass.

use async_trait::async_trait;
use idgraph_connectors::{
    Capabilities, Connector, ConnectorError, Cursor, GrantScope, Page, ResourceSpec,
};
use idgraph_core::clock::SystemClock;
use idgraph_core::{
    Account, AccountKey, AccountStatus, Entitlement, EntitlementKey, Grant, Record,
};
use idgraph_engine::{Cancel, SyncEngine};
use idgraph_store::{SqliteStore, Store, SyncMode};
use serde_json::{json, Map};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use time::macros::datetime;
use time::OffsetDateTime;

const PAGE: u64 = 100;
const ROLES: u64 = 12;
const APPS: [&str; 5] = [
    "freshservice",
    "freshdesk",
    "freshsales",
    "freshbooks",
    "helpscout",
];

/// `people` accounts of one app, generated page by page (nothing held in memory), each with
/// one role grant; plus a roles resource.
#[derive(Debug)]
struct Synthetic {
    app: &'static str,
    tenant: String,
    people: u64,
}

impl Synthetic {
    fn account(&self, i: u64) -> [Record; 2] {
        let key = AccountKey {
            app: self.app.into(),
            tenant: self.tenant.clone(),
            namespace: "user".into(),
            native_id: (1_000_000 + i).to_string(),
        };
        let email = format!("person{i}@acme.example");
        let active = i % 17 != 0;
        let created = datetime!(2020-01-01 00:00 UTC) + time::Duration::hours(i as i64 % 30_000);
        let updated = created + time::Duration::days(30);
        let role = i % ROLES;
        let mut attributes = Map::new();
        attributes.insert("job_title".into(), json!(format!("Job title {}", i % 300)));
        attributes.insert("department".into(), json!(format!("Department {}", i % 40)));
        attributes.insert("occasional".into(), json!(i % 9 == 0));
        let raw = json!({
            "id": 1_000_000 + i,
            "first_name": format!("First{i}"),
            "last_name": format!("Last{}", i * 7919 % 100_000),
            "email": email,
            "active": active,
            "occasional": i % 9 == 0,
            "job_title": format!("Job title {}", i % 300),
            "department_ids": [i % 40],
            "role_ids": [role],
            "location_id": i % 25,
            "time_zone": "Eastern Time (US & Canada)",
            "language": "en",
            "created_at": created.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "updated_at": updated.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "last_login_at": null,
        });
        [
            Record::Account(Account {
                key: key.clone(),
                emails: vec![email],
                display_name: Some(format!("First{i} Last{}", i * 7919 % 100_000)),
                status: if active {
                    AccountStatus::Active
                } else {
                    AccountStatus::Inactive
                },
                seat_consuming: i % 9 != 0,
                attributes,
                created_at: Some(created),
                updated_at: Some(updated),
                last_login_at: None,
                raw,
            }),
            Record::Grant(Grant {
                account: key,
                entitlement: self.role_key(role),
                attributes: Map::new(),
            }),
        ]
    }

    fn role_key(&self, role: u64) -> EntitlementKey {
        EntitlementKey {
            app: self.app.into(),
            tenant: self.tenant.clone(),
            kind: "role".into(),
            native_id: role.to_string(),
        }
    }
}

#[async_trait]
impl Connector for Synthetic {
    fn app(&self) -> &'static str {
        self.app
    }

    fn tenant(&self) -> &str {
        &self.tenant
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            read_accounts: true,
            read_entitlements: true,
            ..Default::default()
        }
    }

    fn resources(&self) -> Vec<ResourceSpec> {
        vec![
            ResourceSpec::entitlements("roles", &["role"]),
            ResourceSpec::accounts("users", &["user"], false).with_grants(GrantScope::WithAccounts),
        ]
    }

    async fn fetch(
        &self,
        resource: &str,
        cursor: Option<&Cursor>,
        _since: Option<OffsetDateTime>,
    ) -> Result<Page, ConnectorError> {
        if resource == "roles" {
            let records = (0..ROLES)
                .map(|r| {
                    Record::Entitlement(Entitlement {
                        key: self.role_key(r),
                        name: format!("Role {r}"),
                        privileged: r == 0,
                        raw: json!({"id": r, "name": format!("Role {r}")}),
                    })
                })
                .collect();
            return Ok(Page {
                records,
                next: None,
                requests: 1,
            });
        }
        let from = cursor.and_then(|c| c["offset"].as_u64()).unwrap_or(0);
        let to = (from + PAGE).min(self.people);
        let records = (from..to).flat_map(|i| self.account(i)).collect();
        Ok(Page {
            records,
            next: (to < self.people).then(|| json!({ "offset": to })),
            requests: 1,
        })
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn db_bytes(path: &Path) -> u64 {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            std::fs::metadata(p).ok().map(|m| m.len())
        })
        .sum()
}

async fn pass(
    engine: &SyncEngine,
    connectors: &[Arc<dyn Connector>],
    label: &str,
    accounts: u64,
    path: &Path,
) {
    let started = Instant::now();
    let outcomes = engine
        .sync_all(connectors.to_vec(), SyncMode::Full, &Cancel::new())
        .await;
    let secs = started.elapsed().as_secs_f64();
    let mut events = 0;
    for o in &outcomes {
        match &o.result {
            Ok(r) if r.succeeded() => events += r.run.events,
            Ok(r) => eprintln!("{}: failed: {:?}", o.app, r.errors),
            Err(e) => eprintln!("{}: {}", o.app, idgraph_engine::error_chain(e)),
        }
    }
    println!(
        "{label}: {accounts} accounts in {secs:.1} s = {:.0} accounts/s; {events} events; \
         peak RSS {:.0} MiB; database {:.0} MiB",
        accounts as f64 / secs,
        peak_rss_kib() as f64 / 1024.0,
        db_bytes(path) as f64 / (1024.0 * 1024.0),
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let people: u64 = std::env::var("IDGRAPH_BENCH_PEOPLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let resync = std::env::var("IDGRAPH_BENCH_RESYNC").map_or(true, |v| v != "0");
    let tmp = tempfile::tempdir()?;
    let dir = std::env::var("IDGRAPH_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| tmp.path().to_path_buf());
    let path = dir.join("ingest-bench.db");
    let _ = std::fs::remove_file(&path);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await?);
        let engine = SyncEngine::new(store.clone(), Arc::new(SystemClock));
        let connectors: Vec<Arc<dyn Connector>> = APPS
            .iter()
            .map(|app| {
                Arc::new(Synthetic {
                    app,
                    tenant: format!("acme.{app}.example"),
                    people,
                }) as Arc<dyn Connector>
            })
            .collect();
        let accounts = people * APPS.len() as u64;
        println!(
            "ingest: {} apps x {people} accounts, pages of {PAGE}, one role grant each, into {}",
            APPS.len(),
            path.display()
        );
        pass(&engine, &connectors, "first sync", accounts, &path).await;
        if resync {
            pass(&engine, &connectors, "unchanged re-sync", accounts, &path).await;
        }
        let counts = store.counts().await?;
        println!(
            "rows: {} accounts, {} entitlements, {} grants, {} events, {} runs",
            counts.accounts, counts.entitlements, counts.grants, counts.events, counts.sync_runs
        );
        store.close().await;
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    Ok(())
}
