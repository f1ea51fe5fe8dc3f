//! [`HttpError`]: every way a request made through this crate can fail, and whether a retry
//! could help ([`HttpError::is_retriable`]).
//!
//! Each variant names the request (method and URL, query secrets and user info stripped by
//! [`redact_url`]) or the vendor account, and keeps its cause with `#[source]`. No variant
//! holds a header, a request body or a token endpoint's response body; response bodies of API
//! calls appear only as a short excerpt.

use http::{Method, StatusCode};
use std::time::Duration;
use url::Url;

/// Maximum characters of a response body quoted in an error.
pub const BODY_EXCERPT_CHARS: usize = 300;

/// A failed HTTP call or HTTP-client setup.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The client configuration is unusable (bad CA bundle, bad base URL, …).
    #[error("HTTP client configuration: {what}")]
    Config {
        what: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// No connection, or it dropped before a full response arrived.
    #[error("{method} {url}: connection failed or dropped")]
    Transport {
        method: Method,
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The TLS handshake failed (untrusted certificate, name mismatch, …): not retried.
    /// An internal or self-signed CA goes into `HttpConfig::ca_bundle`.
    #[error("{method} {url}: TLS handshake failed (is the server's CA in ca_bundle?)")]
    Tls {
        method: Method,
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The connect or request timeout passed.
    #[error("{method} {url}: timed out")]
    Timeout {
        method: Method,
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// A non-success status other than 401 and 429.
    #[error("{method} {url}: HTTP {status}; body starts: {body:?}")]
    Status {
        method: Method,
        url: String,
        status: StatusCode,
        /// The first [`BODY_EXCERPT_CHARS`] characters of the body.
        body: String,
    },
    /// HTTP 429 (or a rate budget that cannot admit the request in time).
    #[error("{method} {url}: rate limited on account {account} (retry after {retry_after:?})")]
    RateLimited {
        method: Method,
        url: String,
        account: String,
        retry_after: Option<Duration>,
    },
    /// Credentials refused (401 after the one allowed re-authentication, 403 is `Status`),
    /// or no token could be obtained.
    #[error("authentication for account {account} failed: {reason}")]
    Auth {
        account: String,
        reason: String,
        #[source]
        source: Option<Box<HttpError>>,
    },
    /// The body is not the JSON expected (truncated by a flaky server, or a changed API).
    #[error("{method} {url}: response body is not the expected JSON; body starts: {body:?}")]
    Decode {
        method: Method,
        url: String,
        #[source]
        source: serde_json::Error,
        body: String,
    },
    /// The token store could not load or save OAuth tokens.
    #[error("OAuth token store, key {key}: {what}")]
    TokenStore {
        key: String,
        what: String,
        #[source]
        source: crate::store::TokenStoreError,
    },
    /// A retriable failure of a request that is not idempotent (POST, PATCH), so it was not
    /// sent again: it may or may not have taken effect.
    #[error("{method} {url} was not retried because {method} is not idempotent; it may or may not have taken effect")]
    NotRetried {
        method: Method,
        url: String,
        #[source]
        source: Box<HttpError>,
    },
    /// Retries ran out (attempts or elapsed time); the last failure is the source.
    #[error("{method} {url}: gave up after {attempts} attempts in {elapsed:?}")]
    RetriesExhausted {
        method: Method,
        url: String,
        attempts: u32,
        elapsed: Duration,
        #[source]
        source: Box<HttpError>,
    },
    /// A paginator met a response it cannot continue from.
    #[error("paginating {url}: {reason}")]
    Pagination { url: String, reason: String },
}

impl HttpError {
    /// Whether sending the same request again later could succeed: 429, 5xx, timeouts,
    /// dropped connections and malformed bodies. Never true for [`HttpError::NotRetried`].
    pub fn is_retriable(&self) -> bool {
        match self {
            HttpError::Transport { .. }
            | HttpError::Timeout { .. }
            | HttpError::RateLimited { .. }
            | HttpError::Decode { .. } => true,
            HttpError::Status { status, .. } => status.is_server_error(),
            HttpError::RetriesExhausted { source, .. } => source.is_retriable(),
            HttpError::Config { .. }
            | HttpError::Tls { .. }
            | HttpError::Auth { .. }
            | HttpError::TokenStore { .. }
            | HttpError::NotRetried { .. }
            | HttpError::Pagination { .. } => false,
        }
    }

    /// The HTTP status this error carries, looking through retry wrappers.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            HttpError::RateLimited { .. } => Some(StatusCode::TOO_MANY_REQUESTS),
            HttpError::RetriesExhausted { source, .. } | HttpError::NotRetried { source, .. } => {
                source.status()
            }
            _ => None,
        }
    }

    /// The `Retry-After` a 429 carried, looking through retry wrappers.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            HttpError::RateLimited { retry_after, .. } => *retry_after,
            HttpError::RetriesExhausted { source, .. } | HttpError::NotRetried { source, .. } => {
                source.retry_after()
            }
            _ => None,
        }
    }

    pub(crate) fn config(what: impl Into<String>) -> Self {
        HttpError::Config {
            what: what.into(),
            source: None,
        }
    }

    pub(crate) fn config_with(
        what: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        HttpError::Config {
            what: what.into(),
            source: Some(Box::new(source)),
        }
    }

    /// Classifies a reqwest failure; the reqwest error loses its URL (which may hold secrets).
    pub(crate) fn from_reqwest(method: &Method, url: &Url, e: reqwest::Error) -> Self {
        let url = redact_url(url);
        let method = method.clone();
        let source = e.without_url();
        if is_tls_failure(&source) {
            HttpError::Tls {
                method,
                url,
                source,
            }
        } else if source.is_timeout() {
            HttpError::Timeout {
                method,
                url,
                source,
            }
        } else {
            HttpError::Transport {
                method,
                url,
                source,
            }
        }
    }
}

/// Whether a rustls error is somewhere in the cause chain. `io::Error::source` skips the
/// error it wraps, so wrapped errors are looked into explicitly.
fn is_tls_failure(e: &reqwest::Error) -> bool {
    let mut todo: Vec<&(dyn std::error::Error + 'static)> = vec![e];
    let mut steps = 0;
    while let Some(err) = todo.pop() {
        steps += 1;
        if steps > 32 {
            break;
        }
        if err.is::<rustls::Error>() {
            return true;
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            todo.push(inner);
        }
        if let Some(next) = err.source() {
            todo.push(next);
        }
    }
    false
}

/// Query parameter names whose values are replaced by `REDACTED` in URLs shown in errors and
/// logs (compared case-insensitively, also as a suffix such as `scim_token`).
const SECRET_PARAMS: &[&str] = &[
    "token",
    "key",
    "apikey",
    "secret",
    "password",
    "code",
    "signature",
    "sig",
    "auth",
    "authorization",
    "assertion",
];

fn is_secret_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    SECRET_PARAMS
        .iter()
        .any(|s| n == *s || n.ends_with(&format!("_{s}")) || n.ends_with(s))
}

/// A URL safe to print: user info dropped, secret-looking query values replaced.
pub fn redact_url(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    if u.query().is_some() {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret_param(&k) {
                    "REDACTED".to_string()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
}

/// The first [`BODY_EXCERPT_CHARS`] characters of a body, lossily decoded.
pub fn body_excerpt(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(body);
    let mut out: String = s.chars().take(BODY_EXCERPT_CHARS).collect();
    if s.chars().count() > BODY_EXCERPT_CHARS {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_query_secrets_and_userinfo() {
        let u =
            Url::parse("https://k:pw@x.example/api?page=2&api_key=abc&access_token=t&per_page=5")
                .unwrap();
        let r = redact_url(&u);
        assert_eq!(
            r,
            "https://x.example/api?page=2&api_key=REDACTED&access_token=REDACTED&per_page=5"
        );
    }

    #[test]
    fn errors_cross_tasks() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<HttpError>();
    }

    #[test]
    fn retriable_classification() {
        let e = HttpError::Status {
            method: Method::GET,
            url: "u".into(),
            status: StatusCode::BAD_GATEWAY,
            body: String::new(),
        };
        assert!(e.is_retriable());
        let e = HttpError::Status {
            method: Method::GET,
            url: "u".into(),
            status: StatusCode::NOT_FOUND,
            body: String::new(),
        };
        assert!(!e.is_retriable());
        let e = HttpError::NotRetried {
            method: Method::POST,
            url: "u".into(),
            source: Box::new(HttpError::RateLimited {
                method: Method::POST,
                url: "u".into(),
                account: "a".into(),
                retry_after: None,
            }),
        };
        assert!(!e.is_retriable());
        assert_eq!(e.status(), Some(StatusCode::TOO_MANY_REQUESTS));
    }
}
