//! The Help Scout API calls the connector makes (Mailbox API v2, bearer token from client
//! credentials, the account's rate budget of 400 requests a minute):
//!
//! | call | endpoint | paging |
//! |---|---|---|
//! | users | `GET /v2/users` | 50 a page (fixed by the server), `_links.next.href` followed as given |
//! | teams | `GET /v2/teams` | same |
//! | team members | `GET /v2/teams/{id}/members` | same; members under `_embedded.users` (real API) or `_embedded.members` (guide) |
//!
//! There is no page-size parameter (the guide's "max page size 50" is the server's fixed page)
//! and no email filter worth trusting (the guide says none exists): users are always listed in
//! full and looked up locally (`map::EmailIndex`). `GET /v2/users/me` is not called: for a
//! client-credentials token it is the app's bot user, not a person.

use super::map::APP;
use crate::common::{http_err, page_of, PageOf};
use crate::connector::ConnectorError;
use idgraph_http::{items_at, ApiClient, ApiRequest, Extractor, HttpError, PageCursor, PageStyle};
use serde_json::Value;
use std::sync::Arc;

pub const USERS_PATH: &str = "/v2/users";
pub const TEAMS_PATH: &str = "/v2/teams";
/// Records per page the server sends.
pub const PAGE_SIZE: usize = 50;

pub fn members_path(team_id: &str) -> String {
    format!("/v2/teams/{team_id}/members")
}

/// HAL paging: follow `_links.next.href` as given.
fn style() -> PageStyle {
    PageStyle::BodyNext {
        next_pointer: "/_links/next/href".into(),
    }
}

/// Team members under `_embedded.users` (what the API sends) or `_embedded.members` (the
/// guide's example); no `_embedded` at all is an empty page.
fn members_extractor() -> Extractor<Value> {
    Arc::new(|v: &Value| {
        let list = v
            .pointer("/_embedded/users")
            .or_else(|| v.pointer("/_embedded/members"));
        match list {
            Some(Value::Array(a)) => Ok(a.clone()),
            Some(Value::Null) | None => Ok(Vec::new()),
            Some(_) => Err("\"/_embedded/users\" is not an array".to_string()),
        }
    })
}

/// Calls to one Help Scout account.
#[derive(Debug)]
pub struct HelpscoutClient {
    api: ApiClient,
}

impl HelpscoutClient {
    pub fn new(api: ApiClient) -> Self {
        Self { api }
    }

    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    /// One page of users (raw items).
    pub async fn users_page(
        &self,
        resource: &str,
        at: PageCursor,
    ) -> Result<PageOf<Value>, ConnectorError> {
        page_of(
            &self.api,
            ApiRequest::get(USERS_PATH),
            style(),
            items_at::<Value>("/_embedded/users", true),
            at,
        )
        .await
        .map_err(http_err(APP, resource))
    }

    /// One page of teams (raw items).
    pub async fn teams_page(
        &self,
        resource: &str,
        at: PageCursor,
    ) -> Result<PageOf<Value>, ConnectorError> {
        page_of(
            &self.api,
            ApiRequest::get(TEAMS_PATH),
            style(),
            items_at::<Value>("/_embedded/teams", true),
            at,
        )
        .await
        .map_err(http_err(APP, resource))
    }

    /// One page of a team's members (raw items). A team deleted since it was listed (404) has
    /// no members.
    pub async fn members_page(
        &self,
        resource: &str,
        team_id: &str,
        at: PageCursor,
    ) -> Result<PageOf<Value>, ConnectorError> {
        let r = page_of(
            &self.api,
            ApiRequest::get(members_path(team_id)),
            style(),
            members_extractor(),
            at,
        )
        .await;
        match r {
            Err(HttpError::Status { status, .. }) if status.as_u16() == 404 => {
                tracing::warn!(
                    team = team_id,
                    "Help Scout: team gone since it was listed; no members read"
                );
                Ok(PageOf {
                    items: Vec::new(),
                    next: None,
                    attempts: 1,
                })
            }
            other => other.map_err(http_err(APP, resource)),
        }
    }
}
