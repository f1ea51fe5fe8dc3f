//! Help Scout's OAuth client credentials as the API client uses them:
//! `idgraph_http::ClientCredentials` (token cached in the token store across runs until shortly
//! before its 48-hour expiry, one re-authentication after a 401) plus retries of a token
//! request that failed in passing. The HTTP crate never retries a token request (for the sake
//! of single-use refresh tokens); a client-credentials request holds no such token, so asking
//! again after a 5xx, a 429, a dropped connection or a cut-off body is always safe.

use idgraph_http::{Authenticator, ClientCredentials, Credential, HttpError, Jitter, SharedClock};
use std::time::Duration;

/// Token-endpoint attempts in all (first included).
const ATTEMPTS: u32 = 6;
const BASE_DELAY: Duration = Duration::from_millis(250);
const MAX_DELAY: Duration = Duration::from_secs(8);

/// Whether an authentication error is a token endpoint that failed in passing rather than a
/// refusal of the client (`invalid_client` and other 4xx are final).
pub(crate) fn transient_token_failure(e: &HttpError) -> bool {
    match e {
        HttpError::Auth {
            source: Some(s), ..
        } => s.is_retriable(),
        // The HTTP crate keeps no source for an error status or an unreadable body of the
        // token endpoint; its message says which.
        HttpError::Auth { reason, .. } => {
            reason.contains("answered HTTP 5")
                || reason.contains("answered HTTP 429")
                || reason.contains("body that is not JSON")
        }
        _ => false,
    }
}

/// [`ClientCredentials`] that tries a failed token request again, with back-off.
#[derive(Debug)]
pub(crate) struct RetryingClientCredentials {
    inner: ClientCredentials,
    clock: SharedClock,
    jitter: Jitter,
    key: String,
}

impl RetryingClientCredentials {
    pub(crate) fn new(inner: ClientCredentials, clock: SharedClock, key: String) -> Self {
        Self {
            inner,
            clock,
            jitter: Jitter::from_entropy(),
            key,
        }
    }

    async fn back_off(&self, attempt: u32, e: &HttpError) {
        let exp = attempt.saturating_sub(1).min(16);
        let cap = BASE_DELAY.saturating_mul(1u32 << exp).min(MAX_DELAY);
        let wait = self.jitter.full(cap);
        tracing::warn!(key = %self.key, error = %e, attempt, wait_ms = wait.as_millis() as u64, "Help Scout: token endpoint failed in passing; trying again");
        self.clock.sleep(wait).await;
    }
}

#[async_trait::async_trait]
impl Authenticator for RetryingClientCredentials {
    async fn credential(&self) -> Result<Credential, HttpError> {
        let mut attempt = 1;
        loop {
            match self.inner.credential().await {
                Err(e) if attempt < ATTEMPTS && transient_token_failure(&e) => {
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
                Err(e) if attempt < ATTEMPTS && transient_token_failure(&e) => {
                    self.back_off(attempt, &e).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}
