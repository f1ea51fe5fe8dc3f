//! [`ApiClient`]: requests to one vendor account, with its base URL, authentication, rate
//! budget, retries and metrics. Connectors call [`ApiClient::send`], [`ApiClient::send_json`]
//! or [`ApiClient::get_json`], or page through lists with [`crate::paginate::Paginator`].
//!
//! One request goes: wait for the account's [`RateBudget`] → get the credential (maybe a
//! token refresh) → send → let the budget learn from the rate headers → on 401 re-authenticate
//! once → on a retriable failure of an idempotent request wait (429: `Retry-After` or the
//! window reset; else exponential back-off with full jitter) and go again.

use crate::auth::Authenticator;
use crate::budget::RateBudget;
use crate::config::HttpClient;
use crate::error::{body_excerpt, redact_url, HttpError};
use crate::retry::{is_idempotent, Jitter, RetryPolicy};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// What an API client needs: where, who, which budget.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Base URL; request paths are appended to it (`https://x.myfreshworks.com/crm/sales/api`).
    pub base_url: String,
    /// The vendor account id, for errors and logs (`freshservice:acme`).
    pub account: String,
    pub auth: Arc<dyn Authenticator>,
    pub budget: Arc<RateBudget>,
    /// Defaults to the HTTP client's policy.
    pub retry: Option<RetryPolicy>,
    /// Defaults to an entropy-seeded RNG.
    pub jitter: Option<Jitter>,
}

impl ApiConfig {
    pub fn new(
        base_url: impl Into<String>,
        account: impl Into<String>,
        auth: Arc<dyn Authenticator>,
        budget: Arc<RateBudget>,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            account: account.into(),
            auth,
            budget,
            retry: None,
            jitter: None,
        }
    }

    pub fn retry(mut self, p: RetryPolicy) -> Self {
        self.retry = Some(p);
        self
    }

    pub fn jitter(mut self, j: Jitter) -> Self {
        self.jitter = Some(j);
        self
    }
}

#[derive(Debug, Clone)]
enum Body {
    Json(Vec<u8>),
    Form(String),
}

/// One request: method, path (or an absolute URL on the same origin), query, body.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    method: Method,
    target: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Option<Body>,
    idempotent: Option<bool>,
}

impl ApiRequest {
    pub fn new(method: Method, target: impl Into<String>) -> Self {
        Self {
            method,
            target: target.into(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: None,
            idempotent: None,
        }
    }

    pub fn get(target: impl Into<String>) -> Self {
        Self::new(Method::GET, target)
    }

    pub fn post(target: impl Into<String>) -> Self {
        Self::new(Method::POST, target)
    }

    pub fn put(target: impl Into<String>) -> Self {
        Self::new(Method::PUT, target)
    }

    pub fn patch(target: impl Into<String>) -> Self {
        Self::new(Method::PATCH, target)
    }

    pub fn delete(target: impl Into<String>) -> Self {
        Self::new(Method::DELETE, target)
    }

    /// Adds query parameters.
    pub fn query<K: ToString, V: ToString>(mut self, pairs: &[(K, V)]) -> Self {
        self.query
            .extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self
    }

    /// Sets a query parameter, replacing any with the same name.
    pub fn set_query(mut self, name: &str, value: impl ToString) -> Self {
        self.query.retain(|(k, _)| k != name);
        self.query.push((name.to_string(), value.to_string()));
        self
    }

    /// A JSON body (`Content-Type: application/json`).
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<Self, HttpError> {
        let bytes = serde_json::to_vec(body).map_err(|e| {
            HttpError::config_with(
                format!(
                    "the JSON body of {} {} cannot be encoded",
                    self.method, self.target
                ),
                e,
            )
        })?;
        self.body = Some(Body::Json(bytes));
        Ok(self)
    }

    /// A JSON body with another content type (e.g. `application/scim+json`).
    pub fn json_as<T: Serialize + ?Sized>(
        self,
        body: &T,
        content_type: &'static str,
    ) -> Result<Self, HttpError> {
        let mut s = self.json(body)?;
        s.headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static(content_type),
        );
        Ok(s)
    }

    /// A form body (`application/x-www-form-urlencoded`).
    pub fn form<T: Serialize + ?Sized>(mut self, body: &T) -> Result<Self, HttpError> {
        let s = serde_urlencoded::to_string(body).map_err(|e| {
            HttpError::config_with(
                format!(
                    "the form body of {} {} cannot be encoded",
                    self.method, self.target
                ),
                e,
            )
        })?;
        self.body = Some(Body::Form(s));
        Ok(self)
    }

    /// An extra header (never logged).
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Overrides whether the request may be sent twice (e.g. a POST search, `true`).
    pub fn idempotent(mut self, yes: bool) -> Self {
        self.idempotent = Some(yes);
        self
    }

    pub fn method(&self) -> &Method {
        &self.method
    }
}

/// A successful response, body read in full.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The URL requested (with its secrets; print it with [`redact_url`]).
    pub url: Url,
    pub method: Method,
    /// HTTP attempts this response took (1 without retries).
    pub attempts: u32,
}

impl ApiResponse {
    /// Decodes the body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, HttpError> {
        serde_json::from_slice(&self.body).map_err(|source| HttpError::Decode {
            method: self.method.clone(),
            url: redact_url(&self.url),
            source,
            body: body_excerpt(&self.body),
        })
    }
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    responses_429: AtomicU64,
    reauths: AtomicU64,
    failures: AtomicU64,
    budget_wait_nanos: AtomicU64,
    backoff_nanos: AtomicU64,
}

/// A snapshot of an API client's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientMetrics {
    /// HTTP requests sent (every attempt).
    pub requests: u64,
    /// Attempts that were retries.
    pub retries: u64,
    /// 429 responses received.
    pub responses_429: u64,
    /// Re-authentications after a 401.
    pub reauths: u64,
    /// Calls that returned an error in the end.
    pub failures: u64,
    /// Time spent waiting for the rate budget (including 429 window waits).
    pub budget_wait: Duration,
    /// Time spent in back-off between retries of failures other than 429.
    pub backoff: Duration,
}

#[derive(Debug)]
struct Inner {
    http: HttpClient,
    base: Url,
    account: String,
    auth: Arc<dyn Authenticator>,
    budget: Arc<RateBudget>,
    retry: RetryPolicy,
    jitter: Jitter,
    counters: Counters,
}

/// Requests to one vendor account. Cheap to clone; clones share metrics.
#[derive(Debug, Clone)]
pub struct ApiClient {
    inner: Arc<Inner>,
}

impl HttpClient {
    /// An API client for one vendor account.
    pub fn api(&self, config: ApiConfig) -> Result<ApiClient, HttpError> {
        let base = Url::parse(&config.base_url).map_err(|e| {
            HttpError::config_with(
                format!(
                    "invalid base URL {:?} for account {}",
                    config.base_url, config.account
                ),
                e,
            )
        })?;
        if base.cannot_be_a_base() || !matches!(base.scheme(), "http" | "https") {
            return Err(HttpError::config(format!(
                "base URL {} for account {} is not an http(s) URL",
                redact_url(&base),
                config.account
            )));
        }
        Ok(ApiClient {
            inner: Arc::new(Inner {
                http: self.clone(),
                base,
                account: config.account,
                auth: config.auth,
                budget: config.budget,
                retry: config.retry.unwrap_or_else(|| self.config.retry.clone()),
                jitter: config.jitter.unwrap_or_default(),
                counters: Counters::default(),
            }),
        })
    }
}

fn add_nanos(a: &AtomicU64, d: Duration) {
    a.fetch_add(
        u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
        Ordering::Relaxed,
    );
}

impl ApiClient {
    /// The vendor account id.
    pub fn account(&self) -> &str {
        &self.inner.account
    }

    /// The base URL.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The account's rate budget.
    pub fn budget(&self) -> &Arc<RateBudget> {
        &self.inner.budget
    }

    /// A snapshot of this client's counters.
    pub fn metrics(&self) -> ClientMetrics {
        let c = &self.inner.counters;
        ClientMetrics {
            requests: c.requests.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            responses_429: c.responses_429.load(Ordering::Relaxed),
            reauths: c.reauths.load(Ordering::Relaxed),
            failures: c.failures.load(Ordering::Relaxed),
            budget_wait: Duration::from_nanos(c.budget_wait_nanos.load(Ordering::Relaxed)),
            backoff: Duration::from_nanos(c.backoff_nanos.load(Ordering::Relaxed)),
        }
    }

    /// The full URL of a request: `target` appended to the base URL, or `target` itself when
    /// it is an absolute URL on the base URL's origin (credentials never go elsewhere).
    pub fn url_for(&self, target: &str, query: &[(String, String)]) -> Result<Url, HttpError> {
        let base = &self.inner.base;
        let mut url = if target.starts_with("http://") || target.starts_with("https://") {
            let u = Url::parse(target).map_err(|e| {
                HttpError::config_with(
                    format!("invalid URL {target:?} for account {}", self.inner.account),
                    e,
                )
            })?;
            if u.origin() != base.origin() {
                return Err(HttpError::config(format!(
                    "refusing to send credentials of account {} to {} (not on {})",
                    self.inner.account,
                    redact_url(&u),
                    redact_url(base)
                )));
            }
            u
        } else {
            let b = base.as_str().trim_end_matches('/');
            let sep = if target.starts_with('/') { "" } else { "/" };
            Url::parse(&format!("{b}{sep}{target}")).map_err(|e| {
                HttpError::config_with(
                    format!("invalid path {target:?} for account {}", self.inner.account),
                    e,
                )
            })?
        };
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// Sends `req`; any 2xx is success. Errors for every other status.
    pub async fn send(&self, req: ApiRequest) -> Result<ApiResponse, HttpError> {
        self.execute(req, |_| Ok(())).await.map(|(_, r)| r)
    }

    /// Sends `req` and decodes the JSON body; a malformed body of an idempotent request is
    /// fetched again.
    pub async fn send_json<T: DeserializeOwned>(&self, req: ApiRequest) -> Result<T, HttpError> {
        self.execute(req, |r| r.json::<T>()).await.map(|(t, _)| t)
    }

    /// `GET path?query` decoded as JSON.
    pub async fn get_json<T: DeserializeOwned, K: ToString, V: ToString>(
        &self,
        path: &str,
        query: &[(K, V)],
    ) -> Result<T, HttpError> {
        self.send_json(ApiRequest::get(path).query(query)).await
    }

    /// Sends `req`, and on a 2xx runs `decode` on the response inside the retry loop (so a
    /// retriable decode failure is retried like a 5xx). Returns the decoded value and the
    /// response.
    pub async fn execute<T, F>(
        &self,
        req: ApiRequest,
        decode: F,
    ) -> Result<(T, ApiResponse), HttpError>
    where
        F: Fn(&ApiResponse) -> Result<T, HttpError>,
    {
        let r = self.execute_inner(req, decode).await;
        if r.is_err() {
            self.inner.counters.failures.fetch_add(1, Ordering::Relaxed);
        }
        r
    }

    async fn execute_inner<T, F>(
        &self,
        req: ApiRequest,
        decode: F,
    ) -> Result<(T, ApiResponse), HttpError>
    where
        F: Fn(&ApiResponse) -> Result<T, HttpError>,
    {
        let inner = &*self.inner;
        let clock = &inner.http.clock;
        let policy = &inner.retry;
        let url = self.url_for(&req.target, &req.query)?;
        let shown = redact_url(&url);
        let method = req.method.clone();
        let idempotent = req.idempotent.unwrap_or_else(|| is_idempotent(&method));
        let path = url.path().to_string();
        let started = clock.now();
        let mut attempts: u32 = 0;
        let mut reauthed = false;
        loop {
            attempts += 1;
            let before = clock.now();
            let reservation = inner.budget.acquire(&method, &path).await;
            add_nanos(
                &inner.counters.budget_wait_nanos,
                crate::clock::until(before, clock.now()),
            );
            let cred = inner.auth.credential().await?;
            inner.counters.requests.fetch_add(1, Ordering::Relaxed);
            let sent = self.send_once(&req, &url, &cred).await;
            let mut rate_wait = None;
            let outcome = match sent {
                Err(e) => Err(e),
                Ok((status, headers, body)) => {
                    rate_wait = inner.budget.observe(&reservation, status, &headers);
                    tracing::debug!(account = %inner.account, %method, url = %shown, status = status.as_u16(), attempt = attempts, "response");
                    if status == StatusCode::UNAUTHORIZED {
                        if !reauthed && inner.auth.unauthorized(&cred).await? {
                            reauthed = true;
                            attempts -= 1;
                            inner.counters.reauths.fetch_add(1, Ordering::Relaxed);
                            tracing::info!(account = %inner.account, %method, url = %shown, "HTTP 401: re-authenticating once");
                            continue;
                        }
                        return Err(HttpError::Auth {
                            account: inner.account.clone(),
                            reason: if reauthed {
                                format!("{method} {shown} answered HTTP 401 again after re-authenticating")
                            } else {
                                format!("{method} {shown} answered HTTP 401: the credentials were refused")
                            },
                            source: None,
                        });
                    }
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        inner.counters.responses_429.fetch_add(1, Ordering::Relaxed);
                        let ra = crate::budget::RateHeaders::parse(&headers, clock.now())
                            .retry_after_secs
                            .map(Duration::from_secs);
                        Err(HttpError::RateLimited {
                            method: method.clone(),
                            url: shown.clone(),
                            account: inner.account.clone(),
                            retry_after: ra,
                        })
                    } else if !status.is_success() {
                        Err(HttpError::Status {
                            method: method.clone(),
                            url: shown.clone(),
                            status,
                            body: body_excerpt(&body),
                        })
                    } else {
                        let resp = ApiResponse {
                            status,
                            headers,
                            body,
                            url: url.clone(),
                            method: method.clone(),
                            attempts,
                        };
                        decode(&resp).map(|t| (t, resp))
                    }
                }
            };
            let err = match outcome {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if !err.is_retriable() {
                return Err(err);
            }
            if !idempotent {
                tracing::warn!(account = %inner.account, %method, url = %shown, error = %err, "not retried: the request is not idempotent");
                return Err(HttpError::NotRetried {
                    method,
                    url: shown,
                    source: Box::new(err),
                });
            }
            let now = clock.now();
            let elapsed = crate::clock::until(started, now);
            let exhausted = |err| HttpError::RetriesExhausted {
                method: method.clone(),
                url: shown.clone(),
                attempts,
                elapsed,
                source: Box::new(err),
            };
            if attempts >= policy.max_attempts {
                return Err(exhausted(err));
            }
            let is_429 = matches!(err, HttpError::RateLimited { .. });
            if is_429 {
                let wait = rate_wait.unwrap_or(Duration::ZERO);
                if wait > policy.max_rate_limit_wait {
                    return Err(exhausted(err));
                }
                inner.counters.retries.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(account = %inner.account, %method, url = %shown, wait_s = wait.as_secs_f64(), attempt = attempts, "HTTP 429: waiting for the rate limit to lift");
                if inner.budget.limit().is_none() {
                    // No window to wait on: wait here.
                    add_nanos(&inner.counters.budget_wait_nanos, wait);
                    clock.sleep(wait).await;
                }
                // Otherwise the budget has closed the window until then; acquire() waits.
            } else {
                let wait = inner.jitter.full(policy.cap(attempts));
                if elapsed + wait > policy.max_elapsed {
                    return Err(exhausted(err));
                }
                inner.counters.retries.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(account = %inner.account, %method, url = %shown, error = %err, wait_ms = wait.as_millis() as u64, attempt = attempts, "retrying");
                add_nanos(&inner.counters.backoff_nanos, wait);
                clock.sleep(wait).await;
            }
        }
    }

    async fn send_once(
        &self,
        req: &ApiRequest,
        url: &Url,
        cred: &crate::auth::Credential,
    ) -> Result<(StatusCode, HeaderMap, Vec<u8>), HttpError> {
        let mut b = self
            .inner
            .http
            .inner
            .request(req.method.clone(), url.clone());
        if !req.headers.contains_key(http::header::ACCEPT) {
            b = b.header(http::header::ACCEPT, "application/json");
        }
        if let Some(h) = &cred.header {
            b = b.header(http::header::AUTHORIZATION, h.clone());
        }
        match &req.body {
            Some(Body::Json(bytes)) => {
                if !req.headers.contains_key(http::header::CONTENT_TYPE) {
                    b = b.header(http::header::CONTENT_TYPE, "application/json");
                }
                b = b.body(bytes.clone());
            }
            Some(Body::Form(s)) => {
                b = b
                    .header(
                        http::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(s.clone());
            }
            None => {}
        }
        for (k, v) in &req.headers {
            b = b.header(k, v);
        }
        let resp = b
            .send()
            .await
            .map_err(|e| HttpError::from_reqwest(&req.method, url, e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .bytes()
            .await
            .map_err(|e| HttpError::from_reqwest(&req.method, url, e))?;
        Ok((status, headers, body.to_vec()))
    }
}
