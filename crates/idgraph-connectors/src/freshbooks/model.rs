//! FreshBooks JSON as the `/auth/api/v1` endpoints send it (guide `freshbooks.txt`), with
//! `#[serde(default)]` wherever the guide's examples leave a field out. Every body is wrapped
//! in `{"response": …}`. Records are decoded from the raw `Value`, which the mapping keeps.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// An id that FreshBooks sends as a number (sometimes as a string), kept as text.
pub fn id_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) if n.is_u64() || n.is_i64() => Ok(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected a numeric id, got {other}"
        ))),
    }
}

fn opt_id_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Number(n) if n.is_u64() || n.is_i64() => Ok(Some(n.to_string())),
        Value::String(s) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
        Value::String(_) => Ok(None),
        other => Err(serde::de::Error::custom(format!(
            "expected a numeric id, got {other}"
        ))),
    }
}

/// `GET /auth/api/v1/users/me` → `response`: the token owner.
#[derive(Debug, Clone, Deserialize)]
pub struct Me {
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    #[serde(default)]
    pub email: Option<String>,
    /// "Each entry contains business_id and role" (guide); the real API nests a `business`.
    #[serde(default)]
    pub business_memberships: Vec<BusinessMembership>,
}

/// One of the token owner's business memberships.
#[derive(Debug, Clone, Deserialize)]
pub struct BusinessMembership {
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default, deserialize_with = "opt_id_text")]
    pub business_id: Option<String>,
    #[serde(default)]
    pub business: Option<BusinessRef>,
}

/// The `business` object nested in a membership (real API).
#[derive(Debug, Clone, Deserialize)]
pub struct BusinessRef {
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub account_id: Option<String>,
}

impl BusinessMembership {
    /// The business id, from `business_id` or the nested `business.id`.
    pub fn business_id(&self) -> Option<&str> {
        self.business_id
            .as_deref()
            .or_else(|| self.business.as_ref().map(|b| b.id.as_str()))
    }
}

/// A team member of a business (`GET …/business/{id}/members` → `response.members[]`).
#[derive(Debug, Clone, Deserialize)]
pub struct Member {
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub job_title: Option<String>,
    /// `owner`, `admin`, `manager`, `employee`, `contractor`, `accountant`.
    #[serde(default)]
    pub role: Option<String>,
    /// Absent in the guide's example; the `active` filter exists, so absent reads as active.
    #[serde(default)]
    pub active: Option<bool>,
    /// Whether the user confirmed their email (accepted the invitation).
    #[serde(default)]
    pub confirmed: Option<bool>,
    /// The FreshBooks user (identity) behind the membership: the same person in two
    /// businesses has one identity id and two member ids.
    #[serde(default, deserialize_with = "opt_id_text")]
    pub identity_id: Option<String>,
    #[serde(default)]
    pub created_at: Option<Value>,
    #[serde(default)]
    pub updated_at: Option<Value>,
}

/// A pending invitation (`GET …/business/{id}/invitations` → `response.invitations[]`).
#[derive(Debug, Clone, Deserialize)]
pub struct Invitation {
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    pub email: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    /// `pending` (the list shows only pending ones).
    #[serde(default)]
    pub status: Option<String>,
    /// When it was sent.
    #[serde(default)]
    pub created_at: Option<Value>,
    #[serde(default)]
    pub updated_at: Option<Value>,
}
