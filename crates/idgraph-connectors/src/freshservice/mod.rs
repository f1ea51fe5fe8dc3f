//! The Freshservice connector (read side), after `shared/api-guides/freshservice.txt` and the
//! Freshservice lines of its README.
//!
//! Resources, in dependency order: `roles`, `groups` (agent groups), `departments`, then
//! `agents`, `agents_deactivated`, `requesters`, `requesters_deactivated`. The default agent
//! and requester lists show only active records, so each has a second pass with
//! `active=false` (the guide's first trap: without it deprovisioned users are invisible). The
//! four account passes honour `since` as `updated_since` (inclusive, on `updated_at`). Roles,
//! scopes and groups come from the agent list itself, never one GET per agent.
//!
//! Contract notes (design 002): tenant = the account host; agents and requesters share one id
//! space in separate namespaces; a person's agent and requester records are both listed with
//! their emails and left to correlation. Cursors are [`idgraph_http::PageCursor`]s.

pub mod client;
pub mod config;
pub mod map;
pub mod model;
#[cfg(test)]
mod tests;

pub use config::{FreshserviceConfig, FreshservicePlan};

use crate::common::{decode_cursor, decode_err, encode_cursor, format_since};
use crate::connector::{
    Capabilities, Connector, ConnectorError, Cursor, GrantScope, Page, ResourceSpec,
};
use crate::context::ConnectorContext;
use async_trait::async_trait;
use client::{Client, List};
use idgraph_core::Record;
use idgraph_http::{ApiClient, PageCursor};
use map::APP;
use time::OffsetDateTime;

/// What a resource lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resource {
    Roles,
    Groups,
    Departments,
    Agents { active: bool },
    Requesters { active: bool },
}

impl Resource {
    const ALL: [(&'static str, Resource); 7] = [
        ("roles", Resource::Roles),
        ("groups", Resource::Groups),
        ("departments", Resource::Departments),
        ("agents", Resource::Agents { active: true }),
        ("agents_deactivated", Resource::Agents { active: false }),
        ("requesters", Resource::Requesters { active: true }),
        (
            "requesters_deactivated",
            Resource::Requesters { active: false },
        ),
    ];

    fn named(name: &str) -> Option<Resource> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, r)| *r)
    }

    fn spec(self, name: &str) -> ResourceSpec {
        match self {
            Resource::Roles => ResourceSpec::entitlements(name, &["role"]),
            Resource::Groups => ResourceSpec::entitlements(name, &["group"]),
            Resource::Departments => ResourceSpec::entitlements(name, &["department"]),
            Resource::Agents { .. } => {
                ResourceSpec::accounts(name, &["agent"], true).with_grants(GrantScope::WithAccounts)
            }
            Resource::Requesters { .. } => ResourceSpec::accounts(name, &["requester"], true)
                .with_grants(GrantScope::WithAccounts),
        }
    }

    fn list(self) -> List {
        match self {
            Resource::Roles => client::ROLES,
            Resource::Groups => client::GROUPS,
            Resource::Departments => client::DEPARTMENTS,
            Resource::Agents { .. } => client::AGENTS,
            Resource::Requesters { .. } => client::REQUESTERS,
        }
    }
}

/// Reads one Freshservice account.
#[derive(Debug)]
pub struct FreshserviceConnector {
    tenant: String,
    client: Client,
}

impl FreshserviceConnector {
    pub fn new(config: FreshserviceConfig, ctx: &ConnectorContext) -> Result<Self, ConnectorError> {
        let client = Client::new(&config, ctx)?;
        Ok(Self {
            tenant: config.host()?,
            client,
        })
    }

    /// The API client (request metrics, the account's budget).
    pub fn api(&self) -> &ApiClient {
        self.client.api()
    }
}

#[async_trait]
impl Connector for FreshserviceConnector {
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
        let res = Resource::named(resource).ok_or_else(|| ConnectorError::UnknownResource {
            app: APP,
            resource: resource.to_string(),
        })?;
        let at = match decode_cursor::<PageCursor>(APP, resource, cursor)? {
            None => PageCursor::First,
            Some(c @ (PageCursor::First | PageCursor::Page(1..))) => c,
            Some(other) => {
                return Err(ConnectorError::Cursor {
                    app: APP,
                    resource: resource.to_string(),
                    detail: format!("{other:?} is not a page of a Freshservice list"),
                })
            }
        };
        let mut query: Vec<(&str, String)> = Vec::new();
        let listed_active = match res {
            Resource::Agents { active } | Resource::Requesters { active } => {
                if !active {
                    query.push(("active", "false".to_string()));
                }
                if let Some(s) = since {
                    query.push(("updated_since", format_since(s)));
                }
                active
            }
            _ => true,
        };
        let page = self.client.page(resource, res.list(), &query, at).await?;
        let tenant = self.tenant.as_str();
        let mut records: Vec<Record> = Vec::with_capacity(page.items.len());
        for item in page.items {
            let mapped = match res {
                Resource::Roles => {
                    map::entitlement(tenant, "role", item).map(|e| vec![Record::Entitlement(e)])
                }
                Resource::Groups => {
                    map::entitlement(tenant, "group", item).map(|e| vec![Record::Entitlement(e)])
                }
                Resource::Departments => map::entitlement(tenant, "department", item)
                    .map(|e| vec![Record::Entitlement(e)]),
                Resource::Agents { .. } => map::agent(tenant, item, listed_active),
                Resource::Requesters { .. } => map::requester(tenant, item, listed_active),
            };
            records.extend(mapped.map_err(|d| decode_err(APP, resource, d))?);
        }
        Ok(Page {
            records,
            next: page.next.map(|c| encode_cursor(&c)),
            requests: page.attempts,
        })
    }
}
