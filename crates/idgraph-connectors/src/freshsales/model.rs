//! Freshsales REST JSON as it is: `selector/owners` and `settings/profile` users and
//! `selector/roles` roles (guide: user object table). Ids are integers in the guide; strings
//! are accepted too. Every field but `id` may be missing.

use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::Value;

/// A record decoded, next to the JSON exactly as received.
#[derive(Clone, Debug, PartialEq)]
pub struct WithRaw<T> {
    pub raw: Value,
    pub item: T,
}

impl<T: de::DeserializeOwned> WithRaw<T> {
    pub fn decode(raw: Value) -> Result<Self, String> {
        let item = T::deserialize(&raw).map_err(|e| e.to_string())?;
        Ok(Self { raw, item })
    }
}

/// A CRM user (`selector/owners`, `settings/profile`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Owner {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: Option<String>,
    /// The guide's list example names users by `name` only.
    pub name: Option<String>,
    pub is_active: Option<bool>,
    #[serde(deserialize_with = "opt_id_string")]
    pub role_id: Option<String>,
    #[serde(deserialize_with = "opt_id_string")]
    pub territory_id: Option<String>,
    pub job_title: Option<String>,
}

/// A role (`selector/roles`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Role {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    pub name: String,
}

fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

fn id_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = Value::deserialize(d)?;
    id_text(&v)
        .ok_or_else(|| de::Error::custom(format!("expected an id (number or string), found {v}")))
}

fn opt_id_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Value::deserialize(d)?;
    match v {
        Value::Null => Ok(None),
        other => id_text(&other).map(Some).ok_or_else(|| {
            de::Error::custom(format!("expected an id (number or string), found {other}"))
        }),
    }
}

/// The array at `key` of a REST answer (`users`, `roles`), each element decoded.
pub fn items_at_key<T: de::DeserializeOwned>(
    body: &Value,
    key: &str,
) -> Result<Vec<WithRaw<T>>, String> {
    let arr = match body.get(key) {
        Some(Value::Array(a)) => a,
        Some(other) => return Err(format!("`{key}` is not an array but {other}")),
        None => return Err(format!("no `{key}` array in the answer")),
    };
    arr.iter()
        .enumerate()
        .map(|(i, v)| {
            WithRaw::decode(v.clone()).map_err(|e| {
                let id = v
                    .get("id")
                    .map(|id| format!(" (id {id})"))
                    .unwrap_or_default();
                format!("{key}[{i}]{id}: {e}")
            })
        })
        .collect()
}
