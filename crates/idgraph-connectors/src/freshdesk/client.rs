//! The Freshdesk API calls the connector makes, all `GET` list endpoints of `/api/v2` that
//! answer bare JSON arrays: `roles`, `groups`, `agents` (the default list shows active agents;
//! `active=false` the deactivated and the unconfirmed ones), `contacts` (not deleted) and
//! `contacts?deleted=true`, both filtered by `_updated_since` (the real API's spelling;
//! inclusive) in incremental reads. Lists are paged with `page`/`per_page=100` and end at the
//! first page with fewer than 100 items (guide trap: "the only termination signal is a page
//! returning fewer results than per_page"), so a list of `n` records takes `n / 100 + 1`
//! requests.
//!
//! Deep pages are refused by the server (api-guides README: "split large syncs by an
//! `updated_since` window rather than paging forever"). A contact listing that reaches
//! `max_page` goes on in a new window, [`ContactsCursor`]: `_updated_since` = the latest
//! `created_at` listed so far, skipping ids already listed. Freshdesk assigns user ids in
//! creation order and `updated_at ≥ created_at`, so every contact with a larger id than any
//! listed one was created, hence updated, at or after that time: the window holds all of them.
//! A window that lists nothing new (more than `max_page` pages of already-listed contacts
//! updated since) is an error, never a silent gap.

use super::config::FreshdeskConfig;
use super::map::APP;
use crate::common::{format_since, http_err, page_of, PageOf};
use crate::connector::ConnectorError;
use crate::context::ConnectorContext;
use idgraph_http::{
    items_at, ApiClient, ApiConfig, ApiRequest, HttpError, PageCursor, PageStyle, StaticAuth, Stop,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;
use time::OffsetDateTime;

/// Items per page: the API's maximum.
pub const PER_PAGE: u32 = 100;

pub const ROLES: &str = "/api/v2/roles";
pub const GROUPS: &str = "/api/v2/groups";
pub const AGENTS: &str = "/api/v2/agents";
pub const CONTACTS: &str = "/api/v2/contacts";

/// The API client of one Freshdesk account.
#[derive(Clone, Debug)]
pub struct Client {
    api: ApiClient,
    max_page: u64,
}

impl Client {
    /// Basic auth with the API key, the account's budget (`freshdesk:<host>`), the shared
    /// HTTP client.
    pub fn new(config: &FreshdeskConfig, ctx: &ConnectorContext) -> Result<Self, ConnectorError> {
        config.validate()?;
        let account = format!("freshdesk:{}", config.host()?);
        let auth = StaticAuth::basic_api_key(&config.api_key, &account).map_err(|_| {
            ConnectorError::Config {
                app: APP,
                detail: "`api_key` holds characters not allowed in an HTTP header".to_string(),
            }
        })?;
        let budget = if ctx.pace {
            ctx.budgets.budget(&account, config.plan.rate_plan())
        } else {
            ctx.budgets.unlimited(&account)
        };
        let api = ctx
            .http
            .api(ApiConfig::new(
                config.api_base()?,
                account,
                Arc::new(auth),
                budget,
            ))
            .map_err(|e| ConnectorError::Config {
                app: APP,
                detail: format!("`base_url`: {e}"),
            })?;
        Ok(Self {
            api,
            max_page: config.max_page,
        })
    }

    /// The underlying API client (metrics, budget).
    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    /// The deepest page the server serves.
    pub fn max_page(&self) -> u64 {
        self.max_page
    }

    /// The page `at` of the list at `path` with the filters `query`.
    pub async fn page(
        &self,
        resource: &str,
        path: &str,
        query: &[(&str, String)],
        at: PageCursor,
    ) -> Result<PageOf<Value>, ConnectorError> {
        self.raw_page(path, query, at)
            .await
            .map_err(http_err(APP, resource))
    }

    async fn raw_page(
        &self,
        path: &str,
        query: &[(&str, String)],
        at: PageCursor,
    ) -> Result<PageOf<Value>, HttpError> {
        page_of(
            &self.api,
            ApiRequest::get(path).query(query),
            PageStyle::page_number(PER_PAGE, Stop::ShortPage),
            items_at::<Value>("", false),
            at,
        )
        .await
    }

    /// A page of contacts, or `None` when the server refused the page as deeper than it
    /// serves (a cap lower than the configured `max_page`).
    pub async fn contacts_page(
        &self,
        resource: &str,
        query: &[(&str, String)],
        page: u64,
    ) -> Result<Option<PageOf<Value>>, ConnectorError> {
        match self.raw_page(CONTACTS, query, PageCursor::Page(page)).await {
            Ok(p) => Ok(Some(p)),
            Err(e) if page > 1 && is_page_cap(&e) => {
                tracing::info!(account = %self.api.account(), page, "contacts: the server caps pages here; going on in a new window");
                Ok(None)
            }
            Err(e) => Err(http_err(APP, resource)(e)),
        }
    }

    /// The ids of every agent in the `active=false` list (deactivated and unconfirmed), with
    /// the requests it took.
    pub async fn inactive_agent_ids(
        &self,
        resource: &str,
    ) -> Result<(HashSet<u64>, u64), ConnectorError> {
        let query = [("active", "false".to_string())];
        let mut ids = HashSet::new();
        let mut requests = 0;
        let mut at = Some(PageCursor::First);
        while let Some(cursor) = at {
            let p = self.page(resource, AGENTS, &query, cursor).await?;
            requests += p.attempts;
            ids.extend(
                p.items
                    .iter()
                    .filter_map(|v| v.get("id").and_then(Value::as_u64)),
            );
            at = p.next;
        }
        Ok((ids, requests))
    }
}

/// A 400 naming the `page` parameter: the server's deep-pagination cap.
fn is_page_cap(e: &HttpError) -> bool {
    matches!(e, HttpError::Status { status, body, .. }
        if status.as_u16() == 400 && body.contains("\"page\""))
}

/// Where a contact listing stands: the page in the current window, and what the windows after
/// a page cap need.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactsCursor {
    /// The next page of the current window (1-based).
    pub page: u64,
    /// `_updated_since` of the current window when it was opened after a page cap (`None`:
    /// the first window, filtered by the caller's `since`).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub window: Option<OffsetDateTime>,
    /// Contacts with ids up to this one were listed by an earlier window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listed_up_to: Option<u64>,
    /// The largest id seen so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_id: Option<u64>,
    /// The latest `created_at` seen so far.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_created: Option<OffsetDateTime>,
}

impl ContactsCursor {
    /// The first page of a listing.
    pub fn start() -> Self {
        Self {
            page: 1,
            ..Self::default()
        }
    }

    /// The `_updated_since` of this page's request.
    pub fn since(&self, since: Option<OffsetDateTime>) -> Option<OffsetDateTime> {
        self.window.or(since)
    }

    /// The query of this page's request.
    pub fn query(
        &self,
        deleted: bool,
        since: Option<OffsetDateTime>,
    ) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if deleted {
            q.push(("deleted", "true".to_string()));
        }
        if let Some(s) = self.since(since) {
            q.push(("_updated_since", format_since(s)));
        }
        q
    }

    /// Whether an item of this window was listed by an earlier one.
    pub fn already_listed(&self, id: u64) -> bool {
        self.listed_up_to.is_some_and(|up_to| id <= up_to)
    }

    /// Notes an item's id and creation time.
    pub fn saw(&mut self, id: Option<u64>, created: Option<OffsetDateTime>) {
        if let Some(id) = id {
            self.max_id = Some(self.max_id.map_or(id, |m| m.max(id)));
        }
        if let Some(c) = created {
            self.max_created = Some(self.max_created.map_or(c, |m| m.max(c)));
        }
    }

    /// Where to go after this page: `more` says the server has a next page (a full page);
    /// `refused` that the server refused this page as too deep. `None`: the listing is done.
    pub fn next(
        mut self,
        more: bool,
        refused: bool,
        max_page: u64,
        since: Option<OffsetDateTime>,
    ) -> Result<Option<Self>, String> {
        if !more && !refused {
            return Ok(None);
        }
        if !refused && self.page < max_page {
            self.page += 1;
            return Ok(Some(self));
        }
        // Past the cap: a new window.
        let deepest = if refused { self.page - 1 } else { self.page };
        let progressed = match (self.max_id, self.listed_up_to) {
            (Some(m), Some(up_to)) => m > up_to,
            (Some(_), None) => true,
            (None, _) => false,
        };
        let (Some(max_created), true) = (self.max_created, progressed) else {
            return Err(format!(
                "{deepest} pages of contacts updated since {} list nothing new and the server serves no deeper page; cannot go on without a gap",
                self.since(since).map_or("the beginning".to_string(), format_since)
            ));
        };
        let window = self
            .since(since)
            .map_or(max_created, |s| s.max(max_created));
        Ok(Some(Self {
            page: 1,
            window: Some(window),
            listed_up_to: self.max_id,
            max_id: self.max_id,
            max_created: self.max_created,
        }))
    }
}
