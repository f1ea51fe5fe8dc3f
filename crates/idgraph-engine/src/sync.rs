//! The sync loop: for each app, open (or resume) a run, then for each resource fetch a page,
//! commit it with its cursor in one store transaction, and go on from that cursor; at the end,
//! tombstone what a complete listing no longer shows and close the run.
//!
//! Resuming: the run of an app that was killed is still unfinished in the store; the next
//! sync picks it up with the same id, skips the resources it finished and continues each
//! started one from its checkpointed cursor with the `since` it started with. Since a page and
//! its cursor commit together, a kill anywhere loses at most the page in flight, which is
//! fetched again: no duplicate, no lost record.
//!
//! Incremental: a resource that honours `since` lists from its watermark (the start of the
//! last run in which it completed) minus an overlap; the others, and every resource of a full
//! sync, list everything. Only complete listings tombstone.

use crate::error::{error_chain, SyncError};
use crate::observer::{NoProgress, Progress, ProgressEvent, SyncObserver};
use idgraph_connectors::{Connector, ConnectorError, Cursor, GrantScope, Page, ResourceSpec};
use idgraph_core::{Clock, Record};
use idgraph_store::{
    Checkpoint, GrantPolicy, PageCommit, ResourceStatus, RunFinish, RunId, RunStatus, Store,
    SyncMode, SyncRun,
};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use time::OffsetDateTime;
use tokio::sync::Notify;

/// Tuning of the sync loop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncOptions {
    /// Subtracted from a watermark before it is passed as `since`: `updated_since` is
    /// inclusive and the vendor's clock is not ours (default 5 minutes).
    pub overlap: time::Duration,
    /// Extra attempts of a page whose error is retriable, after the HTTP client's own retries
    /// (default 2; made at once: the HTTP layer already waited its backoff).
    pub page_retries: u32,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            overlap: time::Duration::minutes(5),
            page_retries: 2,
        }
    }
}

/// Asks running syncs to stop between pages; their runs stay resumable (`interrupted`).
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<CancelState>);

#[derive(Debug, Default)]
struct CancelState {
    flag: AtomicBool,
    notify: Notify,
}

impl Cancel {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.flag.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.flag.load(Ordering::SeqCst)
    }

    /// Completes once [`Cancel::cancel`] has been called.
    pub async fn cancelled(&self) {
        loop {
            let notified = self.0.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

/// How one resource went in a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResourceOutcome {
    /// Listed to the end in this call.
    Done,
    /// Already completed earlier in this (resumed) run.
    Skipped,
    /// Failed; the error is in [`RunReport::errors`].
    Failed,
}

/// One resource of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceReport {
    pub name: String,
    pub outcome: ResourceOutcome,
    /// Listed without `since`.
    pub full: bool,
    pub since: Option<OffsetDateTime>,
    /// Totals in the run (pages committed before a resume included).
    pub pages: u64,
    pub records: u64,
    pub requests: u64,
    /// Events its pages produced in this call.
    pub events: u64,
}

/// How an app's sync went.
#[derive(Debug)]
pub struct RunReport {
    /// The run as finished (status `succeeded` or `failed`).
    pub run: SyncRun,
    pub resumed: bool,
    /// An unfinished incremental run set aside for this full one.
    pub abandoned: Option<RunId>,
    pub resources: Vec<ResourceReport>,
    /// Accounts and entitlements tombstoned at the end of the run.
    pub accounts_missing: u64,
    pub entitlements_missing: u64,
    /// Why resources failed (the run's `error` column holds the same, as text).
    pub errors: Vec<SyncError>,
}

impl RunReport {
    pub fn succeeded(&self) -> bool {
        self.run.status == RunStatus::Succeeded
    }
}

/// One app's result in [`SyncEngine::sync_all`].
#[derive(Debug)]
pub struct AppOutcome {
    pub app: String,
    pub tenant: String,
    pub result: Result<RunReport, SyncError>,
}

/// Syncs connectors into a store.
#[derive(Clone)]
pub struct SyncEngine {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    observer: Arc<dyn SyncObserver>,
    options: SyncOptions,
}

impl std::fmt::Debug for SyncEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncEngine")
            .field("store", &self.store.location())
            .field("clock", &self.clock)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Where the loop stands in one app's run.
struct RunCtx<'a> {
    engine: &'a SyncEngine,
    connector: &'a dyn Connector,
    app: String,
    tenant: String,
    run: SyncRun,
    cancel: &'a Cancel,
}

impl RunCtx<'_> {
    fn emit(&self, event: ProgressEvent) {
        self.engine.observer.on_progress(&Progress {
            app: self.app.clone(),
            tenant: self.tenant.clone(),
            run_id: self.run.id,
            event,
        });
    }

    fn store_err(&self, source: idgraph_store::StoreError) -> SyncError {
        SyncError::Store {
            app: self.app.clone(),
            tenant: self.tenant.clone(),
            source,
        }
    }

    fn contract(&self, resource: &str, detail: String) -> SyncError {
        SyncError::Contract {
            app: self.app.clone(),
            tenant: self.tenant.clone(),
            resource: resource.to_string(),
            detail,
        }
    }

    fn now(&self) -> OffsetDateTime {
        self.engine.clock.now()
    }

    async fn interrupted(&self) -> SyncError {
        // Best effort: a run left `running` is resumed just the same.
        if let Err(e) = self.engine.store.interrupt_run(self.run.id).await {
            tracing::warn!(app = %self.app, run = self.run.id, error = %error_chain(&e), "could not mark the run interrupted");
        }
        self.emit(ProgressEvent::RunInterrupted);
        SyncError::Interrupted {
            app: self.app.clone(),
            tenant: self.tenant.clone(),
            run_id: self.run.id,
        }
    }

    /// One page, retried at once while the error is retriable; `None` when cancelled.
    async fn fetch(
        &self,
        resource: &str,
        cursor: Option<&Cursor>,
        since: Option<OffsetDateTime>,
    ) -> Option<Result<Page, ConnectorError>> {
        let mut attempt = 0;
        loop {
            let result = tokio::select! {
                biased;
                _ = self.cancel.cancelled() => return None,
                r = self.connector.fetch(resource, cursor, since) => r,
            };
            match result {
                Err(e) if e.is_retriable() && attempt < self.engine.options.page_retries => {
                    attempt += 1;
                    self.emit(ProgressEvent::PageRetried {
                        resource: resource.to_string(),
                        attempt,
                        error: error_chain(&e),
                    });
                }
                other => return Some(other),
            }
        }
    }

    /// Checks what a page holds against the contract.
    fn check_page(
        &self,
        resource: &str,
        cursor: Option<&Cursor>,
        page: &Page,
    ) -> Result<(), SyncError> {
        for r in &page.records {
            let app = match r {
                Record::Account(a) => &a.key.app,
                Record::Entitlement(e) => &e.key.app,
                Record::Grant(g) => &g.account.app,
            };
            if *app != self.app {
                return Err(self.contract(resource, format!("returned a record of app `{app}`")));
            }
            if let Record::Account(a) = r {
                if a.status == idgraph_core::AccountStatus::Missing {
                    return Err(self.contract(
                        resource,
                        format!(
                            "returned account {} {} as `missing` (only the engine sets it)",
                            a.key.namespace, a.key.native_id
                        ),
                    ));
                }
            }
        }
        if page.next.is_some() && page.next.as_ref() == cursor {
            return Err(self.contract(
                resource,
                "returned the same cursor it was given: the listing would never end".into(),
            ));
        }
        Ok(())
    }

    /// Lists one resource to its end (or failure) from `cp`; returns its report and, on
    /// failure, the error.
    async fn resource(
        &self,
        spec: &ResourceSpec,
        policy: GrantPolicy,
        cp: Checkpoint,
    ) -> Result<(ResourceReport, Option<SyncError>), SyncError> {
        let store = &self.engine.store;
        let name = spec.name.as_str();
        let mut report = ResourceReport {
            name: spec.name.clone(),
            outcome: ResourceOutcome::Done,
            full: cp.is_full(),
            since: cp.since,
            pages: cp.pages,
            records: cp.records,
            requests: cp.requests,
            events: 0,
        };
        self.emit(ProgressEvent::ResourceStarted {
            resource: spec.name.clone(),
            since: cp.since,
            pages_before: cp.pages,
        });
        let mut cursor = cp.cursor;
        loop {
            let page = match self.fetch(name, cursor.as_ref(), cp.since).await {
                None => return Err(self.interrupted().await),
                Some(Ok(page)) => page,
                Some(Err(source)) => {
                    let err = SyncError::Resource {
                        app: self.app.clone(),
                        tenant: self.tenant.clone(),
                        resource: spec.name.clone(),
                        pages: report.pages,
                        source,
                    };
                    return self.failed(report, err).await;
                }
            };
            if let Err(err) = self.check_page(name, cursor.as_ref(), &page) {
                return self.failed(report, err).await;
            }
            let records = page.records.len() as u64;
            let next = page.next;
            let out = store
                .commit_page(PageCommit {
                    run_id: self.run.id,
                    resource: spec.name.clone(),
                    grants: policy.clone(),
                    records: page.records,
                    next: next.clone(),
                    requests: page.requests,
                    at: self.now(),
                })
                .await
                .map_err(|e| self.store_err(e))?;
            report.pages = out.pages;
            report.records = out.records;
            report.requests = out.requests;
            report.events += out.events;
            let done = next.is_none();
            self.emit(ProgressEvent::PageCommitted {
                resource: spec.name.clone(),
                records,
                requests: page.requests,
                events: out.events,
                next: next.clone(),
                pages_total: out.pages,
                records_total: out.records,
                requests_total: out.requests,
            });
            if done {
                self.emit(ProgressEvent::ResourceDone {
                    resource: spec.name.clone(),
                    pages: out.pages,
                    records: out.records,
                    requests: out.requests,
                });
                return Ok((report, None));
            }
            cursor = next;
        }
    }

    async fn failed(
        &self,
        mut report: ResourceReport,
        err: SyncError,
    ) -> Result<(ResourceReport, Option<SyncError>), SyncError> {
        let text = error_chain(&err);
        tracing::warn!(app = %self.app, resource = %report.name, error = %text, "resource failed");
        self.engine
            .store
            .fail_resource(self.run.id, &report.name, &text, self.now())
            .await
            .map_err(|e| self.store_err(e))?;
        self.emit(ProgressEvent::ResourceFailed {
            resource: report.name.clone(),
            error: text,
        });
        report.outcome = ResourceOutcome::Failed;
        Ok((report, Some(err)))
    }
}

/// Namespaces (or entitlement kinds) every listing resource of which completed in full.
fn complete<'a>(
    specs: &'a [ResourceSpec],
    full: &HashSet<&str>,
    listed: impl Fn(&'a ResourceSpec) -> &'a [String],
) -> Vec<String> {
    let all: BTreeSet<&String> = specs.iter().flat_map(|s| listed(s).iter()).collect();
    all.into_iter()
        .filter(|n| {
            specs
                .iter()
                .filter(|s| listed(s).contains(n))
                .all(|s| full.contains(s.name.as_str()))
        })
        .cloned()
        .collect()
}

impl SyncEngine {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            observer: Arc::new(NoProgress),
            options: SyncOptions::default(),
        }
    }

    pub fn with_observer(mut self, observer: Arc<dyn SyncObserver>) -> Self {
        self.observer = observer;
        self
    }

    pub fn with_options(mut self, options: SyncOptions) -> Self {
        self.options = options;
        self
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Syncs one connector (see [`SyncEngine::sync_with_cancel`]).
    pub async fn sync(
        &self,
        connector: &dyn Connector,
        mode: SyncMode,
    ) -> Result<RunReport, SyncError> {
        self.sync_with_cancel(connector, mode, &Cancel::new()).await
    }

    /// Syncs one connector: opens or resumes its run, lists every resource page by page and
    /// finishes the run. A resource that fails is reported in [`RunReport::errors`] (the run
    /// ends `failed`, the other resources still run, committed pages stay); `Err` means the
    /// run could not be carried on (store failure, cancellation) and stays resumable.
    pub async fn sync_with_cancel(
        &self,
        connector: &dyn Connector,
        mode: SyncMode,
        cancel: &Cancel,
    ) -> Result<RunReport, SyncError> {
        let app = connector.app().to_string();
        let tenant = connector.tenant().to_string();
        let specs = connector.resources();
        let store_err = |source| SyncError::Store {
            app: app.clone(),
            tenant: tenant.clone(),
            source,
        };
        let opened = self
            .store
            .open_run(&app, &tenant, mode, self.clock.now())
            .await
            .map_err(store_err)?;
        let checkpoints: HashMap<String, Checkpoint> = self
            .store
            .checkpoints(Some(&app), Some(&tenant))
            .await
            .map_err(store_err)?
            .into_iter()
            .map(|c| (c.resource.clone(), c))
            .collect();
        let ctx = RunCtx {
            engine: self,
            connector,
            app: app.clone(),
            tenant: tenant.clone(),
            run: opened.run.clone(),
            cancel,
        };
        ctx.emit(ProgressEvent::RunStarted {
            mode: opened.run.mode,
            resumed: opened.resumed,
            resources: specs.iter().map(|s| s.name.clone()).collect(),
        });
        let with_accounts: Vec<String> = specs
            .iter()
            .filter(|s| s.grants == GrantScope::WithAccounts)
            .map(|s| s.name.clone())
            .collect();

        let mut reports = Vec::new();
        let mut errors = Vec::new();
        let mut full_done: HashSet<&str> = HashSet::new();
        for spec in &specs {
            if cancel.is_cancelled() {
                return Err(ctx.interrupted().await);
            }
            let stored = checkpoints
                .get(&spec.name)
                .filter(|c| c.run_id == opened.run.id);
            let cp = match stored {
                Some(cp) if cp.status == ResourceStatus::Done => {
                    if cp.is_full() {
                        full_done.insert(spec.name.as_str());
                    }
                    ctx.emit(ProgressEvent::ResourceSkipped {
                        resource: spec.name.clone(),
                    });
                    reports.push(ResourceReport {
                        name: spec.name.clone(),
                        outcome: ResourceOutcome::Skipped,
                        full: cp.is_full(),
                        since: cp.since,
                        pages: cp.pages,
                        records: cp.records,
                        requests: cp.requests,
                        events: 0,
                    });
                    continue;
                }
                // Started in this run (perhaps failed before the process died): go on from
                // its cursor with the `since` it started with.
                Some(cp) => cp.clone(),
                None => {
                    let since = match opened.run.mode {
                        SyncMode::Incremental if spec.incremental => checkpoints
                            .get(&spec.name)
                            .and_then(|c| c.watermark)
                            .map(|w| w - self.options.overlap),
                        _ => None,
                    };
                    self.store
                        .start_resource(opened.run.id, &spec.name, since, self.clock.now())
                        .await
                        .map_err(store_err)?
                }
            };
            let policy = match spec.grants {
                GrantScope::None => GrantPolicy::Additive,
                GrantScope::WithAccounts => GrantPolicy::WithAccounts {
                    resources: with_accounts.clone(),
                },
                GrantScope::Memberships => GrantPolicy::Memberships,
            };
            let (report, error) = ctx.resource(spec, policy, cp).await?;
            if report.outcome == ResourceOutcome::Done && report.full {
                full_done.insert(spec.name.as_str());
            }
            reports.push(report);
            errors.extend(error);
        }

        let complete_namespaces = complete(&specs, &full_done, |s| &s.namespaces);
        let complete_kinds = complete(&specs, &full_done, |s| &s.entitlement_kinds);
        let (status, error) = if errors.is_empty() {
            (RunStatus::Succeeded, None)
        } else {
            let text: Vec<String> = errors.iter().map(|e| error_chain(e)).collect();
            (RunStatus::Failed, Some(text.join("; ")))
        };
        let fin = self
            .store
            .finish_run(RunFinish {
                run_id: opened.run.id,
                status,
                error,
                complete_namespaces,
                complete_kinds,
                at: self.clock.now(),
            })
            .await
            .map_err(store_err)?;
        ctx.emit(ProgressEvent::RunFinished {
            run: fin.run.clone(),
            accounts_missing: fin.accounts_missing,
            entitlements_missing: fin.entitlements_missing,
        });
        Ok(RunReport {
            run: fin.run,
            resumed: opened.resumed,
            abandoned: opened.abandoned,
            resources: reports,
            accounts_missing: fin.accounts_missing,
            entitlements_missing: fin.entitlements_missing,
            errors,
        })
    }

    /// Syncs several connectors at once, one task each: every app is paced by its own
    /// connector's rate budget, none waits for another (the store serialises their commits).
    /// Results come back in the order of `connectors`.
    pub async fn sync_all(
        &self,
        connectors: Vec<Arc<dyn Connector>>,
        mode: SyncMode,
        cancel: &Cancel,
    ) -> Vec<AppOutcome> {
        let mut tasks = tokio::task::JoinSet::new();
        let mut names = Vec::with_capacity(connectors.len());
        let mut ids = HashMap::new();
        for (i, connector) in connectors.into_iter().enumerate() {
            names.push((connector.app().to_string(), connector.tenant().to_string()));
            let engine = self.clone();
            let cancel = cancel.clone();
            let handle = tasks.spawn(async move {
                engine
                    .sync_with_cancel(connector.as_ref(), mode, &cancel)
                    .await
            });
            ids.insert(handle.id(), i);
        }
        let mut results: Vec<Option<Result<RunReport, SyncError>>> =
            (0..names.len()).map(|_| None).collect();
        while let Some(joined) = tasks.join_next_with_id().await {
            let (id, result) = match joined {
                Ok((id, result)) => (id, result),
                Err(source) => {
                    let id = source.id();
                    let Some(&i) = ids.get(&id) else { continue };
                    let (app, tenant) = names[i].clone();
                    (
                        id,
                        Err(SyncError::Task {
                            app,
                            tenant,
                            source,
                        }),
                    )
                }
            };
            if let Some(&i) = ids.get(&id) {
                results[i] = Some(result);
            }
        }
        names
            .into_iter()
            .zip(results)
            .filter_map(|((app, tenant), result)| {
                result.map(|result| AppOutcome {
                    app,
                    tenant,
                    result,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, ns: &[&str], kinds: &[&str]) -> ResourceSpec {
        let mut s = ResourceSpec::accounts(name, ns, false);
        s.entitlement_kinds = kinds.iter().map(|k| k.to_string()).collect();
        s
    }

    #[test]
    fn a_namespace_is_complete_when_all_its_listings_ran_in_full() {
        let specs = vec![
            spec("roles", &[], &["role"]),
            spec("agents", &["agent"], &[]),
            spec("agents_deactivated", &["agent"], &[]),
            spec("requesters", &["requester"], &[]),
        ];
        let full: HashSet<&str> = ["roles", "agents", "requesters"].into_iter().collect();
        assert_eq!(
            complete(&specs, &full, |s| &s.namespaces),
            vec!["requester".to_string()]
        );
        assert_eq!(
            complete(&specs, &full, |s| &s.entitlement_kinds),
            vec!["role".to_string()]
        );
        let full: HashSet<&str> = ["agents", "agents_deactivated"].into_iter().collect();
        assert_eq!(
            complete(&specs, &full, |s| &s.namespaces),
            vec!["agent".to_string()]
        );
    }

    #[tokio::test]
    async fn cancel_wakes_waiters_and_stays_cancelled() {
        let c = Cancel::new();
        let waiter = {
            let c = c.clone();
            tokio::spawn(async move { c.cancelled().await })
        };
        tokio::task::yield_now().await;
        assert!(!c.is_cancelled());
        c.cancel();
        waiter.await.unwrap();
        c.cancelled().await;
        assert!(c.is_cancelled());
    }
}
