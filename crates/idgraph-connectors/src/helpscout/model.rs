//! Help Scout Mailbox API v2 JSON as it is sent (guide `helpscout.txt`, camelCase fields, HAL
//! lists `_embedded.<items>` + `page` + `_links`), with `#[serde(default)]` wherever a field
//! may be missing. Records are decoded from the raw `Value`, which the mapping keeps.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A numeric id, kept as text (accepts a string too).
pub fn id_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) if n.is_u64() || n.is_i64() => Ok(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected a numeric id, got {other}"
        ))),
    }
}

/// A user of `GET /v2/users` (also the members of `GET /v2/teams/{id}/members`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// `owner`, `admin`, `user` (the create endpoint of the real API also knows `light user`).
    #[serde(default)]
    pub role: Option<String>,
    /// Guide: `team` or `virtual`; the v2 API sends `user`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub job_title: Option<String>,
    #[serde(default)]
    pub alternate_emails: Vec<String>,
    #[serde(default)]
    pub created_at: Option<Value>,
    #[serde(default)]
    pub updated_at: Option<Value>,
}

/// A team of `GET /v2/teams`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Team {
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// A team member: only its id matters (the user itself comes from `GET /v2/users`).
#[derive(Debug, Clone, Deserialize)]
pub struct MemberRef {
    #[serde(deserialize_with = "id_text")]
    pub id: String,
}
