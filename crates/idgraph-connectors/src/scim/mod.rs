//! A generic SCIM 2.0 (RFC 7643/7644) client and connector, usable for any app whose plan
//! offers SCIM (Freshservice and Freshsales on Enterprise, Freshdesk on Enterprise, Help Scout
//! on Pro; each needs SSO first and has its own bearer token, see `shared/api-guides`).
//!
//! - [`ScimClient`] (`client.rs`): Users and Groups paged by `startIndex`/`count`, one
//!   resource by id, lookups by filter, through the one HTTP client and the vendor account's
//!   rate budget. Other connectors use it for their SCIM part (Freshsales).
//! - [`map`]: User → [`idgraph_core::Account`] in a namespace the caller chooses, Group →
//!   entitlement with membership grants, `roles` → role grants when asked for.
//! - [`ScimConnector`]: a [`Connector`] over one SCIM service: resources `users` (accounts,
//!   deactivated included; incremental through `meta.lastModified ge` where the service
//!   supports it) and `groups` (entitlements and their memberships).
//!
//! SCIM shows `active: true` for a user who was invited and has not accepted yet; only the
//! vendor's own API can tell pending from active, so SCIM users map to active or inactive.

pub mod client;
pub mod config;
pub mod map;
pub mod model;
#[cfg(test)]
mod tests;

pub use client::{budget_for, path_segment, scim_detail, scim_err, ScimClient};
pub use config::{RateLimit, ScimConfig};
pub use map::{is_privileged, ScimMapping};
pub use model::{ScimGroup, ScimItem, ScimUser};

use crate::common::{decode_cursor, encode_cursor, format_since};
use crate::connector::{
    Capabilities, Connector, ConnectorError, Cursor, GrantScope, Page, ResourceSpec,
};
use crate::context::ConnectorContext;
use async_trait::async_trait;
use idgraph_core::Record;
use idgraph_http::PageCursor;
use idgraph_scim::{CompareOp, Filter};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// The resource listing users.
pub const USERS: &str = "users";
/// The resource listing groups and their members.
pub const GROUPS: &str = "groups";

/// A connector reading one SCIM 2.0 service.
#[derive(Debug)]
pub struct ScimConnector {
    app: &'static str,
    tenant: String,
    client: ScimClient,
    mapping: ScimMapping,
    incremental: bool,
    groups: bool,
}

impl ScimConnector {
    /// Checks `config` and builds the client (no request is made).
    pub fn new(config: ScimConfig, ctx: &ConnectorContext) -> Result<Self, ConnectorError> {
        let app = config.validate()?;
        let budget = budget_for(
            ctx,
            &config.budget_account(),
            config.rate_limit.as_ref().map(RateLimit::plan),
        );
        let client = ScimClient::new(ctx, app, config.base_url.trim(), &config.token, budget)?
            .with_page_size(config.page_size);
        Ok(Self {
            app,
            tenant: config.tenant.clone(),
            mapping: ScimMapping {
                app: app.to_string(),
                tenant: config.tenant,
                namespace: config.namespace,
                group_kind: config.group_kind,
                role_kind: config.role_kind,
                seat_consuming: config.seat_consuming,
            },
            client,
            incremental: config.incremental,
            groups: config.groups,
        })
    }

    /// The SCIM client (lookups by id or filter).
    pub fn client(&self) -> &ScimClient {
        &self.client
    }

    pub fn mapping(&self) -> &ScimMapping {
        &self.mapping
    }

    /// The filter an incremental listing sends: `meta.lastModified ge "<since>"` (inclusive).
    pub fn since_filter(since: OffsetDateTime) -> Filter {
        let path = idgraph_scim::AttrPath {
            urn: None,
            name: "meta".to_string(),
            sub_attr: Some("lastModified".to_string()),
        };
        Filter::Compare(
            path,
            CompareOp::Ge,
            serde_json::Value::String(format_since(since)),
        )
    }

    async fn users(
        &self,
        cursor: Option<&Cursor>,
        since: Option<OffsetDateTime>,
    ) -> Result<Page, ConnectorError> {
        let at = decode_cursor::<PageCursor>(self.app, USERS, cursor)?.unwrap_or(PageCursor::First);
        let filter = since.filter(|_| self.incremental).map(Self::since_filter);
        let page = self.client.users_page(USERS, at, filter.as_ref()).await?;
        let mut roles = BTreeMap::new();
        let mut accounts = Vec::with_capacity(page.items.len());
        let mut grants = Vec::new();
        for user in &page.items {
            let account = self
                .mapping
                .account(user)
                .map_err(|detail| crate::common::decode_err(self.app, USERS, detail))?;
            for e in self.mapping.role_entitlements(user) {
                roles.entry(e.key.clone()).or_insert(e);
            }
            grants.extend(self.mapping.role_grants(&account.key, user));
            accounts.push(account);
        }
        let records = roles
            .into_values()
            .map(Record::Entitlement)
            .chain(accounts.into_iter().map(Record::Account))
            .chain(grants.into_iter().map(Record::Grant))
            .collect();
        Ok(Page {
            records,
            next: page.next.map(|c| encode_cursor(&c)),
            requests: page.attempts,
        })
    }

    async fn groups(&self, cursor: Option<&Cursor>) -> Result<Page, ConnectorError> {
        let at =
            decode_cursor::<PageCursor>(self.app, GROUPS, cursor)?.unwrap_or(PageCursor::First);
        let page = self.client.groups_page(GROUPS, at, None).await?;
        let mut records = Vec::new();
        let mut grants = Vec::new();
        for group in &page.items {
            let (ent, members) = self
                .mapping
                .group(group)
                .map_err(|detail| crate::common::decode_err(self.app, GROUPS, detail))?;
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
impl Connector for ScimConnector {
    fn app(&self) -> &'static str {
        self.app
    }

    fn tenant(&self) -> &str {
        &self.tenant
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            read_accounts: true,
            read_deactivated: true,
            read_entitlements: self.groups || self.mapping.role_kind.is_some(),
            incremental: self.incremental,
            scim: true,
            ..Capabilities::default()
        }
    }

    fn resources(&self) -> Vec<ResourceSpec> {
        let mut users = ResourceSpec::accounts(USERS, &[&self.mapping.namespace], self.incremental);
        if let Some(kind) = &self.mapping.role_kind {
            users.entitlement_kinds = vec![kind.clone()];
            users.grants = GrantScope::WithAccounts;
        }
        let mut out = vec![users];
        if self.groups {
            out.push(
                ResourceSpec::entitlements(GROUPS, &[&self.mapping.group_kind])
                    .with_grants(GrantScope::Memberships),
            );
        }
        out
    }

    async fn fetch(
        &self,
        resource: &str,
        cursor: Option<&Cursor>,
        since: Option<OffsetDateTime>,
    ) -> Result<Page, ConnectorError> {
        match resource {
            USERS => self.users(cursor, since).await,
            GROUPS if self.groups => self.groups(cursor).await,
            other => Err(ConnectorError::UnknownResource {
                app: self.app,
                resource: other.to_string(),
            }),
        }
    }
}
