//! The FreshBooks connector (read side), after `shared/api-guides/freshbooks.txt`.
//!
//! One OAuth grant (authorization code, single-use rotating refresh tokens kept in a token
//! store) reads every business its token owner administers, found through
//! `GET /auth/api/v1/users/me` (`business_memberships` with role `owner` or `admin`):
//!
//! | resource | lists | requests |
//! |---|---|---|
//! | `roles` | `business_role` entitlements of each business | `users/me` (1) |
//! | `members` | accounts `member` (active, deactivated, unconfirmed) + their role grants | per business, pages of 100 |
//! | `invitations` | accounts `invitation` (pending) + their role grants | per business, pages of 100 |
//!
//! Each account's tenant is its business id. `members` and `invitations` are multi-phase: the
//! cursor names the business list (read once, from `users/me`), which business and which page.
//! FreshBooks has no `updated_since` on members: every sync is a full listing, which the sync
//! engine diffs. There is no SCIM endpoint and no user webhook (guide: poll the members list).
//!
//! The token needs `admin:all:legacy` for members and invitations and `user:profile:read`
//! for `users/me`; without them the connector fails with a configuration error naming the
//! missing scope. 429s carry no `Retry-After`: the HTTP client waits for the window named by
//! `X-RateLimit-Reset` (or the next minute) and the budget follows `X-RateLimit-*`.

mod auth;
pub mod client;
pub mod config;
pub mod map;
pub mod model;
#[cfg(test)]
mod tests;

pub use config::FreshbooksConfig;

use crate::common::{decode_cursor, decode_err, encode_cursor};
use crate::connector::{
    Capabilities, Connector, ConnectorError, Cursor, GrantScope, Page, ResourceSpec,
};
use crate::context::ConnectorContext;
use async_trait::async_trait;
use client::FreshbooksClient;
use idgraph_http::{
    ApiConfig, AuthorizationCode, FileTokenStore, OAuthClient, OAuthOptions, PageCursor, TokenStore,
};
use map::{APP, BUSINESS_ROLE, INVITATION, MEMBER};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time::OffsetDateTime;

pub const ROLES: &str = "roles";
pub const MEMBERS: &str = "members";
pub const INVITATIONS: &str = "invitations";

/// Where a `members` or `invitations` listing stands: the businesses to walk (fixed at the
/// first page), the one being listed, and its next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct BusinessCursor {
    businesses: Vec<String>,
    index: usize,
    page: PageCursor,
}

/// Reads one FreshBooks grant.
#[derive(Debug)]
pub struct FreshbooksConnector {
    grant: String,
    client: FreshbooksClient,
}

fn config_err(detail: impl Into<String>) -> ConnectorError {
    ConnectorError::Config {
        app: APP,
        detail: detail.into(),
    }
}

impl FreshbooksConnector {
    /// A connector whose tokens live in the file `config.token_store`.
    pub fn new(config: FreshbooksConfig, ctx: &ConnectorContext) -> Result<Self, ConnectorError> {
        let Some(path) = config.token_store.clone() else {
            return Err(config_err(
                "token_store is required: FreshBooks refresh tokens work once, so every rotated token must be saved to a file before it is used",
            ));
        };
        Self::with_token_store(config, ctx, Arc::new(FileTokenStore::new(path)))
    }

    /// A connector whose tokens live in `store` (`config.token_store` is ignored).
    pub fn with_token_store(
        config: FreshbooksConfig,
        ctx: &ConnectorContext,
        store: Arc<dyn TokenStore>,
    ) -> Result<Self, ConnectorError> {
        if config.client_id.trim().is_empty() {
            return Err(config_err("client_id is empty"));
        }
        if config.client_secret.is_empty() {
            return Err(config_err("client_secret is empty"));
        }
        let grant = config.grant();
        let account = format!("{APP}:{grant}");
        let oauth = OAuthClient::new(
            &config.token_url(),
            config.client_id.clone(),
            config.client_secret.clone(),
        )
        .map_err(|e| config_err(format!("token_url: {e}")))?;
        let code = AuthorizationCode::new(
            &ctx.http,
            oauth,
            store.clone(),
            OAuthOptions::new(account.clone()).redirect_uri(config.redirect_uri.clone()),
        );
        let auth = auth::GrantAuth::new(
            code,
            store,
            account.clone(),
            config.refresh_token.clone(),
            ctx.clock.clone(),
        );
        let budget = if ctx.pace {
            ctx.budgets.budget(&account, config.plan())
        } else {
            ctx.budgets.unlimited(&account)
        };
        let api = ctx
            .http
            .api(ApiConfig::new(
                config.base_url.clone(),
                account,
                Arc::new(auth),
                budget,
            ))
            .map_err(|e| config_err(format!("base_url: {e}")))?;
        Ok(Self {
            grant,
            client: FreshbooksClient::new(api, ctx.clock.clone()),
        })
    }

    /// The API client (metrics: requests, retries, 429s).
    pub fn api(&self) -> &idgraph_http::ApiClient {
        self.client.api()
    }

    async fn roles(&self) -> Result<Page, ConnectorError> {
        let (businesses, requests) = self.client.fetch_businesses(ROLES).await?;
        let records = businesses.iter().flat_map(map::business_roles).collect();
        Ok(Page {
            records,
            next: None,
            requests,
        })
    }

    /// One page of `members` or `invitations`.
    async fn per_business(
        &self,
        resource: &str,
        cursor: Option<&Cursor>,
    ) -> Result<Page, ConnectorError> {
        let mut requests = 0;
        let at = match decode_cursor::<BusinessCursor>(APP, resource, cursor)? {
            Some(c) => c,
            None => {
                let (list, n) = self.client.businesses(resource).await?;
                requests += n;
                BusinessCursor {
                    businesses: list.into_iter().map(|b| b.id).collect(),
                    index: 0,
                    page: PageCursor::First,
                }
            }
        };
        let Some(business) = at.businesses.get(at.index) else {
            return Ok(Page {
                records: Vec::new(),
                next: None,
                requests,
            });
        };
        let page = if resource == MEMBERS {
            self.client
                .members_page(resource, business, at.page.clone())
                .await?
        } else {
            self.client
                .invitations_page(resource, business, at.page.clone())
                .await?
        };
        requests += page.attempts;
        let records = if resource == MEMBERS {
            map::member_records(business, page.items)
        } else {
            map::invitation_records(business, page.items)
        }
        .map_err(|e| decode_err(APP, resource, format!("business {business}: {e}")))?;
        let next = match page.next {
            Some(p) => Some(BusinessCursor { page: p, ..at }),
            None if at.index + 1 < at.businesses.len() => Some(BusinessCursor {
                index: at.index + 1,
                page: PageCursor::First,
                ..at
            }),
            None => None,
        };
        Ok(Page {
            records,
            next: next.as_ref().map(encode_cursor),
            requests,
        })
    }
}

#[async_trait]
impl Connector for FreshbooksConnector {
    fn app(&self) -> &'static str {
        APP
    }

    /// The OAuth grant: one token reads several businesses, and the rate budget is its.
    fn tenant(&self) -> &str {
        &self.grant
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            read_accounts: true,
            read_deactivated: true,
            read_entitlements: true,
            incremental: false,
            scim: false,
            ..Capabilities::default()
        }
    }

    fn resources(&self) -> Vec<ResourceSpec> {
        vec![
            ResourceSpec::entitlements(ROLES, &[BUSINESS_ROLE]),
            ResourceSpec::accounts(MEMBERS, &[MEMBER], false).with_grants(GrantScope::WithAccounts),
            ResourceSpec::accounts(INVITATIONS, &[INVITATION], false)
                .with_grants(GrantScope::WithAccounts),
        ]
    }

    async fn fetch(
        &self,
        resource: &str,
        cursor: Option<&Cursor>,
        _since: Option<OffsetDateTime>,
    ) -> Result<Page, ConnectorError> {
        match resource {
            ROLES => self.roles().await,
            MEMBERS | INVITATIONS => self.per_business(resource, cursor).await,
            other => Err(ConnectorError::UnknownResource {
                app: APP,
                resource: other.to_string(),
            }),
        }
    }
}
