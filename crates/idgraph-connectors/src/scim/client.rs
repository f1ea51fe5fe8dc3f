//! [`ScimClient`]: the calls a SCIM 2.0 service answers for reading — Users and Groups paged
//! by `startIndex`/`count` (stopping past `totalResults`), one resource by id, and lookups by
//! filter (`userName eq "…"`, rendered by `idgraph-scim` so quoting is right) — through the one
//! HTTP client with a bearer token and the vendor account's rate budget.
//!
//! Errors name the app and resource. A refused token (401) and a refusal of SCIM itself (403:
//! the plan or SSO set-up does not allow it) are configuration errors quoting the service's
//! SCIM error `detail`; a page that is not a list response is a decode error.

use super::model::{list_items, ScimGroup, ScimItem, ScimUser};
use crate::common::{page_of, PageOf};
use crate::connector::ConnectorError;
use crate::context::ConnectorContext;
use idgraph_http::{
    ApiClient, ApiConfig, ApiRequest, Extractor, HttpError, PageCursor, PageStyle, RateBudget,
    RatePlan, Secret, StaticAuth,
};
use idgraph_scim::{ErrorResponse, Filter};
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// The account's budget: the plan when pacing is on and a plan is known, else a budget that
/// never waits (429s are still honoured). Shared by everything asking for `account`.
pub fn budget_for(
    ctx: &ConnectorContext,
    account: &str,
    plan: Option<RatePlan>,
) -> Arc<RateBudget> {
    match plan {
        Some(plan) if ctx.pace => ctx.budgets.budget(account, plan),
        _ => ctx.budgets.unlimited(account),
    }
}

/// A read client of one SCIM service.
#[derive(Clone, Debug)]
pub struct ScimClient {
    api: ApiClient,
    app: &'static str,
    page_size: u32,
}

impl ScimClient {
    /// A client of the SCIM service at `base_url` (the part before `/Users`), authenticated
    /// with `token` as a bearer token, spending `budget`.
    pub fn new(
        ctx: &ConnectorContext,
        app: &'static str,
        base_url: &str,
        token: &Secret,
        budget: Arc<RateBudget>,
    ) -> Result<Self, ConnectorError> {
        let config_err = |what: &str, e: HttpError| ConnectorError::Config {
            app,
            detail: format!("SCIM {what}: {e}"),
        };
        let account = budget.account().to_string();
        let auth = StaticAuth::bearer(token, &account).map_err(|e| config_err("token", e))?;
        let api = ctx
            .http
            .api(ApiConfig::new(
                base_url.trim_end_matches('/'),
                account,
                Arc::new(auth),
                budget,
            ))
            .map_err(|e| config_err("base URL", e))?;
        Ok(Self {
            api,
            app,
            page_size: 100,
        })
    }

    /// Resources asked for per page (`count`).
    pub fn with_page_size(mut self, n: u32) -> Self {
        self.page_size = n.max(1);
        self
    }

    pub fn page_size(&self) -> u32 {
        self.page_size
    }

    /// The underlying API client (metrics, budget).
    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    pub fn app(&self) -> &'static str {
        self.app
    }

    /// The page `at` of `/Users`, optionally filtered. `resource` names the listing in errors.
    pub async fn users_page(
        &self,
        resource: &str,
        at: PageCursor,
        filter: Option<&Filter>,
    ) -> Result<PageOf<ScimUser>, ConnectorError> {
        self.list_page("/Users", resource, at, filter).await
    }

    /// The page `at` of `/Groups`, optionally filtered.
    pub async fn groups_page(
        &self,
        resource: &str,
        at: PageCursor,
        filter: Option<&Filter>,
    ) -> Result<PageOf<ScimGroup>, ConnectorError> {
        self.list_page("/Groups", resource, at, filter).await
    }

    async fn list_page<T: DeserializeOwned + 'static>(
        &self,
        path: &str,
        resource: &str,
        at: PageCursor,
        filter: Option<&Filter>,
    ) -> Result<PageOf<ScimItem<T>>, ConnectorError> {
        // `Accept: application/json` (the HTTP client's default): SCIM services accept it
        // next to `application/scim+json` (RFC 7644 §8.1).
        let mut req = ApiRequest::get(path);
        if let Some(f) = filter {
            req = req.set_query("filter", f.to_string());
        }
        let extract: Extractor<ScimItem<T>> = Arc::new(|body| list_items::<T>(body));
        page_of(
            &self.api,
            req,
            PageStyle::Scim {
                count: self.page_size,
            },
            extract,
            at,
        )
        .await
        .map_err(scim_err(self.app, resource))
    }

    /// Every resource of a filtered listing (all pages), with the HTTP attempts it took.
    async fn all<T: DeserializeOwned + 'static>(
        &self,
        path: &str,
        resource: &str,
        filter: &Filter,
    ) -> Result<(Vec<ScimItem<T>>, u64), ConnectorError> {
        let mut at = Some(PageCursor::First);
        let mut out = Vec::new();
        let mut attempts = 0;
        while let Some(cursor) = at {
            let page = self
                .list_page::<T>(path, resource, cursor, Some(filter))
                .await?;
            attempts += page.attempts;
            out.extend(page.items);
            at = page.next;
        }
        Ok((out, attempts))
    }

    /// Users matching `filter`, every page.
    pub async fn find_users(&self, filter: &Filter) -> Result<Vec<ScimUser>, ConnectorError> {
        self.all("/Users", "scim_users", filter)
            .await
            .map(|(v, _)| v)
    }

    /// The user whose `userName` is `user_name` (compared as the service does: SCIM's
    /// `userName` is case-insensitive). `None` when there is none.
    pub async fn find_user_by_username(
        &self,
        user_name: &str,
    ) -> Result<Option<ScimUser>, ConnectorError> {
        let filter = Filter::eq("userName", user_name).map_err(|e| ConnectorError::Config {
            app: self.app,
            detail: format!("cannot build a userName filter: {e}"),
        })?;
        let mut found = self.find_users(&filter).await?;
        if found.len() > 1 {
            return Err(ConnectorError::Decode {
                app: self.app,
                resource: "scim_users".into(),
                detail: format!(
                    "{} users answer the filter {filter}; userName must be unique",
                    found.len()
                ),
            });
        }
        Ok(found.pop())
    }

    /// Groups matching `filter`, every page.
    pub async fn find_groups(&self, filter: &Filter) -> Result<Vec<ScimGroup>, ConnectorError> {
        self.all("/Groups", "scim_groups", filter)
            .await
            .map(|(v, _)| v)
    }

    /// `GET /Users/{id}`; `None` on 404.
    pub async fn get_user(&self, id: &str) -> Result<Option<ScimUser>, ConnectorError> {
        self.get_one("Users", "scim_user", id).await
    }

    /// `GET /Groups/{id}`; `None` on 404.
    pub async fn get_group(&self, id: &str) -> Result<Option<ScimGroup>, ConnectorError> {
        self.get_one("Groups", "scim_group", id).await
    }

    async fn get_one<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        resource: &str,
        id: &str,
    ) -> Result<Option<ScimItem<T>>, ConnectorError> {
        let req = ApiRequest::get(format!("/{endpoint}/{}", path_segment(id)));
        match self.api.send_json::<serde_json::Value>(req).await {
            Ok(v) => ScimItem::decode(v)
                .map(Some)
                .map_err(|e| ConnectorError::Decode {
                    app: self.app,
                    resource: format!("{resource} {id}"),
                    detail: e,
                }),
            Err(e) if e.status().map(|s| s.as_u16()) == Some(404) => Ok(None),
            Err(e) => Err(scim_err(self.app, &format!("{resource} {id}"))(e)),
        }
    }
}

/// `s` as one URL path segment (everything but RFC 3986 unreserved characters escaped).
pub fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `detail` of an RFC 7644 error body, when `body` is one.
pub fn scim_detail(body: &str) -> Option<String> {
    let e: ErrorResponse = serde_json::from_str(body).ok()?;
    let detail = e.detail.filter(|d| !d.trim().is_empty())?;
    Some(match e.scim_type {
        Some(t) => format!("{detail} (scimType {t})"),
        None => detail,
    })
}

/// Turns an HTTP failure of a SCIM call into a connector error for `app`'s `resource`:
/// 401 and 403 are configuration problems (token, plan, SSO), a page that is not a list
/// response is a decode error, the rest keeps the HTTP error as its source.
pub fn scim_err(app: &'static str, resource: &str) -> impl FnOnce(HttpError) -> ConnectorError {
    let resource = resource.to_string();
    move |e| match e {
        HttpError::Auth { .. } => token_refused(app, &resource, &e),
        HttpError::Status {
            status,
            ref body,
            ref url,
            ..
        } if status.as_u16() == 403 => scim_refused(app, &resource, url, body),
        HttpError::Pagination { .. } => ConnectorError::Decode {
            app,
            resource,
            detail: e.to_string(),
        },
        source => ConnectorError::Http {
            app,
            resource,
            source,
        },
    }
}

/// A 401 on SCIM: the bearer token is wrong (often the REST key was given instead).
pub fn token_refused(app: &'static str, resource: &str, e: &HttpError) -> ConnectorError {
    ConnectorError::Config {
        app,
        detail: format!(
            "{resource}: the SCIM bearer token was refused ({e}); the SCIM token is generated in the app's admin settings and is not the REST API key"
        ),
    }
}

/// A 403 on SCIM: the service refuses SCIM for this account (plan, SSO); quotes its `detail`.
pub fn scim_refused(app: &'static str, resource: &str, url: &str, body: &str) -> ConnectorError {
    let why = scim_detail(body).unwrap_or_else(|| body.to_string());
    ConnectorError::Config {
        app,
        detail: format!(
            "{resource}: SCIM is refused for this account (HTTP 403 from {url}): {why}. SCIM needs the right plan and SSO configured; without them leave the SCIM token out"
        ),
    }
}
