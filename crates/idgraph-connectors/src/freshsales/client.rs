//! The Freshsales calls: REST (`Authorization: Token token=KEY`) `selector/owners` paged by
//! `page` with `per_page` until an empty page (the guide's stop rule: no total is given),
//! `selector/roles` (one answer) and `settings/profile` (the key's owner); SCIM through
//! [`ScimClient`] with its own bearer token. REST and SCIM spend one budget: 1,000 requests
//! per hour per account, whatever key or token is used.
//!
//! A 401 from REST is a configuration error that names the other host: older accounts
//! answer only under `{domain}.freshsales.io/api`, newer ones under
//! `{domain}.myfreshworks.com/crm/sales/api`, and a key sent to the wrong one is refused.

use super::config::{Endpoints, FreshsalesConfig};
use super::model::{items_at_key, Owner, Role, WithRaw};
use crate::common::{page_of, PageOf};
use crate::connector::ConnectorError;
use crate::context::ConnectorContext;
use crate::scim::{budget_for, ScimClient};
use idgraph_http::{
    ApiClient, ApiConfig, ApiRequest, Extractor, HttpError, PageCursor, PageStyle, StaticAuth, Stop,
};
use std::sync::Arc;

const APP: &str = "freshsales";

/// Freshsales REST and SCIM for one account.
#[derive(Clone, Debug)]
pub struct FreshsalesClient {
    api: ApiClient,
    scim: Option<ScimClient>,
    endpoints: Endpoints,
    page_size: u32,
}

impl FreshsalesClient {
    pub fn new(config: &FreshsalesConfig, ctx: &ConnectorContext) -> Result<Self, ConnectorError> {
        let endpoints = config.endpoints()?;
        let account = format!("{APP}:{}", endpoints.tenant);
        let budget = budget_for(ctx, &account, Some(config.rate_plan()));
        let cfg_err = |what: &str, e: HttpError| ConnectorError::Config {
            app: APP,
            detail: format!("{what}: {e}"),
        };
        let auth =
            StaticAuth::token(&config.api_key, &account).map_err(|e| cfg_err("`api_key`", e))?;
        let api = ctx
            .http
            .api(ApiConfig::new(
                endpoints.rest_base.clone(),
                account,
                Arc::new(auth),
                budget.clone(),
            ))
            .map_err(|e| cfg_err("`base_url`", e))?;
        let scim = match (&endpoints.scim_base, &config.scim_token) {
            (Some(base), Some(token)) => Some(
                ScimClient::new(ctx, APP, base, token, budget)?
                    .with_page_size(config.scim_page_size),
            ),
            _ => None,
        };
        Ok(Self {
            api,
            scim,
            endpoints,
            page_size: config.page_size,
        })
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// The SCIM client, when a SCIM token is configured.
    pub fn scim(&self) -> Option<&ScimClient> {
        self.scim.as_ref()
    }

    /// The REST API client (metrics, budget).
    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    /// The page `at` of `selector/owners`.
    pub async fn owners_page(
        &self,
        resource: &str,
        at: PageCursor,
    ) -> Result<PageOf<WithRaw<Owner>>, ConnectorError> {
        let extract: Extractor<WithRaw<Owner>> = Arc::new(|v| items_at_key::<Owner>(v, "users"));
        page_of(
            &self.api,
            ApiRequest::get("/selector/owners"),
            PageStyle::page_number(self.page_size, Stop::EmptyPage),
            extract,
            at,
        )
        .await
        .map_err(self.rest_err(resource))
    }

    /// `selector/roles`, with the HTTP attempts it took.
    pub async fn roles(&self, resource: &str) -> Result<(Vec<WithRaw<Role>>, u64), ConnectorError> {
        let (body, resp) = self
            .api
            .execute(ApiRequest::get("/selector/roles"), |r| {
                r.json::<serde_json::Value>()
            })
            .await
            .map_err(self.rest_err(resource))?;
        let roles =
            items_at_key::<Role>(&body, "roles").map_err(|detail| ConnectorError::Decode {
                app: APP,
                resource: resource.to_string(),
                detail: format!(
                    "{} of {}: {detail}",
                    "selector/roles", self.endpoints.rest_base
                ),
            })?;
        Ok((roles, u64::from(resp.attempts)))
    }

    /// `settings/profile`: the user whose API key this is (checks the key and the host).
    pub async fn profile(&self) -> Result<WithRaw<Owner>, ConnectorError> {
        let body: serde_json::Value = self
            .api
            .send_json(ApiRequest::get("/settings/profile"))
            .await
            .map_err(self.rest_err("profile"))?;
        let user = body
            .get("user")
            .cloned()
            .ok_or_else(|| ConnectorError::Decode {
                app: APP,
                resource: "profile".into(),
                detail: "no `user` in the settings/profile answer".into(),
            })?;
        WithRaw::decode(user).map_err(|detail| ConnectorError::Decode {
            app: APP,
            resource: "profile".into(),
            detail,
        })
    }

    /// Turns a REST failure into a connector error; 401 and 404 name the host to check.
    fn rest_err(&self, resource: &str) -> impl FnOnce(HttpError) -> ConnectorError {
        let resource = resource.to_string();
        let ep = self.endpoints.clone();
        move |e| match e {
            HttpError::Auth { .. } => ConnectorError::Config {
                app: APP,
                detail: format!(
                    "{resource}: the API key was refused by {} ({e}). {}",
                    ep.rest_base,
                    other_host_hint(&ep)
                ),
            },
            HttpError::Status {
                status, ref url, ..
            } if status.as_u16() == 404 => ConnectorError::Config {
                app: APP,
                detail: format!(
                    "{resource}: no Freshsales API at {url} (HTTP 404). {}",
                    other_host_hint(&ep)
                ),
            },
            HttpError::Pagination { .. } => ConnectorError::Decode {
                app: APP,
                resource,
                detail: e.to_string(),
            },
            source => ConnectorError::Http {
                app: APP,
                resource,
                source,
            },
        }
    }
}

/// What to check after a refused key: the key itself, and the other host.
pub fn other_host_hint(ep: &Endpoints) -> String {
    let other = ep.host.other();
    let domain = ep.domain.as_deref().unwrap_or("<domain>");
    format!(
        "Check the key (Settings > API Settings of an active admin). Freshsales accounts live either under {domain}.myfreshworks.com (REST path /crm/sales/api) or, if created before the move to Freshworks, under {domain}.freshsales.io (REST path /api); this account was tried on {} — if it lives on the other one set `host = \"{}\"` ({domain}.{}{})",
        ep.host.suffix(),
        other.config_name(),
        other.suffix(),
        other.rest_path()
    )
}
