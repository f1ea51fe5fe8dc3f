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

/// Deserializes from a string, or from an integer taken as its decimal digits (configuration
/// layers such as environment variables may have read an all-digit key as a number).
/// Errors never quote the value.
impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Secret;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a secret string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Secret, E> {
                Ok(Secret::new(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Secret, E> {
                Ok(Secret::new(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Secret, E> {
                Ok(Secret::new(v.to_string()))
            }
        }
        d.deserialize_any(V)
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

    #[test]
    fn deserializes_from_strings_and_digits_without_quoting_bad_values() {
        let s: Secret = serde_json::from_str("\"k-1\"").unwrap();
        assert_eq!(s.expose(), "k-1");
        let s: Secret = serde_json::from_str("12345").unwrap();
        assert_eq!(s.expose(), "12345");
        let err = serde_json::from_str::<Secret>("[\"leak\"]").unwrap_err();
        assert!(!err.to_string().contains("leak"), "{err}");
    }
}
