//! An in-memory connector: resources of records served in pages behind an `{"offset": n}`
//! cursor, `since` honoured by incremental resources (accounts updated at or after it, with
//! their grants), and knobs for faults (malformed or retriable pages), a fetch that never
//! returns (a process killed mid-page), a gate that holds the first fetch until every app is
//! fetching (concurrency), and a log of each fetch.

use async_trait::async_trait;
use idgraph_connectors::{Capabilities, Connector, ConnectorError, Cursor, Page, ResourceSpec};
use idgraph_core::Record;
use serde_json::json;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;
use tokio::sync::{Barrier, Notify};

#[derive(Clone, Debug)]
pub struct FakeResource {
    pub spec: ResourceSpec,
    pub records: Vec<Record>,
    pub page_size: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// The vendor answered out of shape (not retriable).
    Malformed,
    /// HTTP 503 (retriable).
    Unavailable,
}

#[derive(Clone, Debug)]
pub struct Fault {
    pub resource: String,
    /// Which page (0-based) of the resource.
    pub page: usize,
    pub kind: FaultKind,
    /// How many fetches of that page fail.
    pub times: usize,
}

#[derive(Debug, Default)]
struct State {
    resources: Vec<FakeResource>,
    faults: Vec<Fault>,
    fetches: u64,
    hang_at: Option<u64>,
    gate: Option<Arc<Barrier>>,
    log: Vec<(String, Option<u64>, Option<OffsetDateTime>)>,
}

#[derive(Debug)]
pub struct FakeConnector {
    app: &'static str,
    tenant: String,
    state: Mutex<State>,
    /// Notified when the fetch chosen by [`FakeConnector::hang_at`] starts hanging.
    pub hung: Arc<Notify>,
}

impl FakeConnector {
    pub fn new(app: &'static str, tenant: &str, resources: Vec<FakeResource>) -> Self {
        Self {
            app,
            tenant: tenant.into(),
            state: Mutex::new(State {
                resources,
                ..Default::default()
            }),
            hung: Arc::new(Notify::new()),
        }
    }

    /// Replaces the data (the app changed between syncs).
    pub fn set_resources(&self, resources: Vec<FakeResource>) {
        self.state.lock().unwrap().resources = resources;
    }

    pub fn add_fault(&self, fault: Fault) {
        self.state.lock().unwrap().faults.push(fault);
    }

    /// The `n`-th fetch from now on (1-based) never returns.
    pub fn hang_at(&self, n: Option<u64>) {
        let mut s = self.state.lock().unwrap();
        s.hang_at = n.map(|n| s.fetches + n);
    }

    /// The first fetch waits until `gate` is passed by every party.
    pub fn gate(&self, gate: Arc<Barrier>) {
        self.state.lock().unwrap().gate = Some(gate);
    }

    pub fn fetches(&self) -> u64 {
        self.state.lock().unwrap().fetches
    }

    /// (resource, cursor offset, since) of every fetch so far.
    pub fn log(&self) -> Vec<(String, Option<u64>, Option<OffsetDateTime>)> {
        self.state.lock().unwrap().log.clone()
    }
}

fn listing(res: &FakeResource, since: Option<OffsetDateTime>) -> Vec<Record> {
    let Some(since) = since.filter(|_| res.spec.incremental) else {
        return res.records.clone();
    };
    let changed: HashSet<_> = res
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Account(a) if a.updated_at.is_some_and(|u| u >= since) => Some(a.key.clone()),
            _ => None,
        })
        .collect();
    res.records
        .iter()
        .filter(|r| match r {
            Record::Account(a) => changed.contains(&a.key),
            Record::Grant(g) => changed.contains(&g.account),
            Record::Entitlement(_) => true,
        })
        .cloned()
        .collect()
}

#[async_trait]
impl Connector for FakeConnector {
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
            incremental: true,
            ..Default::default()
        }
    }

    fn resources(&self) -> Vec<ResourceSpec> {
        let s = self.state.lock().unwrap();
        s.resources.iter().map(|r| r.spec.clone()).collect()
    }

    async fn fetch(
        &self,
        resource: &str,
        cursor: Option<&Cursor>,
        since: Option<OffsetDateTime>,
    ) -> Result<Page, ConnectorError> {
        let gate = self.state.lock().unwrap().gate.take();
        if let Some(gate) = gate {
            gate.wait().await;
        }
        let offset = match cursor {
            None => 0,
            Some(c) => c["offset"].as_u64().ok_or_else(|| ConnectorError::Cursor {
                app: self.app,
                resource: resource.into(),
                detail: format!("{c} has no offset"),
            })? as usize,
        };
        let hang = {
            let mut s = self.state.lock().unwrap();
            s.fetches += 1;
            s.log
                .push((resource.to_string(), cursor.map(|_| offset as u64), since));
            s.hang_at == Some(s.fetches)
        };
        if hang {
            self.hung.notify_one();
            std::future::pending::<()>().await;
        }
        let mut s = self.state.lock().unwrap();
        let res = s
            .resources
            .iter()
            .find(|r| r.spec.name == resource)
            .cloned()
            .ok_or_else(|| ConnectorError::UnknownResource {
                app: self.app,
                resource: resource.into(),
            })?;
        let page_no = offset / res.page_size;
        if let Some(f) = s
            .faults
            .iter_mut()
            .find(|f| f.resource == resource && f.page == page_no && f.times > 0)
        {
            f.times -= 1;
            return Err(match f.kind {
                FaultKind::Malformed => ConnectorError::Decode {
                    app: self.app,
                    resource: resource.into(),
                    detail: format!("page {page_no}: `agents` is not an array"),
                },
                FaultKind::Unavailable => ConnectorError::Http {
                    app: self.app,
                    resource: resource.into(),
                    source: idgraph_http::HttpError::Status {
                        method: http::Method::GET,
                        url: format!("https://fake.example/{resource}?page={page_no}"),
                        status: http::StatusCode::SERVICE_UNAVAILABLE,
                        body: "try later".into(),
                    },
                },
            });
        }
        let all = listing(&res, since);
        let end = (offset + res.page_size).min(all.len());
        let records = all
            .get(offset..end)
            .map(<[Record]>::to_vec)
            .unwrap_or_default();
        let next = (end < all.len()).then(|| json!({ "offset": end }));
        Ok(Page {
            records,
            next,
            requests: 1,
        })
    }
}
