//! The FreshBooks OAuth grant as the API client uses it: `idgraph_http::AuthorizationCode`
//! (single-flight refreshes, every rotated token saved before use) plus two things it leaves
//! to the caller:
//!
//! - **Seeding.** On the first request, when the token store holds nothing for this grant, the
//!   configured `refresh_token` is written there as an already-expired token set, so the first
//!   request refreshes. Once the store holds tokens the configured one is never used again
//!   (it is spent).
//! - **Transient token-endpoint failures.** The HTTP crate never retries a token request. A
//!   refresh that failed with a 5xx, a 429 or a dropped connection left the in-memory tokens
//!   unchanged, so trying again sends the *same* refresh token: if the server had not
//!   processed it, that succeeds; if it had (and rotated it), the answer is `invalid_grant`,
//!   the lock-out that no client can prevent — never worse than giving up. A few attempts with
//!   exponential back-off and full jitter on the injected clock.

use idgraph_http::{
    Authenticator, AuthorizationCode, Credential, HttpError, Jitter, Secret, SharedClock, TokenSet,
    TokenStore,
};
use std::sync::Arc;
use std::time::Duration;

/// Token-endpoint attempts in all (first included).
const ATTEMPTS: u32 = 6;
const BASE_DELAY: Duration = Duration::from_millis(250);
const MAX_DELAY: Duration = Duration::from_secs(8);

/// Whether an authentication error is a token endpoint that failed in passing (5xx, 429,
/// connection dropped or timed out) rather than a refusal of the grant.
pub(crate) fn transient_token_failure(e: &HttpError) -> bool {
    match e {
        HttpError::Auth {
            source: Some(s), ..
        } => s.is_retriable(),
        // The HTTP crate keeps no source for an error status of the token endpoint; its
        // message names the status ("answered HTTP 503 Service Unavailable (…)").
        HttpError::Auth { reason, .. } => {
            reason.contains("answered HTTP 5") || reason.contains("answered HTTP 429")
        }
        _ => false,
    }
}

/// [`AuthorizationCode`] with seeding and retries of transient token-endpoint failures.
#[derive(Debug)]
pub(crate) struct GrantAuth {
    inner: AuthorizationCode,
    store: Arc<dyn TokenStore>,
    key: String,
    initial_refresh: Option<Secret>,
    seeded: tokio::sync::OnceCell<()>,
    clock: SharedClock,
    jitter: Jitter,
}

impl GrantAuth {
    pub(crate) fn new(
        inner: AuthorizationCode,
        store: Arc<dyn TokenStore>,
        key: String,
        initial_refresh: Option<Secret>,
        clock: SharedClock,
    ) -> Self {
        Self {
            inner,
            store,
            key,
            initial_refresh,
            seeded: tokio::sync::OnceCell::new(),
            clock,
            jitter: Jitter::from_entropy(),
        }
    }

    /// Writes the configured refresh token to an empty store entry, once per process.
    async fn seed(&self) -> Result<(), HttpError> {
        self.seeded
            .get_or_try_init(|| async {
                let Some(rt) = &self.initial_refresh else {
                    return Ok(());
                };
                let existing =
                    self.store
                        .load(&self.key)
                        .await
                        .map_err(|source| HttpError::TokenStore {
                            key: self.key.clone(),
                            what: "OAuth tokens could not be loaded".to_string(),
                            source,
                        })?;
                if existing.is_some() {
                    return Ok(());
                }
                let expired = TokenSet {
                    access_token: Secret::new(""),
                    refresh_token: Some(rt.clone()),
                    expires_at: Some(time::OffsetDateTime::UNIX_EPOCH),
                };
                self.store
                    .save(&self.key, &expired)
                    .await
                    .map_err(|source| HttpError::TokenStore {
                        key: self.key.clone(),
                        what: "the configured refresh token could not be saved to the token store"
                            .to_string(),
                        source,
                    })?;
                tracing::info!(key = %self.key, "FreshBooks: token store seeded with the configured refresh token");
                Ok(())
            })
            .await
            .map(|_| ())
    }

    async fn back_off(&self, attempt: u32, e: &HttpError) {
        let exp = attempt.saturating_sub(1).min(16);
        let cap = BASE_DELAY.saturating_mul(1u32 << exp).min(MAX_DELAY);
        let wait = self.jitter.full(cap);
        tracing::warn!(key = %self.key, error = %e, attempt, wait_ms = wait.as_millis() as u64, "FreshBooks: token endpoint failed in passing; trying again");
        self.clock.sleep(wait).await;
    }
}

#[async_trait::async_trait]
impl Authenticator for GrantAuth {
    async fn credential(&self) -> Result<Credential, HttpError> {
        self.seed().await?;
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
