//! The Freshdesk connector (read side), after `shared/api-guides/freshdesk.txt` and the
//! Freshdesk lines of its README.
//!
//! Resources, in dependency order: `roles`, `groups`, `agents` (the default list: active
//! agents), `agents_inactive` (`active=false`: deactivated → `inactive`, never confirmed →
//! `pending`), `contacts` and `contacts_deleted` (`deleted=true`). The two contact resources
//! are incremental (`_updated_since`, inclusive); the agent list has no such filter, so agents
//! are always listed in full (the sync engine diffs them). Roles and groups an agent holds come
//! from its `role_ids`/`group_ids`, never one GET per agent.
//!
//! A deactivated agent's contact record is retained (guide: DELETE) and shows in the contact
//! list under the same user id. It is the same person's record as the agent, which already
//! says the agent is deactivated, so the contact listing leaves out the ids of the
//! `active=false` agents rather than listing the person a second time as an active contact.
//! Those ids come from the `agents_inactive` pass of this connector when it ran to its end
//! from page 1 in the last [`AGENT_IDS_MAX_AGE`], else from a fresh read of that list (one
//! request per 100 inactive agents), so a contact page fetched alone or after a restart is
//! still right.
//!
//! Contract notes (design 002): tenant = the account host; namespaces `agent` and `contact`.
//! Cursors: [`idgraph_http::PageCursor`] for roles, groups and agents;
//! [`client::ContactsCursor`] for contacts (page and `_updated_since` window).

pub mod client;
pub mod config;
pub mod map;
pub mod model;
#[cfg(test)]
mod tests;

pub use config::{FreshdeskConfig, FreshdeskPlan};

use crate::common::{decode_cursor, decode_err, encode_cursor};
use crate::connector::{
    Capabilities, Connector, ConnectorError, Cursor, GrantScope, Page, ResourceSpec,
};
use crate::context::ConnectorContext;
use async_trait::async_trait;
use client::{Client, ContactsCursor};
use idgraph_core::{AccountStatus, Record};
use idgraph_http::{ApiClient, PageCursor, SharedClock};
use map::APP;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};
use time::OffsetDateTime;

/// How long the inactive agent ids of a finished `agents_inactive` pass stand in for a fresh
/// read when listing contacts.
pub const AGENT_IDS_MAX_AGE: time::Duration = time::Duration::minutes(15);

/// What a resource lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resource {
    Roles,
    Groups,
    Agents { active: bool },
    Contacts { deleted: bool },
}

impl Resource {
    const ALL: [(&'static str, Resource); 6] = [
        ("roles", Resource::Roles),
        ("groups", Resource::Groups),
        ("agents", Resource::Agents { active: true }),
        ("agents_inactive", Resource::Agents { active: false }),
        ("contacts", Resource::Contacts { deleted: false }),
        ("contacts_deleted", Resource::Contacts { deleted: true }),
    ];

    fn named(name: &str) -> Option<Resource> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, r)| *r)
    }

    fn spec(self, name: &str) -> ResourceSpec {
        match self {
            Resource::Roles => ResourceSpec::entitlements(name, &["role"]),
            Resource::Groups => ResourceSpec::entitlements(name, &["group"]),
            Resource::Agents { .. } => ResourceSpec::accounts(name, &["agent"], false)
                .with_grants(GrantScope::WithAccounts),
            Resource::Contacts { .. } => ResourceSpec::accounts(name, &["contact"], true),
        }
    }
}

/// The ids of the `active=false` agents, as the last complete pass saw them.
#[derive(Debug, Default)]
struct InactiveAgents {
    /// Ids of a pass that started at page 1 and has not finished.
    building: Option<HashSet<u64>>,
    /// The last complete pass and when it finished.
    done: Option<(OffsetDateTime, Arc<HashSet<u64>>)>,
}

/// Reads one Freshdesk account.
#[derive(Debug)]
pub struct FreshdeskConnector {
    tenant: String,
    client: Client,
    clock: SharedClock,
    inactive_agents: Mutex<InactiveAgents>,
}

impl FreshdeskConnector {
    pub fn new(config: FreshdeskConfig, ctx: &ConnectorContext) -> Result<Self, ConnectorError> {
        let client = Client::new(&config, ctx)?;
        Ok(Self {
            tenant: config.host()?,
            client,
            clock: ctx.clock.clone(),
            inactive_agents: Mutex::default(),
        })
    }

    /// The API client (request metrics, the account's budget).
    pub fn api(&self) -> &ApiClient {
        self.client.api()
    }

    fn inactive(&self) -> MutexGuard<'_, InactiveAgents> {
        // A panic while holding it leaves plain data behind: still usable.
        self.inactive_agents
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn note_inactive_page(&self, first: bool, ids: &[u64], last: bool) {
        let mut s = self.inactive();
        if first {
            s.building = Some(HashSet::new());
        }
        if let Some(b) = s.building.as_mut() {
            b.extend(ids.iter().copied());
        }
        if last {
            if let Some(b) = s.building.take() {
                s.done = Some((self.clock.now(), Arc::new(b)));
            }
        }
    }

    /// The inactive agent ids, and the requests it took to learn them (0 when known).
    async fn inactive_agent_ids(
        &self,
        resource: &str,
    ) -> Result<(Arc<HashSet<u64>>, u64), ConnectorError> {
        let now = self.clock.now();
        let known = self.inactive().done.clone();
        if let Some((at, ids)) = known {
            if now >= at && now - at <= AGENT_IDS_MAX_AGE {
                return Ok((ids, 0));
            }
        }
        let (ids, requests) = self.client.inactive_agent_ids(resource).await?;
        let ids = Arc::new(ids);
        self.inactive().done = Some((self.clock.now(), ids.clone()));
        Ok((ids, requests))
    }

    async fn fetch_simple(
        &self,
        resource: &str,
        res: Resource,
        cursor: Option<&Cursor>,
    ) -> Result<Page, ConnectorError> {
        let at = match decode_cursor::<PageCursor>(APP, resource, cursor)? {
            None => PageCursor::First,
            Some(c @ (PageCursor::First | PageCursor::Page(1..))) => c,
            Some(other) => {
                return Err(ConnectorError::Cursor {
                    app: APP,
                    resource: resource.to_string(),
                    detail: format!("{other:?} is not a page of a Freshdesk list"),
                })
            }
        };
        let first = at == PageCursor::First || at == PageCursor::Page(1);
        let (path, query) = match res {
            Resource::Roles => (client::ROLES, vec![]),
            Resource::Groups => (client::GROUPS, vec![]),
            Resource::Agents { active: true } => (client::AGENTS, vec![]),
            Resource::Agents { active: false } => {
                (client::AGENTS, vec![("active", "false".to_string())])
            }
            // Listed by `fetch_contacts`.
            Resource::Contacts { deleted: false } => (client::CONTACTS, vec![]),
            Resource::Contacts { deleted: true } => {
                (client::CONTACTS, vec![("deleted", "true".to_string())])
            }
        };
        let page = self.client.page(resource, path, &query, at).await?;
        let tenant = self.tenant.as_str();
        if res == (Resource::Agents { active: false }) {
            let ids: Vec<u64> = page
                .items
                .iter()
                .filter_map(|v| map::id_and_created(v).0)
                .collect();
            self.note_inactive_page(first, &ids, page.next.is_none());
        }
        let mut records: Vec<Record> = Vec::with_capacity(page.items.len());
        for item in page.items {
            let mapped = match res {
                Resource::Roles => {
                    map::entitlement(tenant, "role", item).map(|e| vec![Record::Entitlement(e)])
                }
                Resource::Groups => {
                    map::entitlement(tenant, "group", item).map(|e| vec![Record::Entitlement(e)])
                }
                Resource::Agents { active } => map::agent(tenant, item, active).map(|recs| {
                    // The guide says `active=false` "includes" deactivated agents: should a
                    // server list active ones there too, the default list has them already.
                    let listed_elsewhere = !active
                        && recs.iter().any(|r| {
                            matches!(r, Record::Account(a) if a.status == AccountStatus::Active)
                        });
                    if listed_elsewhere {
                        Vec::new()
                    } else {
                        recs
                    }
                }),
                Resource::Contacts { deleted } => {
                    map::contact(tenant, item, deleted).map(|a| vec![Record::Account(a)])
                }
            };
            records.extend(mapped.map_err(|d| decode_err(APP, resource, d))?);
        }
        Ok(Page {
            records,
            next: page.next.map(|c| encode_cursor(&c)),
            requests: page.attempts,
        })
    }

    async fn fetch_contacts(
        &self,
        resource: &str,
        deleted: bool,
        cursor: Option<&Cursor>,
        since: Option<OffsetDateTime>,
    ) -> Result<Page, ConnectorError> {
        let mut at = decode_cursor::<ContactsCursor>(APP, resource, cursor)?
            .unwrap_or_else(ContactsCursor::start);
        if at.page == 0 || at.page > self.client.max_page() {
            return Err(ConnectorError::Cursor {
                app: APP,
                resource: resource.to_string(),
                detail: format!(
                    "page {} is outside 1..={} (max_page)",
                    at.page,
                    self.client.max_page()
                ),
            });
        }
        let (agent_ids, mut requests) = self.inactive_agent_ids(resource).await?;
        let query = at.query(deleted, since);
        let fetched = self.client.contacts_page(resource, &query, at.page).await?;
        let mut records = Vec::new();
        let (more, refused) = match fetched {
            None => {
                requests += 1;
                (false, true)
            }
            Some(page) => {
                requests += page.attempts;
                let more = page.next.is_some();
                for item in page.items {
                    let (id, created) = map::id_and_created(&item);
                    at.saw(id, created);
                    if id.is_some_and(|id| at.already_listed(id) || agent_ids.contains(&id)) {
                        continue;
                    }
                    let account = map::contact(&self.tenant, item, deleted)
                        .map_err(|d| decode_err(APP, resource, d))?;
                    records.push(Record::Account(account));
                }
                (more, false)
            }
        };
        let next = at
            .next(more, refused, self.client.max_page(), since)
            .map_err(|d| decode_err(APP, resource, d))?;
        Ok(Page {
            records,
            next: next.map(|c| encode_cursor(&c)),
            requests,
        })
    }
}

#[async_trait]
impl Connector for FreshdeskConnector {
    fn app(&self) -> &'static str {
        APP
    }

    fn tenant(&self) -> &str {
        &self.tenant
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            read_accounts: true,
            read_deactivated: true,
            read_entitlements: true,
            incremental: true,
            ..Capabilities::default()
        }
    }

    fn resources(&self) -> Vec<ResourceSpec> {
        Resource::ALL.iter().map(|(n, r)| r.spec(n)).collect()
    }

    async fn fetch(
        &self,
        resource: &str,
        cursor: Option<&Cursor>,
        since: Option<OffsetDateTime>,
    ) -> Result<Page, ConnectorError> {
        match Resource::named(resource) {
            None => Err(ConnectorError::UnknownResource {
                app: APP,
                resource: resource.to_string(),
            }),
            Some(Resource::Contacts { deleted }) => {
                self.fetch_contacts(resource, deleted, cursor, since).await
            }
            Some(res) => self.fetch_simple(resource, res, cursor).await,
        }
    }
}
