//! The FreshBooks OAuth grant as the API client uses it: `idgraph_http::AuthorizationCode`
//! (single-flight refreshes, every rotated token saved before use) plus two things it leaves
//! to the caller:
//!
//! - **Seeding.** On the first request, when the token store holds nothing for this grant, the
//!   configured `refresh_token` is written there as an already-expired token set, so the first
//!   request refreshes. Once the store holds tokens the configured one is never used again
//!   (it is spent).
//! - **Transient token-endpoint failures**: [`idgraph_http::RetryTokenRequests`] tries a
//!   refresh that failed in passing again (why that is never worse than giving up: there).

use idgraph_http::{
    Authenticator, AuthorizationCode, Credential, HttpError, RetryTokenRequests, Secret,
    SharedClock, TokenSet, TokenStore,
};
use std::sync::Arc;

/// [`AuthorizationCode`] with seeding and retries of transient token-endpoint failures.
#[derive(Debug)]
pub(crate) struct GrantAuth {
    inner: RetryTokenRequests<AuthorizationCode>,
    store: Arc<dyn TokenStore>,
    key: String,
    initial_refresh: Option<Secret>,
    seeded: tokio::sync::OnceCell<()>,
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
            inner: RetryTokenRequests::new(inner, clock, key.clone()),
            store,
            key,
            initial_refresh,
            seeded: tokio::sync::OnceCell::new(),
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
}

#[async_trait::async_trait]
impl Authenticator for GrantAuth {
    async fn credential(&self) -> Result<Credential, HttpError> {
        self.seed().await?;
        self.inner.credential().await
    }

    async fn unauthorized(&self, refused: &Credential) -> Result<bool, HttpError> {
        self.inner.unauthorized(refused).await
    }
}
