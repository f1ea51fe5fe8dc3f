//! Freshdesk's JSON as the v2 API sends it (guide: "User object / data model"): list
//! endpoints answer bare arrays; an agent embeds its `contact` (name, email, `active` =
//! verified, `last_login_at`); newer API versions add the agent's `deactivated` flag.
//!
//! Only the fields the mapping reads are typed; every field is optional or defaults to empty
//! (`null` included), because the vendor leaves fields out. The record as received is kept
//! next to the typed view (`raw`). Timestamps are read from `raw` by the mapping.

use serde::{Deserialize, Deserializer};

/// `null` or absent → the type's default.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The `contact` object embedded in an agent.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AgentContact {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Whether the person verified their email (confirmed the invitation).
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub job_title: Option<String>,
}

/// An item of `GET /api/v2/agents`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Agent {
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub job_title: Option<String>,
    /// True once the agent confirmed the invitation and while not deactivated (the guide's
    /// `active`).
    #[serde(default)]
    pub active: Option<bool>,
    /// True for deactivated agents (absent in older API versions).
    #[serde(default)]
    pub deactivated: Option<bool>,
    /// Occasional (day-pass) agents take no full-time seat.
    #[serde(default)]
    pub occasional: Option<bool>,
    /// 1 = global, 2 = group, 3 = restricted.
    #[serde(default)]
    pub ticket_scope: Option<u64>,
    /// `support_agent`, `field_agent` (or `collaborator`).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub role_ids: Vec<u64>,
    #[serde(default, deserialize_with = "nullable")]
    pub group_ids: Vec<u64>,
    #[serde(default)]
    pub contact: Option<AgentContact>,
}

/// An item of `GET /api/v2/contacts`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Contact {
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub other_emails: Vec<String>,
    #[serde(default)]
    pub job_title: Option<String>,
    /// Soft-deleted (listed only with `deleted=true`).
    #[serde(default)]
    pub deleted: Option<bool>,
}

/// An item of `GET /api/v2/roles` or `/groups`: an id and a name.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Named {
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
}
