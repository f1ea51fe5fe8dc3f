//! The one HTTP client of idgraph. Every connector talks to its vendor through an
//! [`ApiClient`] made by the process-wide [`HttpClient`]: rustls, timeouts, optional extra
//! root certificates; an authentication scheme ([`auth`]); OAuth tokens kept in a
//! [`TokenStore`]; a [`RateBudget`] per vendor account shared by everything that calls it;
//! retries with exponential back-off and full jitter for idempotent requests; typed
//! [`HttpError`]s that never contain a secret; paginators for every vendor's list style; and
//! request metrics. Time comes from an injected [`Clock`], so tests of windows, back-off and
//! token expiry run on virtual time.
//!
//! ```no_run
//! # async fn demo() -> Result<(), idgraph_http::HttpError> {
//! use idgraph_http::*;
//! use std::sync::Arc;
//! let clock = SystemClock::shared();
//! let http = HttpClient::new(HttpConfig::default(), clock.clone())?;
//! let budgets = BudgetRegistry::new(clock);
//! let account = "freshservice:acme";
//! let budget = budgets.budget(account, RatePlan::per_minute(400));
//! let auth = Arc::new(StaticAuth::basic_api_key(&Secret::new("KEY"), account)?);
//! let api = http.api(ApiConfig::new("https://acme.freshservice.com", account, auth, budget))?;
//! let mut pages = Paginator::new(
//!     &api,
//!     ApiRequest::get("/api/v2/agents"),
//!     PageStyle::page_number(100, Stop::ShortPage),
//!     items_at::<serde_json::Value>("/agents", false),
//! );
//! while let Some(agents) = pages.next_page().await? { let _ = agents; }
//! # Ok(()) }
//! ```

pub mod auth;
pub mod budget;
pub mod client;
pub mod clock;
pub mod config;
pub mod error;
pub mod paginate;
pub mod retry;
pub mod secret;
pub mod store;

pub use auth::{
    transient_token_failure, Authenticator, AuthorizationCode, ClientCredentials, Credential,
    OAuthClient, OAuthOptions, RetryTokenRequests, StaticAuth,
};
pub use budget::{
    BudgetMetrics, BudgetRegistry, RateBudget, RateHeaders, RatePlan, SubLimit, WindowStatus,
};
pub use client::{ApiClient, ApiConfig, ApiRequest, ApiResponse, ClientMetrics};
pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use config::{HttpClient, HttpConfig, DEFAULT_USER_AGENT};
pub use error::{redact_url, HttpError};
pub use paginate::{items_at, Extractor, PageCursor, PageStyle, Paginator, Stop};
pub use retry::{Jitter, RetryPolicy};
pub use secret::Secret;
pub use store::{FileTokenStore, MemoryTokenStore, TokenSet, TokenStore, TokenStoreError};
