//! [`Secret`]: how every credential is held (API keys, bearer tokens, client secrets,
//! OAuth access and refresh tokens).
//!
//! A `Secret` wraps [`secrecy::SecretString`] (zeroed on drop). Its `Debug` and `Display` print
//! `**REDACTED**`, it has no `Serialize`, and reading the value takes an explicit
//! [`Secret::expose`], so a secret reaches a log line or an error message only by a visible
//! mistake. It deserializes from a plain string so connector configs can hold one.

use secrecy::{ExposeSecret, SecretString};
use std::fmt;

/// A credential value that never prints.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Whether the value is empty (a missing credential).
    pub fn is_empty(&self) -> bool {
        self.0.expose_secret().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("**REDACTED**")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("**REDACTED**")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

/// Constant-time-ish equality is not needed here (no remote comparison); plain equality lets
/// tests and token bookkeeping compare secrets without exposing them.
impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Secret {}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s}"), "**REDACTED**");
        assert_eq!(format!("{s:?}"), "**REDACTED**");
        assert_eq!(format!("{:?}", Some(s.clone())), "Some(**REDACTED**)");
        assert_eq!(s.expose(), "hunter2");
    }
}
