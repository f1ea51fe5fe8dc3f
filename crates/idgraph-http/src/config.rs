//! [`HttpConfig`] and [`HttpClient`]: the one `reqwest::Client` of the process, built with
//! rustls, timeouts, a User-Agent and optionally extra root certificates from a PEM bundle
//! (a corporate TLS-inspecting proxy, or the simulators' self-signed CA).
//!
//! Connectors never build a `reqwest::Client`; they get an [`crate::ApiClient`] per vendor
//! account from [`HttpClient::api`].

use crate::clock::SharedClock;
use crate::error::HttpError;
use crate::retry::RetryPolicy;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// Default User-Agent: crate name and version.
pub const DEFAULT_USER_AGENT: &str = concat!("idgraph/", env!("CARGO_PKG_VERSION"));

/// Settings of the shared HTTP client. Durations are given in seconds in config files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// TCP + TLS connect timeout, seconds (default 10).
    #[serde(with = "secs")]
    pub connect_timeout: Duration,
    /// Whole-request timeout including reading the body, seconds (default 60).
    #[serde(with = "secs")]
    pub request_timeout: Duration,
    /// PEM file whose certificates are trusted in addition to the built-in roots.
    pub ca_bundle: Option<PathBuf>,
    /// Trust the built-in (webpki) roots (default true). False with `ca_bundle` pins to it.
    pub builtin_roots: bool,
    /// User-Agent header (default `idgraph/<version>`).
    pub user_agent: String,
    /// Idle pooled connections kept per host (default 8).
    pub pool_max_idle_per_host: usize,
    /// Default retry policy of API clients made from this client.
    pub retry: RetryPolicy,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            ca_bundle: None,
            builtin_roots: true,
            user_agent: DEFAULT_USER_AGENT.to_string(),
            pool_max_idle_per_host: 8,
            retry: RetryPolicy::default(),
        }
    }
}

pub(crate) mod secs {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let f = f64::deserialize(d)?;
        Duration::try_from_secs_f64(f).map_err(serde::de::Error::custom)
    }
}

/// The process-wide HTTP client: a `reqwest::Client` plus the clock. Cheap to clone.
#[derive(Clone, Debug)]
pub struct HttpClient {
    pub(crate) inner: reqwest::Client,
    pub(crate) clock: SharedClock,
    pub(crate) config: HttpConfig,
}

impl HttpClient {
    /// Builds the client; fails when the CA bundle cannot be read or parsed.
    pub fn new(config: HttpConfig, clock: SharedClock) -> Result<Self, HttpError> {
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(config.user_agent.clone())
            .pool_max_idle_per_host(config.pool_max_idle_per_host)
            .tls_built_in_root_certs(config.builtin_roots)
            // Never follow redirects silently: a redirect to another host would carry the
            // Authorization header's intent elsewhere; connectors see 3xx as a Status error.
            .redirect(reqwest::redirect::Policy::none());
        if let Some(path) = &config.ca_bundle {
            let pem = std::fs::read(path).map_err(|e| {
                HttpError::config_with(format!("cannot read CA bundle {}", path.display()), e)
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                HttpError::config_with(
                    format!(
                        "CA bundle {} is not a PEM certificate bundle",
                        path.display()
                    ),
                    e,
                )
            })?;
            if certs.is_empty() {
                return Err(HttpError::config(format!(
                    "CA bundle {} holds no certificate",
                    path.display()
                )));
            }
            for c in certs {
                b = b.add_root_certificate(c);
            }
        } else if !config.builtin_roots {
            return Err(HttpError::config(
                "builtin_roots = false needs a ca_bundle, or no server could be trusted",
            ));
        }
        let inner = b
            .build()
            .map_err(|e| HttpError::config_with("cannot build the HTTP client", e))?;
        Ok(Self {
            inner,
            clock,
            config,
        })
    }

    /// The clock requests wait on.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The configuration this client was built from.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_deserializes_with_defaults_and_rejects_unknown_keys() {
        let c: HttpConfig = serde_json::from_value(serde_json::json!({
            "request_timeout": 5,
            "retry": { "max_attempts": 2, "base_delay": 0.25 }
        }))
        .unwrap();
        assert_eq!(c.request_timeout, Duration::from_secs(5));
        assert_eq!(c.connect_timeout, Duration::from_secs(10));
        assert_eq!(c.retry.max_attempts, 2);
        assert_eq!(c.retry.base_delay, Duration::from_millis(250));
        assert_eq!(c.retry.max_delay, Duration::from_secs(30));
        assert!(c.user_agent.starts_with("idgraph/"));
        let e = serde_json::from_value::<HttpConfig>(serde_json::json!({"timeout": 5}));
        assert!(e.is_err());
    }
}
