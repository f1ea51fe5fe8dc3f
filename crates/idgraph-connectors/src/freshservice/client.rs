//! The Freshservice API calls the connector makes, all `GET` list endpoints of `/api/v2`:
//! `agents` and `requesters` (each twice: the default list shows only active records,
//! `active=false` the deactivated ones; both take `updated_since`), `roles`, `groups` and
//! `departments`. Requesters are listed without `include_agents` (agents come from their own
//! list). Every list is paged with `page`/`per_page=100` and ends at the first page with fewer
//! than 100 items (guide: "Iterate pages until the response returns fewer records than
//! per_page"), so a list of `n` records takes `n / 100 + 1` requests.
//!
//! Requests go through the account's rate budget: the plan's per-minute limit, and on small
//! plans the 40/min window shared by the two user lists (see [`super::config`]).

use super::config::FreshserviceConfig;
use crate::common::{http_err, page_of, PageOf};
use crate::connector::ConnectorError;
use crate::context::ConnectorContext;
use idgraph_http::{
    items_at, ApiClient, ApiConfig, ApiRequest, PageCursor, PageStyle, StaticAuth, Stop,
};
use serde_json::Value;
use std::sync::Arc;

/// Items per page: the API's maximum.
pub const PER_PAGE: u32 = 100;

/// One list endpoint and how to read it.
#[derive(Clone, Copy, Debug)]
pub struct List {
    /// `/api/v2/agents`.
    pub path: &'static str,
    /// Where the items are in the page body: `/agents`.
    pub items: &'static str,
}

pub const AGENTS: List = List {
    path: "/api/v2/agents",
    items: "/agents",
};
pub const REQUESTERS: List = List {
    path: "/api/v2/requesters",
    items: "/requesters",
};
pub const ROLES: List = List {
    path: "/api/v2/roles",
    items: "/roles",
};
pub const GROUPS: List = List {
    path: "/api/v2/groups",
    items: "/groups",
};
pub const DEPARTMENTS: List = List {
    path: "/api/v2/departments",
    items: "/departments",
};

/// The API client of one Freshservice account.
#[derive(Clone, Debug)]
pub struct Client {
    api: ApiClient,
}

impl Client {
    /// Basic auth with the API key, the account's budget (`freshservice:<host>`), the shared
    /// HTTP client.
    pub fn new(
        config: &FreshserviceConfig,
        ctx: &ConnectorContext,
    ) -> Result<Self, ConnectorError> {
        config.validate()?;
        let host = config.host()?;
        let account = format!("freshservice:{host}");
        let auth = StaticAuth::basic_api_key(&config.api_key, &account).map_err(|_| {
            ConnectorError::Config {
                app: super::map::APP,
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
                app: super::map::APP,
                detail: format!("`base_url`: {e}"),
            })?;
        Ok(Self { api })
    }

    /// The underlying API client (metrics, budget).
    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    /// The page `at` of `list` with the filters `query` (`active`, `updated_since`).
    pub async fn page(
        &self,
        resource: &str,
        list: List,
        query: &[(&str, String)],
        at: PageCursor,
    ) -> Result<PageOf<Value>, ConnectorError> {
        page_of(
            &self.api,
            ApiRequest::get(list.path).query(query),
            PageStyle::page_number(PER_PAGE, Stop::ShortPage),
            items_at::<Value>(list.items, false),
            at,
        )
        .await
        .map_err(http_err(super::map::APP, resource))
    }
}
