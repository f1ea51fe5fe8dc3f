//! The Freshsales connector (read side), after `shared/api-guides/freshsales.txt`.
//!
//! Freshsales keeps two user id namespaces that are not interchangeable: CRM users of the
//! REST API (`/crm/sales/api`, API key) and Freshworks users of SCIM (`/scim/v2`, its own
//! bearer token, Enterprise plan with SAML SSO). `selector/owners` lists only active,
//! owner-eligible users; SCIM `GET /Users` is the only complete roster, deactivated users
//! included. So:
//!
//! | resource | calls | records |
//! |---|---|---|
//! | `roles` | `selector/roles` | `role` entitlements (CRM role ids) |
//! | `users` | every page of `selector/owners`, then every page of SCIM `/Users` | accounts `user` (CRM id) and `scim_user` (SCIM id), joined by email (`scim_id` / `crm_id` attributes), each with its role grant |
//! | `scim_groups` | SCIM `/Groups` | `group` entitlements (Freshsales maps SCIM groups to roles) with membership grants |
//!
//! Without a SCIM token only `roles` and `users` (REST owners) are read, and the connector
//! says `read_deactivated: false`: deactivated users simply vanish from the REST listing.
//!
//! The join needs both listings, so `users` reads the owners first (their pages hold no
//! records), then emits each SCIM page with `crm_id` set, then the owners with `scim_id` set.
//! The owners wait in memory between pages, under a run id carried in the cursor; a cursor
//! from another process (whose memory is gone) restarts `users` from its first page, so
//! records may come again but never go missing.
//!
//! No endpoint has an `updated_since` filter, so every read is a full listing (the sync engine
//! diffs it). REST and SCIM share one budget of 1,000 requests per hour per account.

pub mod client;
pub mod config;
pub mod map;
pub mod model;
#[cfg(test)]
mod tests;

pub use client::FreshsalesClient;
pub use config::{FreshsalesConfig, FreshsalesHost, FreshsalesPlan};

use crate::common::{decode_cursor, encode_cursor};
use crate::connector::{
    Capabilities, Connector, ConnectorError, Cursor, GrantScope, Page, ResourceSpec,
};
use crate::context::ConnectorContext;
use crate::scim::ScimMapping;
use async_trait::async_trait;
use idgraph_core::{Account, Record};
use idgraph_http::PageCursor;
use map::{email_key, NS_SCIM_USER, NS_USER};
use model::{Owner, WithRaw};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use time::OffsetDateTime;

const APP: &str = "freshsales";
/// Roles from `selector/roles`.
pub const ROLES: &str = "roles";
/// REST owners and SCIM users, joined.
pub const USERS: &str = "users";
/// SCIM groups and their members.
pub const SCIM_GROUPS: &str = "scim_groups";
/// REST accounts emitted per page once both listings are in.
const FLUSH_PAGE: usize = 200;
/// Interrupted runs kept in memory at most (older ones are dropped: their cursor restarts).
const MAX_RUNS: usize = 4;

/// Where the `users` listing stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
enum UsersCursor {
    /// Paging `selector/owners`.
    Owners { run: u64, page: PageCursor },
    /// Paging SCIM `/Users` (the owners are in memory under `run`).
    Scim { run: u64, page: PageCursor },
    /// Emitting the owners from `offset` on.
    Flush { run: u64, offset: usize },
}

/// One `users` listing in progress: the owners read so far and the SCIM ids seen, by email.
#[derive(Debug, Default)]
struct Run {
    owners: Vec<WithRaw<Owner>>,
    crm_by_email: HashMap<String, String>,
    scim_by_email: HashMap<String, String>,
}

/// The Freshsales connector.
#[derive(Debug)]
pub struct FreshsalesConnector {
    client: FreshsalesClient,
    tenant: String,
    scim_map: ScimMapping,
    /// Role names by id, from the last `roles` listing.
    role_names: Mutex<Option<HashMap<String, String>>>,
    runs: Mutex<HashMap<u64, Run>>,
}

/// Run ids: unique within the process (one counter for every connector), and unlikely to
/// match a run id of another process (the counter starts at the first connector's clock
/// reading in nanoseconds), so a checkpoint from elsewhere never finds foreign owners.
static RUN_BASE: OnceLock<u64> = OnceLock::new();
static RUN_SEQ: AtomicU64 = AtomicU64::new(0);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave these maps half-updated in a way that
    // matters (a run restarts), so a poisoned lock is used as is.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl FreshsalesConnector {
    /// Checks `config` and builds the clients (no request is made).
    pub fn new(config: FreshsalesConfig, ctx: &ConnectorContext) -> Result<Self, ConnectorError> {
        let client = FreshsalesClient::new(&config, ctx)?;
        let tenant = client.endpoints().tenant.clone();
        RUN_BASE.get_or_init(|| ctx.clock.now().unix_timestamp_nanos() as u64);
        Ok(Self {
            scim_map: map::scim_mapping(&tenant),
            tenant,
            client,
            role_names: Mutex::new(None),
            runs: Mutex::new(HashMap::new()),
        })
    }

    pub fn client(&self) -> &FreshsalesClient {
        &self.client
    }

    fn has_scim(&self) -> bool {
        self.client.scim().is_some()
    }

    /// Checks the key and the host: `settings/profile`, the key owner's account.
    pub async fn check(&self) -> Result<Account, ConnectorError> {
        let me = self.client.profile().await?;
        Ok(map::owner_account(&self.tenant, &me, None, None))
    }

    async fn roles(&self) -> Result<Page, ConnectorError> {
        let (roles, requests) = self.client.roles(ROLES).await?;
        let names = roles
            .iter()
            .map(|r| (r.item.id.clone(), r.item.name.clone()))
            .collect();
        *lock(&self.role_names) = Some(names);
        Ok(Page {
            records: roles
                .iter()
                .map(|r| Record::Entitlement(map::role_entitlement(&self.tenant, r)))
                .collect(),
            next: None,
            requests,
        })
    }

    /// Role names, reading `selector/roles` if this process has not yet (a resumed sync).
    async fn role_names(&self) -> Result<(HashMap<String, String>, u64), ConnectorError> {
        if let Some(n) = lock(&self.role_names).clone() {
            return Ok((n, 0));
        }
        let page = self.roles().await?;
        let names = lock(&self.role_names).clone().unwrap_or_default();
        Ok((names, page.requests))
    }

    fn new_run(&self) -> u64 {
        let base = RUN_BASE.get().copied().unwrap_or_default();
        // Never 0, the id of a REST-only listing.
        let run = base
            .wrapping_add(RUN_SEQ.fetch_add(1, Ordering::Relaxed))
            .max(1);
        let mut runs = lock(&self.runs);
        while runs.len() >= MAX_RUNS {
            let Some(oldest) = runs.keys().min().copied() else {
                break;
            };
            runs.remove(&oldest);
        }
        runs.insert(run, Run::default());
        run
    }

    /// REST owners as accounts with their role grants.
    fn owner_records(
        &self,
        owners: &[WithRaw<Owner>],
        roles: &HashMap<String, String>,
        scim_by_email: Option<&HashMap<String, String>>,
    ) -> Vec<Record> {
        let mut accounts = Vec::with_capacity(owners.len());
        let mut grants = Vec::new();
        for o in owners {
            let role = o.item.role_id.as_ref().and_then(|r| roles.get(r));
            let scim_id = scim_by_email
                .and_then(|m| o.item.email.as_deref().and_then(|e| m.get(&email_key(e))));
            let acc = map::owner_account(
                &self.tenant,
                o,
                role.map(String::as_str),
                scim_id.map(String::as_str),
            );
            grants.extend(map::owner_role_grant(&self.tenant, &acc.key, &o.item));
            accounts.push(acc);
        }
        accounts
            .into_iter()
            .map(Record::Account)
            .chain(grants.into_iter().map(Record::Grant))
            .collect()
    }

    async fn users(&self, cursor: Option<&Cursor>) -> Result<Page, ConnectorError> {
        let at = decode_cursor::<UsersCursor>(APP, USERS, cursor)?;
        let known = |run: u64| lock(&self.runs).contains_key(&run);
        let at = match at {
            None => None,
            // Without SCIM nothing waits in memory: the owners cursor is all there is.
            Some(c @ UsersCursor::Owners { .. }) if !self.has_scim() => Some(c),
            Some(
                c @ (UsersCursor::Owners { run, .. }
                | UsersCursor::Scim { run, .. }
                | UsersCursor::Flush { run, .. }),
            ) if self.has_scim() && known(run) => Some(c),
            Some(stale) => {
                tracing::info!(app = APP, resource = USERS, cursor = ?stale, "the owners read before this cursor are not in memory (another process?): listing users again from the start");
                None
            }
        };
        match at {
            None => {
                let run = if self.has_scim() { self.new_run() } else { 0 };
                self.owners_step(run, PageCursor::First).await
            }
            Some(UsersCursor::Owners { run, page }) => self.owners_step(run, page).await,
            Some(UsersCursor::Scim { run, page }) => self.scim_step(run, page).await,
            Some(UsersCursor::Flush { run, offset }) => self.flush_step(run, offset).await,
        }
    }

    async fn owners_step(&self, run: u64, at: PageCursor) -> Result<Page, ConnectorError> {
        let page = self.client.owners_page(USERS, at).await?;
        let mut requests = page.attempts;
        if !self.has_scim() {
            let (roles, n) = self.role_names().await?;
            requests += n;
            return Ok(Page {
                records: self.owner_records(&page.items, &roles, None),
                next: page
                    .next
                    .map(|p| encode_cursor(&UsersCursor::Owners { run, page: p })),
                requests,
            });
        }
        {
            let mut runs = lock(&self.runs);
            let state = runs.entry(run).or_default();
            for o in &page.items {
                if let Some(e) = o.item.email.as_deref() {
                    state.crm_by_email.insert(email_key(e), o.item.id.clone());
                }
            }
            state.owners.extend(page.items);
        }
        let next = match page.next {
            Some(p) => UsersCursor::Owners { run, page: p },
            None => UsersCursor::Scim {
                run,
                page: PageCursor::First,
            },
        };
        Ok(Page {
            records: Vec::new(),
            next: Some(encode_cursor(&next)),
            requests,
        })
    }

    async fn scim_step(&self, run: u64, at: PageCursor) -> Result<Page, ConnectorError> {
        let Some(scim) = self.client.scim() else {
            return Err(ConnectorError::Cursor {
                app: APP,
                resource: USERS.into(),
                detail: "a SCIM phase cursor, but no SCIM token is configured".into(),
            });
        };
        let page = scim.users_page(USERS, at, None).await?;
        let mut accounts = Vec::with_capacity(page.items.len());
        let mut grants = Vec::new();
        {
            let mut runs = lock(&self.runs);
            let state = runs.entry(run).or_default();
            for u in &page.items {
                let mut acc = self
                    .scim_map
                    .account(u)
                    .map_err(|d| crate::common::decode_err(APP, USERS, d))?;
                let keys: Vec<String> = acc.emails.iter().map(|e| email_key(e)).collect();
                if let Some(crm) = keys.iter().find_map(|k| state.crm_by_email.get(k)) {
                    map::add_link(&mut acc, "crm_id", crm);
                }
                for k in keys {
                    state
                        .scim_by_email
                        .entry(k)
                        .or_insert_with(|| acc.key.native_id.clone());
                }
                grants.extend(self.scim_map.role_grants(&acc.key, u));
                accounts.push(acc);
            }
        }
        let next = match page.next {
            Some(p) => Some(UsersCursor::Scim { run, page: p }),
            None => Some(UsersCursor::Flush { run, offset: 0 }),
        };
        Ok(Page {
            records: accounts
                .into_iter()
                .map(Record::Account)
                .chain(grants.into_iter().map(Record::Grant))
                .collect(),
            next: next.map(|c| encode_cursor(&c)),
            requests: page.attempts,
        })
    }

    async fn flush_step(&self, run: u64, offset: usize) -> Result<Page, ConnectorError> {
        let (roles, requests) = self.role_names().await?;
        let (chunk, scim_by_email, total) = {
            let runs = lock(&self.runs);
            let state = runs.get(&run);
            let owners = state.map(|s| s.owners.as_slice()).unwrap_or_default();
            let end = (offset + FLUSH_PAGE).min(owners.len());
            (
                owners.get(offset..end).unwrap_or_default().to_vec(),
                state.map(|s| s.scim_by_email.clone()).unwrap_or_default(),
                owners.len(),
            )
        };
        let records = self.owner_records(&chunk, &roles, Some(&scim_by_email));
        let end = offset + chunk.len();
        let next = if end < total {
            Some(encode_cursor(&UsersCursor::Flush { run, offset: end }))
        } else {
            lock(&self.runs).remove(&run);
            None
        };
        Ok(Page {
            records,
            next,
            requests,
        })
    }

    async fn scim_groups(&self, cursor: Option<&Cursor>) -> Result<Page, ConnectorError> {
        let Some(scim) = self.client.scim() else {
            return Err(ConnectorError::UnknownResource {
                app: APP,
                resource: SCIM_GROUPS.into(),
            });
        };
        let at =
            decode_cursor::<PageCursor>(APP, SCIM_GROUPS, cursor)?.unwrap_or(PageCursor::First);
        let page = scim.groups_page(SCIM_GROUPS, at, None).await?;
        let mut records = Vec::new();
        let mut grants = Vec::new();
        for g in &page.items {
            let (ent, members) = self
                .scim_map
                .group(g)
                .map_err(|d| crate::common::decode_err(APP, SCIM_GROUPS, d))?;
            records.push(Record::Entitlement(ent));
            grants.extend(members.into_iter().map(Record::Grant));
        }
        records.extend(grants);
        Ok(Page {
            records,
            next: page.next.map(|c| encode_cursor(&c)),
            requests: page.attempts,
        })
    }
}

#[async_trait]
impl Connector for FreshsalesConnector {
    fn app(&self) -> &'static str {
        APP
    }

    fn tenant(&self) -> &str {
        &self.tenant
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            read_accounts: true,
            // Only SCIM shows deactivated users; the REST owner list leaves them out.
            read_deactivated: self.has_scim(),
            read_entitlements: true,
            incremental: false,
            scim: self.has_scim(),
            ..Capabilities::default()
        }
    }

    fn resources(&self) -> Vec<ResourceSpec> {
        let namespaces: &[&str] = if self.has_scim() {
            &[NS_USER, NS_SCIM_USER]
        } else {
            &[NS_USER]
        };
        let mut out = vec![
            ResourceSpec::entitlements(ROLES, &["role"]),
            ResourceSpec::accounts(USERS, namespaces, false).with_grants(GrantScope::WithAccounts),
        ];
        if self.has_scim() {
            out.push(
                ResourceSpec::entitlements(SCIM_GROUPS, &["group"])
                    .with_grants(GrantScope::Memberships),
            );
        }
        out
    }

    async fn fetch(
        &self,
        resource: &str,
        cursor: Option<&Cursor>,
        _since: Option<OffsetDateTime>,
    ) -> Result<Page, ConnectorError> {
        match resource {
            ROLES => self.roles().await,
            USERS => self.users(cursor).await,
            SCIM_GROUPS if self.has_scim() => self.scim_groups(cursor).await,
            other => Err(ConnectorError::UnknownResource {
                app: APP,
                resource: other.to_string(),
            }),
        }
    }
}
