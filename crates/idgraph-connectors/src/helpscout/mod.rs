//! The Help Scout connector (read side), after `shared/api-guides/helpscout.txt` and the Help
//! Scout lines of `shared/api-guides/README.md`.
//!
//! OAuth 2.0 client credentials at the real token endpoint `POST /v2/oauth2/token` (form;
//! configurable, the guide's `/v2/auth/token` works on the simulator too); the 48-hour token is
//! cached in the token store across runs and renewed once after a 401. One rate budget of 400
//! requests a minute for the whole account (`X-RateLimit-*` headers and `Retry-After` honoured).
//!
//! | resource | lists | requests |
//! |---|---|---|
//! | `users` | accounts `user` (active and invited) + `role` entitlements and grants | pages of 50 |
//! | `users_deactivated` | accounts `user` deactivated, from SCIM (only with a SCIM token) | SCIM pages of 100, `active eq false` |
//! | `teams` | `team` entitlements, then each team's members as grants | pages of 50, then per team pages of 50 |
//!
//! `teams` is multi-phase: its cursor holds the phase (team list or members), the team ids
//! seen and which team and page come next. Deactivated and deleted users vanish from the REST
//! API with no tombstone: both user resources declare the `user` namespace, so the sync engine
//! can mark vanished users missing and keep their last record. The API has no
//! `updated_since`: every sync is a full listing, which the engine diffs. Email lookups are
//! local ([`map::EmailIndex`]): the API has no email filter (guide).

pub mod client;
pub mod config;
pub mod map;
pub mod model;
#[cfg(test)]
mod tests;

pub use config::HelpscoutConfig;
pub use map::EmailIndex;

use crate::common::{decode_cursor, decode_err, encode_cursor};
use crate::connector::{
    Capabilities, Connector, ConnectorError, Cursor, GrantScope, Page, ResourceSpec,
};
use crate::context::ConnectorContext;
use crate::scim::{ScimClient, ScimMapping};
use async_trait::async_trait;
use client::HelpscoutClient;
use idgraph_core::{AccountStatus, Record};
use idgraph_http::{
    ApiConfig, ClientCredentials, FileTokenStore, MemoryTokenStore, OAuthClient, OAuthOptions,
    PageCursor, RetryTokenRequests, TokenStore,
};
use idgraph_scim::Filter;
use map::{APP, ROLE, TEAM, USER};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time::OffsetDateTime;

pub const USERS: &str = "users";
pub const USERS_DEACTIVATED: &str = "users_deactivated";
pub const TEAMS: &str = "teams";

/// Where the `teams` listing stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
enum TeamsCursor {
    /// Listing teams; `ids` are the teams seen so far.
    Teams { page: PageCursor, ids: Vec<String> },
    /// Listing the members of `ids[index]`.
    Members {
        ids: Vec<String>,
        index: usize,
        page: PageCursor,
    },
}

/// The SCIM side (Pro plan): deactivated users.
#[derive(Debug)]
struct Scim {
    client: ScimClient,
    mapping: ScimMapping,
}

/// Reads one Help Scout account.
#[derive(Debug)]
pub struct HelpscoutConnector {
    tenant: String,
    client: HelpscoutClient,
    scim: Option<Scim>,
}

fn config_err(detail: impl Into<String>) -> ConnectorError {
    ConnectorError::Config {
        app: APP,
        detail: detail.into(),
    }
}

impl HelpscoutConnector {
    /// A connector for `config` (no request is made).
    pub fn new(config: HelpscoutConfig, ctx: &ConnectorContext) -> Result<Self, ConnectorError> {
        if config.client_id.trim().is_empty() {
            return Err(config_err("client_id is empty"));
        }
        if config.client_secret.is_empty() {
            return Err(config_err("client_secret is empty"));
        }
        let tenant = config.account();
        let account = format!("{APP}:{tenant}");
        let store: Arc<dyn TokenStore> = match &config.token_store {
            Some(path) => Arc::new(FileTokenStore::new(path.clone())),
            None => Arc::new(MemoryTokenStore::new()),
        };
        let oauth = OAuthClient::new(
            &config.token_url(),
            config.client_id.clone(),
            config.client_secret.clone(),
        )
        .map_err(|e| config_err(format!("token_url: {e}")))?;
        let grant = ClientCredentials::new(&ctx.http, oauth, store, OAuthOptions::new(&account));
        let auth = RetryTokenRequests::new(grant, ctx.clock.clone(), account.clone());
        let budget = if ctx.pace {
            ctx.budgets.budget(&account, config.plan())
        } else {
            ctx.budgets.unlimited(&account)
        };
        let api = ctx
            .http
            .api(ApiConfig::new(
                config.base_url.trim(),
                account,
                Arc::new(auth),
                budget.clone(),
            ))
            .map_err(|e| config_err(format!("base_url: {e}")))?;
        let scim = match &config.scim_token {
            Some(token) if !token.is_empty() => Some(Scim {
                // Same budget: SCIM requests count against the account's limit.
                client: ScimClient::new(ctx, APP, &config.scim_base_url(), token, budget)?,
                mapping: ScimMapping {
                    app: APP.to_string(),
                    tenant: tenant.clone(),
                    namespace: USER.to_string(),
                    group_kind: TEAM.to_string(),
                    role_kind: None,
                    seat_consuming: true,
                },
            }),
            _ => None,
        };
        Ok(Self {
            tenant,
            client: HelpscoutClient::new(api),
            scim,
        })
    }

    /// The REST API client (metrics: requests, retries, 429s, re-authentications).
    pub fn api(&self) -> &idgraph_http::ApiClient {
        self.client.api()
    }

    async fn users(&self, cursor: Option<&Cursor>) -> Result<Page, ConnectorError> {
        let at = decode_cursor::<PageCursor>(APP, USERS, cursor)?.unwrap_or(PageCursor::First);
        let page = self.client.users_page(USERS, at).await?;
        let records =
            map::user_records(&self.tenant, page.items).map_err(|e| decode_err(APP, USERS, e))?;
        Ok(Page {
            records,
            next: page.next.as_ref().map(encode_cursor),
            requests: page.attempts,
        })
    }

    async fn users_deactivated(&self, cursor: Option<&Cursor>) -> Result<Page, ConnectorError> {
        let Some(scim) = &self.scim else {
            return Err(ConnectorError::UnknownResource {
                app: APP,
                resource: USERS_DEACTIVATED.to_string(),
            });
        };
        let at = decode_cursor::<PageCursor>(APP, USERS_DEACTIVATED, cursor)?
            .unwrap_or(PageCursor::First);
        let filter = Filter::eq("active", false)
            .map_err(|e| decode_err(APP, USERS_DEACTIVATED, format!("filter: {e}")))?;
        let page = scim
            .client
            .users_page(USERS_DEACTIVATED, at, Some(&filter))
            .await?;
        let mut records = Vec::with_capacity(page.items.len());
        for user in &page.items {
            let account = scim
                .mapping
                .account(user)
                .map_err(|e| decode_err(APP, USERS_DEACTIVATED, e))?;
            // Active users come from REST (with their role and teams); a server that ignored
            // the filter still gives only the deactivated ones here.
            if account.status == AccountStatus::Inactive {
                records.push(Record::Account(account));
            }
        }
        Ok(Page {
            records,
            next: page.next.as_ref().map(encode_cursor),
            requests: page.attempts,
        })
    }

    async fn teams(&self, cursor: Option<&Cursor>) -> Result<Page, ConnectorError> {
        let at = decode_cursor::<TeamsCursor>(APP, TEAMS, cursor)?.unwrap_or(TeamsCursor::Teams {
            page: PageCursor::First,
            ids: Vec::new(),
        });
        match at {
            TeamsCursor::Teams { page, mut ids } => {
                let p = self.client.teams_page(TEAMS, page).await?;
                let (records, seen) = map::team_records(&self.tenant, p.items)
                    .map_err(|e| decode_err(APP, TEAMS, e))?;
                ids.extend(seen);
                let next = match p.next {
                    Some(page) => Some(TeamsCursor::Teams { page, ids }),
                    None if !ids.is_empty() => Some(TeamsCursor::Members {
                        ids,
                        index: 0,
                        page: PageCursor::First,
                    }),
                    None => None,
                };
                Ok(Page {
                    records,
                    next: next.as_ref().map(encode_cursor),
                    requests: p.attempts,
                })
            }
            TeamsCursor::Members { ids, index, page } => {
                let Some(team) = ids.get(index).cloned() else {
                    return Ok(Page::default());
                };
                let p = self.client.members_page(TEAMS, &team, page).await?;
                let mut members = Vec::with_capacity(p.items.len());
                for (n, raw) in p.items.into_iter().enumerate() {
                    let m: model::MemberRef = serde_json::from_value(raw).map_err(|e| {
                        decode_err(
                            APP,
                            TEAMS,
                            format!("team {team}: member {n} of the page: {e}"),
                        )
                    })?;
                    members.push(m.id);
                }
                let records = map::membership_grants(&self.tenant, &team, &members);
                let next = match p.next {
                    Some(page) => Some(TeamsCursor::Members { ids, index, page }),
                    None if index + 1 < ids.len() => Some(TeamsCursor::Members {
                        ids,
                        index: index + 1,
                        page: PageCursor::First,
                    }),
                    None => None,
                };
                Ok(Page {
                    records,
                    next: next.as_ref().map(encode_cursor),
                    requests: p.attempts,
                })
            }
        }
    }
}

#[async_trait]
impl Connector for HelpscoutConnector {
    fn app(&self) -> &'static str {
        APP
    }

    fn tenant(&self) -> &str {
        &self.tenant
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            read_accounts: true,
            read_deactivated: self.scim.is_some(),
            read_entitlements: true,
            incremental: false,
            scim: self.scim.is_some(),
            ..Capabilities::default()
        }
    }

    fn resources(&self) -> Vec<ResourceSpec> {
        let mut users =
            ResourceSpec::accounts(USERS, &[USER], false).with_grants(GrantScope::WithAccounts);
        users.entitlement_kinds = vec![ROLE.to_string()];
        let mut out = vec![users];
        if self.scim.is_some() {
            out.push(ResourceSpec::accounts(USERS_DEACTIVATED, &[USER], false));
        }
        out.push(ResourceSpec::entitlements(TEAMS, &[TEAM]).with_grants(GrantScope::Memberships));
        out
    }

    async fn fetch(
        &self,
        resource: &str,
        cursor: Option<&Cursor>,
        _since: Option<OffsetDateTime>,
    ) -> Result<Page, ConnectorError> {
        match resource {
            USERS => self.users(cursor).await,
            USERS_DEACTIVATED if self.scim.is_some() => self.users_deactivated(cursor).await,
            TEAMS => self.teams(cursor).await,
            other => Err(ConnectorError::UnknownResource {
                app: APP,
                resource: other.to_string(),
            }),
        }
    }
}
