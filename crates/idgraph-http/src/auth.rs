//! Authentication schemes: how a request gets its `Authorization` header, and what happens
//! after a 401.
//!
//! - [`StaticAuth`]: Basic with the API key as user and `X` as password (Freshservice,
//!   Freshdesk), `Token token=KEY` (Freshsales REST), `Bearer` (SCIM tokens).
//! - [`AuthorizationCode`]: OAuth 2.0 authorization code with single-use rotating refresh
//!   tokens (FreshBooks; Help Scout apps acting for a person). Refreshes are single-flight
//!   (one at a time per grant; concurrent requests wait and use its result) and the new
//!   tokens are saved to the [`TokenStore`] *before* the new access token is used. If the
//!   save fails the request fails with [`HttpError::TokenStore`]; the new tokens stay in
//!   memory and the save is retried before the next request, so the old (burnt) refresh token
//!   is never sent again.
//! - [`ClientCredentials`]: OAuth 2.0 client credentials (Help Scout); the token is cached in
//!   the store across runs and reused until `expiry_margin` before it expires.
//!
//! Token endpoints get form-encoded bodies. Their response bodies are never logged or quoted
//! in errors: only the OAuth `error` code is.

use crate::clock::SharedClock;
use crate::config::HttpClient;
use crate::error::{redact_url, HttpError};
use crate::secret::Secret;
use crate::store::{TokenSet, TokenStore};
use async_trait::async_trait;
use base64::Engine;
use http::{HeaderValue, Method};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// The `Authorization` header of one request, plus which generation of credentials it is
/// (to tell a 401 for stale credentials from one for fresh credentials).
#[derive(Debug, Clone)]
pub struct Credential {
    /// Marked sensitive: its `Debug` prints `Sensitive`.
    pub header: Option<HeaderValue>,
    pub generation: u64,
}

/// An authentication scheme.
#[async_trait]
pub trait Authenticator: Send + Sync + std::fmt::Debug {
    /// The credential for the next request (may fetch or refresh a token).
    async fn credential(&self) -> Result<Credential, HttpError>;

    /// The server answered 401 to `refused`. Returns `Ok(true)` when new credentials are
    /// available and the request may be sent once more, `Ok(false)` when nothing can change.
    async fn unauthorized(&self, refused: &Credential) -> Result<bool, HttpError>;
}

fn sensitive(value: &str, account: &str) -> Result<HeaderValue, HttpError> {
    let mut v = HeaderValue::from_str(value).map_err(|_| HttpError::Auth {
        account: account.to_string(),
        reason: "the credential holds characters not allowed in an HTTP header".to_string(),
        source: None,
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// A fixed header: API keys and long-lived bearer tokens.
#[derive(Debug, Clone)]
pub struct StaticAuth {
    header: Option<HeaderValue>,
}

impl StaticAuth {
    /// `Authorization: Basic base64(KEY:X)` (Freshservice, Freshdesk).
    pub fn basic_api_key(api_key: &Secret, account: &str) -> Result<Self, HttpError> {
        Self::basic(api_key, &Secret::new("X"), account)
    }

    /// `Authorization: Basic base64(user:password)`.
    pub fn basic(user: &Secret, password: &Secret, account: &str) -> Result<Self, HttpError> {
        let raw = format!("{}:{}", user.expose(), password.expose());
        let enc = base64::engine::general_purpose::STANDARD.encode(raw.as_bytes());
        Ok(Self {
            header: Some(sensitive(&format!("Basic {enc}"), account)?),
        })
    }

    /// `Authorization: Token token=KEY` (Freshsales REST).
    pub fn token(api_key: &Secret, account: &str) -> Result<Self, HttpError> {
        Ok(Self {
            header: Some(sensitive(
                &format!("Token token={}", api_key.expose()),
                account,
            )?),
        })
    }

    /// `Authorization: Bearer TOKEN` (SCIM tokens).
    pub fn bearer(token: &Secret, account: &str) -> Result<Self, HttpError> {
        Ok(Self {
            header: Some(sensitive(&format!("Bearer {}", token.expose()), account)?),
        })
    }

    /// No `Authorization` header.
    pub fn none() -> Self {
        Self { header: None }
    }
}

#[async_trait]
impl Authenticator for StaticAuth {
    async fn credential(&self) -> Result<Credential, HttpError> {
        Ok(Credential {
            header: self.header.clone(),
            generation: 0,
        })
    }

    async fn unauthorized(&self, _refused: &Credential) -> Result<bool, HttpError> {
        Ok(false)
    }
}

/// An OAuth 2.0 client: token endpoint and client credentials.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    pub token_url: Url,
    pub client_id: String,
    pub client_secret: Secret,
}

impl OAuthClient {
    /// A client of `token_url`.
    pub fn new(
        token_url: &str,
        client_id: impl Into<String>,
        client_secret: Secret,
    ) -> Result<Self, HttpError> {
        let token_url = Url::parse(token_url).map_err(|e| {
            HttpError::config_with(format!("invalid OAuth token URL {token_url:?}"), e)
        })?;
        Ok(Self {
            token_url,
            client_id: client_id.into(),
            client_secret,
        })
    }
}

/// What an OAuth grant needs besides its tokens: the HTTP client, the store, the key.
#[derive(Debug, Clone)]
struct Grant {
    http: reqwest::Client,
    clock: SharedClock,
    oauth: OAuthClient,
    store: Arc<dyn TokenStore>,
    key: String,
    margin: Duration,
    token_requests: Arc<AtomicU64>,
}

/// The OAuth `error` code of a failed token response, reduced to safe characters.
fn oauth_error_code(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let code = v.get("error")?.as_str()?;
    Some(
        code.chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .take(40)
            .collect(),
    )
}

impl Grant {
    fn auth_err(&self, reason: String, source: Option<HttpError>) -> HttpError {
        HttpError::Auth {
            account: self.key.clone(),
            reason,
            source: source.map(Box::new),
        }
    }

    fn expiring(&self, t: &TokenSet) -> bool {
        match t.expires_at {
            Some(exp) => self.clock.now() + self.margin >= exp,
            None => false,
        }
    }

    /// POSTs a form to the token endpoint; never retried (a refresh token may be burnt).
    async fn token_request(&self, form: &[(&str, &str)]) -> Result<TokenSet, HttpError> {
        let url = &self.oauth.token_url;
        let shown = redact_url(url);
        self.token_requests.fetch_add(1, Ordering::Relaxed);
        let grant_type = form
            .iter()
            .find(|(k, _)| *k == "grant_type")
            .map(|(_, v)| *v)
            .unwrap_or("?")
            .to_string();
        tracing::debug!(key = %self.key, url = %shown, grant_type = %grant_type, "OAuth token request");
        let body = serde_urlencoded::to_string(form)
            .map_err(|e| HttpError::config_with("cannot encode the token request form", e))?;
        let resp = self
            .http
            .post(url.clone())
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| {
                self.auth_err(
                    format!("token endpoint {shown} could not be reached ({grant_type})"),
                    Some(HttpError::from_reqwest(&Method::POST, url, e)),
                )
            })?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| {
            self.auth_err(
                format!("token endpoint {shown} response was cut off ({grant_type})"),
                Some(HttpError::from_reqwest(&Method::POST, url, e)),
            )
        })?;
        if !status.is_success() {
            let code = oauth_error_code(&bytes).unwrap_or_else(|| "no OAuth error code".into());
            let hint = if grant_type == "refresh_token" && code == "invalid_grant" {
                "; the refresh token was refused (used before, revoked or expired): authorize the integration again"
            } else {
                ""
            };
            return Err(self.auth_err(
                format!("token endpoint {shown} answered HTTP {status} ({code}) to a {grant_type} request{hint}"),
                None,
            ));
        }
        // Parsed by hand from a Value: serde's typed errors could quote a token.
        let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| {
            self.auth_err(
                format!("token endpoint {shown} answered {status} with a body that is not JSON"),
                None,
            )
        })?;
        let access = v
            .get("access_token")
            .and_then(|x| x.as_str())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                self.auth_err(
                    format!("token endpoint {shown} answered without an access_token"),
                    None,
                )
            })?;
        let refresh = v
            .get("refresh_token")
            .and_then(|x| x.as_str())
            .filter(|s| !s.is_empty())
            .map(Secret::new);
        let expires_in = v.get("expires_in").and_then(|x| {
            x.as_u64()
                .or_else(|| x.as_str().and_then(|s| s.trim().parse::<u64>().ok()))
        });
        Ok(TokenSet {
            access_token: Secret::new(access),
            refresh_token: refresh,
            expires_at: expires_in.map(|s| self.clock.now() + Duration::from_secs(s)),
        })
    }

    fn bearer(&self, t: &TokenSet, generation: u64) -> Result<Credential, HttpError> {
        Ok(Credential {
            header: Some(sensitive(
                &format!("Bearer {}", t.access_token.expose()),
                &self.key,
            )?),
            generation,
        })
    }
}

#[derive(Debug, Default)]
struct GrantState {
    loaded: bool,
    tokens: Option<TokenSet>,
    generation: u64,
    /// Tokens obtained but not yet saved (a failed save).
    unsaved: bool,
}

/// Builder-style options shared by the OAuth schemes.
#[derive(Debug, Clone)]
pub struct OAuthOptions {
    /// Store key, e.g. `freshbooks:<account>`; also names the account in errors.
    pub key: String,
    /// Refresh or re-authenticate this long before the access token expires.
    pub expiry_margin: Duration,
    /// `redirect_uri` sent with authorization-code requests, if the vendor wants it.
    pub redirect_uri: Option<String>,
    /// `scope` sent with client-credentials requests.
    pub scope: Option<String>,
}

impl OAuthOptions {
    /// Options with a 5-minute expiry margin.
    pub fn new(key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            expiry_margin: Duration::from_secs(300),
            redirect_uri: None,
            scope: None,
        }
    }

    pub fn expiry_margin(mut self, d: Duration) -> Self {
        self.expiry_margin = d;
        self
    }

    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }
}

/// OAuth 2.0 authorization code grant with rotating refresh tokens.
#[derive(Debug)]
pub struct AuthorizationCode {
    grant: Grant,
    redirect_uri: Option<String>,
    state: tokio::sync::Mutex<GrantState>,
}

impl AuthorizationCode {
    /// A grant whose tokens live in `store` under `opts.key`.
    pub fn new(
        http: &HttpClient,
        oauth: OAuthClient,
        store: Arc<dyn TokenStore>,
        opts: OAuthOptions,
    ) -> Self {
        Self {
            grant: Grant {
                http: http.inner.clone(),
                clock: http.clock.clone(),
                oauth,
                store,
                key: opts.key,
                margin: opts.expiry_margin,
                token_requests: Arc::new(AtomicU64::new(0)),
            },
            redirect_uri: opts.redirect_uri,
            state: tokio::sync::Mutex::new(GrantState::default()),
        }
    }

    /// Token endpoint calls made so far (code exchanges and refreshes).
    pub fn token_requests(&self) -> u64 {
        self.grant.token_requests.load(Ordering::Relaxed)
    }

    /// Exchanges an authorization code for tokens and saves them.
    pub async fn exchange_code(&self, code: &Secret) -> Result<(), HttpError> {
        let mut st = self.state.lock().await;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.expose()),
            ("client_id", self.grant.oauth.client_id.as_str()),
            ("client_secret", self.grant.oauth.client_secret.expose()),
        ];
        if let Some(r) = &self.redirect_uri {
            form.push(("redirect_uri", r.as_str()));
        }
        let tokens = self.grant.token_request(&form).await?;
        self.install(&mut st, tokens).await
    }

    /// Makes `tokens` current, then saves them; the old refresh token is forgotten first so
    /// it can never be sent again, even when the save fails.
    async fn install(&self, st: &mut GrantState, tokens: TokenSet) -> Result<(), HttpError> {
        st.tokens = Some(tokens);
        st.loaded = true;
        st.generation += 1;
        st.unsaved = true;
        self.save_pending(st).await
    }

    async fn save_pending(&self, st: &mut GrantState) -> Result<(), HttpError> {
        if !st.unsaved {
            return Ok(());
        }
        let Some(t) = &st.tokens else {
            return Ok(());
        };
        self.grant
            .store
            .save(&self.grant.key, t)
            .await
            .map_err(|source| HttpError::TokenStore {
                key: self.grant.key.clone(),
                what: "new OAuth tokens could not be saved, so they are not used; they are kept in memory and saving is tried again before the next request (the previous refresh token is already spent)".to_string(),
                source,
            })?;
        st.unsaved = false;
        tracing::info!(key = %self.grant.key, "saved rotated OAuth tokens");
        Ok(())
    }

    async fn refresh(&self, st: &mut GrantState) -> Result<(), HttpError> {
        let Some(old) = st.tokens.clone() else {
            return Err(self.grant.auth_err(
                "no OAuth tokens stored; complete the authorization-code flow first".into(),
                None,
            ));
        };
        let Some(rt) = old.refresh_token.clone() else {
            return Err(self.grant.auth_err(
                "the access token expired and there is no refresh token; authorize again".into(),
                None,
            ));
        };
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", rt.expose()),
            ("client_id", self.grant.oauth.client_id.as_str()),
            ("client_secret", self.grant.oauth.client_secret.expose()),
        ];
        if let Some(r) = &self.redirect_uri {
            form.push(("redirect_uri", r.as_str()));
        }
        let mut new = self.grant.token_request(&form).await?;
        if new.refresh_token.is_none() {
            // RFC 6749 §6: no new refresh token means the old one stays valid.
            new.refresh_token = Some(rt);
        }
        self.install(st, new).await
    }

    async fn load(&self, st: &mut GrantState) -> Result<(), HttpError> {
        if st.loaded {
            return Ok(());
        }
        let t = self
            .grant
            .store
            .load(&self.grant.key)
            .await
            .map_err(|source| HttpError::TokenStore {
                key: self.grant.key.clone(),
                what: "OAuth tokens could not be loaded".to_string(),
                source,
            })?;
        st.tokens = t;
        st.loaded = true;
        st.generation += 1;
        Ok(())
    }
}

#[async_trait]
impl Authenticator for AuthorizationCode {
    async fn credential(&self) -> Result<Credential, HttpError> {
        // Held across a refresh: the single flight.
        let mut st = self.state.lock().await;
        self.save_pending(&mut st).await?;
        self.load(&mut st).await?;
        let needs_refresh = match &st.tokens {
            None => {
                return Err(self.grant.auth_err(
                    "no OAuth tokens stored; complete the authorization-code flow first".into(),
                    None,
                ))
            }
            Some(t) => self.grant.expiring(t),
        };
        if needs_refresh {
            self.refresh(&mut st).await?;
        }
        match &st.tokens {
            Some(t) => self.grant.bearer(t, st.generation),
            None => Err(self.grant.auth_err("no OAuth tokens".into(), None)),
        }
    }

    async fn unauthorized(&self, refused: &Credential) -> Result<bool, HttpError> {
        let mut st = self.state.lock().await;
        if st.generation != refused.generation {
            // Someone refreshed since: try the newer token.
            return Ok(true);
        }
        self.save_pending(&mut st).await?;
        self.refresh(&mut st).await?;
        Ok(true)
    }
}

/// OAuth 2.0 client credentials grant, the token cached in the store across runs.
#[derive(Debug)]
pub struct ClientCredentials {
    grant: Grant,
    scope: Option<String>,
    state: tokio::sync::Mutex<GrantState>,
}

impl ClientCredentials {
    /// A grant whose token is cached in `store` under `opts.key`.
    pub fn new(
        http: &HttpClient,
        oauth: OAuthClient,
        store: Arc<dyn TokenStore>,
        opts: OAuthOptions,
    ) -> Self {
        Self {
            grant: Grant {
                http: http.inner.clone(),
                clock: http.clock.clone(),
                oauth,
                store,
                key: opts.key,
                margin: opts.expiry_margin,
                token_requests: Arc::new(AtomicU64::new(0)),
            },
            scope: opts.scope,
            state: tokio::sync::Mutex::new(GrantState::default()),
        }
    }

    /// Token endpoint calls made so far.
    pub fn token_requests(&self) -> u64 {
        self.grant.token_requests.load(Ordering::Relaxed)
    }

    async fn authenticate(&self, st: &mut GrantState) -> Result<(), HttpError> {
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", self.grant.oauth.client_id.as_str()),
            ("client_secret", self.grant.oauth.client_secret.expose()),
        ];
        if let Some(s) = &self.scope {
            form.push(("scope", s.as_str()));
        }
        let t = self.grant.token_request(&form).await?;
        // A lost cached token costs one more token request next run, never a lock-out.
        if let Err(e) = self.grant.store.save(&self.grant.key, &t).await {
            tracing::warn!(key = %self.grant.key, error = %e, "could not cache the OAuth token");
        }
        st.tokens = Some(t);
        st.generation += 1;
        Ok(())
    }
}

#[async_trait]
impl Authenticator for ClientCredentials {
    async fn credential(&self) -> Result<Credential, HttpError> {
        let mut st = self.state.lock().await;
        if !st.loaded {
            st.loaded = true;
            match self.grant.store.load(&self.grant.key).await {
                Ok(t) => st.tokens = t,
                Err(e) => {
                    tracing::warn!(key = %self.grant.key, error = %e, "could not read the cached OAuth token; fetching a new one");
                }
            }
            st.generation += 1;
        }
        let fresh = st.tokens.as_ref().is_some_and(|t| !self.grant.expiring(t));
        if !fresh {
            self.authenticate(&mut st).await?;
        }
        match &st.tokens {
            Some(t) => self.grant.bearer(t, st.generation),
            None => Err(self.grant.auth_err("no OAuth token".into(), None)),
        }
    }

    async fn unauthorized(&self, refused: &Credential) -> Result<bool, HttpError> {
        let mut st = self.state.lock().await;
        if st.generation != refused.generation {
            return Ok(true);
        }
        self.authenticate(&mut st).await?;
        Ok(true)
    }
}

/// Whether an authentication error is a token endpoint that failed in passing (a 5xx, a 429,
/// a dropped or timed-out connection, a body cut off) rather than a refusal of the grant or
/// the client (`invalid_grant`, `invalid_client` and other 4xx are final).
pub fn transient_token_failure(e: &HttpError) -> bool {
    match e {
        HttpError::Auth {
            source: Some(s), ..
        } => s.is_retriable(),
        // A token endpoint's error status or unreadable body keeps no source (its body is never
        // quoted); the messages above, made in this file, say which.
        HttpError::Auth { reason, .. } => {
            reason.contains("answered HTTP 5")
                || reason.contains("answered HTTP 429")
                || reason.contains("body that is not JSON")
        }
        _ => false,
    }
}

/// Token-endpoint attempts in all (the first included), and the back-off between them.
const TOKEN_ATTEMPTS: u32 = 6;
const TOKEN_BASE_DELAY: Duration = Duration::from_millis(250);
const TOKEN_MAX_DELAY: Duration = Duration::from_secs(8);

/// An OAuth grant whose token requests are tried again, with exponential back-off and full
/// jitter on the injected clock, when they fail in passing ([`transient_token_failure`]).
///
/// The grants themselves never retry a token request, for the sake of single-use refresh
/// tokens: a failed refresh leaves the in-memory tokens unchanged, so trying again sends the
/// *same* refresh token. If the server had not processed it, that succeeds; if it had (and
/// rotated it), the answer is `invalid_grant` — the lock-out no client can prevent, and never
/// worse than giving up, which would send that same token on the next run. A
/// client-credentials request holds no such token, so asking again is always safe.
#[derive(Debug)]
pub struct RetryTokenRequests<A> {
    inner: A,
    clock: SharedClock,
    jitter: crate::retry::Jitter,
    /// The account, for the log line of each retry.
    key: String,
}

impl<A: Authenticator> RetryTokenRequests<A> {
    pub fn new(inner: A, clock: SharedClock, key: impl Into<String>) -> Self {
        Self {
            inner,
            clock,
            jitter: crate::retry::Jitter::from_entropy(),
            key: key.into(),
        }
    }

    /// Seeded jitter, for tests that replay the same waits.
    pub fn with_jitter(mut self, jitter: crate::retry::Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    async fn back_off(&self, attempt: u32, e: &HttpError) {
        let exp = attempt.saturating_sub(1).min(16);
        let cap = TOKEN_BASE_DELAY
            .saturating_mul(1u32 << exp)
            .min(TOKEN_MAX_DELAY);
        let wait = self.jitter.full(cap);
        tracing::warn!(key = %self.key, error = %e, attempt, wait_ms = wait.as_millis() as u64, "token endpoint failed in passing; trying again");
        self.clock.sleep(wait).await;
    }
}

#[async_trait]
impl<A: Authenticator> Authenticator for RetryTokenRequests<A> {
    async fn credential(&self) -> Result<Credential, HttpError> {
        let mut attempt = 1;
        loop {
            match self.inner.credential().await {
                Err(e) if attempt < TOKEN_ATTEMPTS && transient_token_failure(&e) => {
                    self.back_off(attempt, &e).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn unauthorized(&self, refused: &Credential) -> Result<bool, HttpError> {
        let mut attempt = 1;
        loop {
            match self.inner.unauthorized(refused).await {
                Err(e) if attempt < TOKEN_ATTEMPTS && transient_token_failure(&e) => {
                    self.back_off(attempt, &e).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::sync::Mutex;
    use time::OffsetDateTime;

    fn auth(reason: &str) -> HttpError {
        HttpError::Auth {
            account: "acct".into(),
            reason: reason.into(),
            source: None,
        }
    }

    #[test]
    fn transient_token_failures_are_told_from_refusals() {
        assert!(transient_token_failure(&auth(
            "token endpoint https://x/auth/oauth/token answered HTTP 503 Service Unavailable (no OAuth error code) to a refresh_token request"
        )));
        assert!(transient_token_failure(&auth(
            "token endpoint https://x answered HTTP 429 Too Many Requests (rate_limit_exceeded) to a refresh_token request"
        )));
        assert!(transient_token_failure(&auth(
            "token endpoint https://x answered 200 OK with a body that is not JSON"
        )));
        assert!(!transient_token_failure(&auth(
            "token endpoint https://x answered HTTP 400 Bad Request (invalid_grant) to a refresh_token request; the refresh token was refused"
        )));
        assert!(!transient_token_failure(&auth(
            "token endpoint https://x answered HTTP 401 Unauthorized (invalid_client) to a client_credentials request"
        )));
    }

    /// Fails with the queued errors, then succeeds.
    #[derive(Debug, Default)]
    struct Flaky {
        errors: Mutex<Vec<HttpError>>,
        calls: AtomicU64,
    }

    #[async_trait]
    impl Authenticator for Flaky {
        async fn credential(&self) -> Result<Credential, HttpError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            match self.errors.lock().map(|mut e| e.pop()) {
                Ok(Some(e)) => Err(e),
                _ => Ok(Credential {
                    header: None,
                    generation: 1,
                }),
            }
        }
        async fn unauthorized(&self, _: &Credential) -> Result<bool, HttpError> {
            self.credential().await.map(|_| true)
        }
    }

    fn flaky(errors: Vec<HttpError>) -> Flaky {
        Flaky {
            errors: Mutex::new(errors),
            calls: AtomicU64::new(0),
        }
    }

    #[tokio::test]
    async fn failures_in_passing_are_tried_again_with_back_off() {
        let clock = ManualClock::new(OffsetDateTime::UNIX_EPOCH);
        let a = RetryTokenRequests::new(
            flaky(vec![
                auth("token endpoint t answered HTTP 502 Bad Gateway (no OAuth error code) to a refresh_token request"),
                auth("token endpoint t answered HTTP 429 Too Many Requests (no OAuth error code) to a refresh_token request"),
            ]),
            clock.shared(),
            "acct",
        )
        .with_jitter(crate::retry::Jitter::seeded(1));
        assert!(a.credential().await.is_ok());
        assert_eq!(a.inner.calls.load(Ordering::SeqCst), 3);
        let sleeps = clock.sleeps();
        assert_eq!(sleeps.len(), 2, "one wait before each new attempt");
        assert!(sleeps[0] <= TOKEN_BASE_DELAY && sleeps[1] <= TOKEN_BASE_DELAY * 2);
    }

    #[tokio::test]
    async fn refusals_are_final_and_attempts_are_bounded() {
        let clock = ManualClock::new(OffsetDateTime::UNIX_EPOCH);
        let refused = RetryTokenRequests::new(
            flaky(vec![auth(
                "token endpoint t answered HTTP 400 Bad Request (invalid_grant) to a refresh_token request",
            )]),
            clock.shared(),
            "acct",
        );
        assert!(refused.credential().await.is_err());
        assert_eq!(refused.inner.calls.load(Ordering::SeqCst), 1);

        let down = RetryTokenRequests::new(
            flaky(
                (0..10)
                    .map(|_| auth("token endpoint t answered HTTP 503 Service Unavailable (x) to a client_credentials request"))
                    .collect(),
            ),
            clock.shared(),
            "acct",
        );
        assert!(down
            .unauthorized(&Credential {
                header: None,
                generation: 1
            })
            .await
            .is_err());
        assert_eq!(
            down.inner.calls.load(Ordering::SeqCst),
            u64::from(TOKEN_ATTEMPTS)
        );
    }
}
