//! The FreshBooks API calls the connector makes, all under `/auth/api/v1` with the grant's
//! bearer token and its rate budget:
//!
//! | call | endpoint | paging |
//! |---|---|---|
//! | businesses administered | `GET users/me` (`business_memberships`) | one request |
//! | members of a business | `GET business/{id}/members?per_page=100&page=n` | `response.pages.pages` |
//! | pending invitations | `GET business/{id}/invitations?per_page=100&page=n` | `response.pages.pages` |
//!
//! The default page size is 15, and a client that omits `per_page` silently gets an
//! incomplete list; this one always asks for the maximum (100) and follows `pages.pages`.
//! Members are listed without the `active` filter, which lists deactivated members too.
//!
//! The businesses from `users/me` are cached for a few minutes (the `roles` resource reads
//! them first in a sync, so `members` and `invitations` need no request of their own).

use super::map::{administered_businesses, Business, APP};
use super::model::Me;
use crate::common::{decode_err, http_err, page_of, PageOf};
use crate::connector::ConnectorError;
use idgraph_http::{
    items_at, ApiClient, ApiRequest, HttpError, PageCursor, PageStyle, SharedClock, Stop,
};
use serde_json::Value;
use std::sync::Mutex;
use time::OffsetDateTime;

pub const ME_PATH: &str = "/auth/api/v1/users/me";
/// The largest page FreshBooks serves.
pub const PER_PAGE: u32 = 100;
/// How long the business list of `users/me` is reused.
const BUSINESS_CACHE_TTL: time::Duration = time::Duration::minutes(15);

/// Scope needed by `users/me`.
pub const SCOPE_PROFILE: &str = "user:profile:read";
/// Scope needed by the member and invitation endpoints.
pub const SCOPE_ADMIN: &str = "admin:all:legacy";

pub fn members_path(business_id: &str) -> String {
    format!("/auth/api/v1/business/{business_id}/members")
}

pub fn invitations_path(business_id: &str) -> String {
    format!("/auth/api/v1/business/{business_id}/invitations")
}

/// The paging of both lists: `page`/`per_page`, ended by the `pages` object.
fn style() -> PageStyle {
    PageStyle::page_number(PER_PAGE, Stop::PagesObject("/response/pages".into()))
}

/// Maps an HTTP failure of `resource`; a 403 for a missing scope becomes a configuration
/// error naming the scope the grant lacks.
pub fn api_err(resource: &str, scope: &str, e: HttpError) -> ConnectorError {
    if let HttpError::Status { status, body, .. } = &e {
        if status.as_u16() == 403 && body.contains("insufficient_scope") {
            return ConnectorError::Config {
                app: APP,
                detail: format!(
                    "{resource}: the OAuth grant lacks the scope `{scope}` (FreshBooks answered 403 insufficient_scope); authorize the application again with `{scope}` among its scopes"
                ),
            };
        }
    }
    http_err(APP, resource)(e)
}

/// Calls to one FreshBooks grant.
#[derive(Debug)]
pub struct FreshbooksClient {
    api: ApiClient,
    clock: SharedClock,
    businesses: Mutex<Option<(OffsetDateTime, Vec<Business>)>>,
}

impl FreshbooksClient {
    pub fn new(api: ApiClient, clock: SharedClock) -> Self {
        Self {
            api,
            clock,
            businesses: Mutex::new(None),
        }
    }

    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    /// `GET users/me`: the businesses the token owner administers, and the attempts it took.
    pub async fn fetch_businesses(
        &self,
        resource: &str,
    ) -> Result<(Vec<Business>, u64), ConnectorError> {
        let (value, resp) = self
            .api
            .execute(ApiRequest::get(ME_PATH), |r| r.json::<Value>())
            .await
            .map_err(|e| api_err(resource, SCOPE_PROFILE, e))?;
        let me = value
            .get("response")
            .ok_or_else(|| decode_err(APP, resource, "users/me: no `response` in the body"))?;
        let me: Me = serde_json::from_value(me.clone())
            .map_err(|e| decode_err(APP, resource, format!("users/me: {e}")))?;
        let list = administered_businesses(&me);
        if list.is_empty() {
            tracing::warn!(identity = %me.id, "FreshBooks: the token owner administers no business; nothing to list");
        }
        if let Ok(mut c) = self.businesses.lock() {
            *c = Some((self.clock.now(), list.clone()));
        }
        Ok((list, u64::from(resp.attempts)))
    }

    /// The administered businesses: from the cache when fresh, else from `users/me`.
    pub async fn businesses(&self, resource: &str) -> Result<(Vec<Business>, u64), ConnectorError> {
        let cached = self.businesses.lock().ok().and_then(|c| {
            c.as_ref()
                .filter(|(at, _)| self.clock.now() - *at < BUSINESS_CACHE_TTL)
                .map(|(_, list)| list.clone())
        });
        match cached {
            Some(list) => Ok((list, 0)),
            None => self.fetch_businesses(resource).await,
        }
    }

    /// One page of members of a business (raw items).
    pub async fn members_page(
        &self,
        resource: &str,
        business_id: &str,
        at: PageCursor,
    ) -> Result<PageOf<Value>, ConnectorError> {
        page_of(
            &self.api,
            ApiRequest::get(members_path(business_id)),
            style(),
            items_at::<Value>("/response/members", false),
            at,
        )
        .await
        .map_err(|e| api_err(resource, SCOPE_ADMIN, e))
    }

    /// One page of pending invitations of a business (raw items).
    pub async fn invitations_page(
        &self,
        resource: &str,
        business_id: &str,
        at: PageCursor,
    ) -> Result<PageOf<Value>, ConnectorError> {
        page_of(
            &self.api,
            ApiRequest::get(invitations_path(business_id)),
            style(),
            items_at::<Value>("/response/invitations", true),
            at,
        )
        .await
        .map_err(|e| api_err(resource, SCOPE_ADMIN, e))
    }
}
