//! Freshservice's JSON as the v2 API sends it (guide: "User object / data model"; the list
//! items carry `roles` with their scopes, `member_of`/`group_ids`, `department_ids`).
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

/// One entry of an agent's `roles`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct AgentRole {
    pub role_id: u64,
    /// `entire_helpdesk`, `member_groups`, `specified_groups`, `assigned_items`.
    #[serde(default)]
    pub assignment_scope: Option<String>,
    /// The groups a `specified_groups` scope names.
    #[serde(default, deserialize_with = "nullable")]
    pub groups: Vec<u64>,
}

/// An item of `GET /api/v2/agents` (`{"agents": [...]}`).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Agent {
    pub id: u64,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// `false` for deactivated agents (listed only with `active=false`).
    #[serde(default)]
    pub active: Option<bool>,
    /// Occasional agents take no full-time seat.
    #[serde(default)]
    pub occasional: Option<bool>,
    #[serde(default)]
    pub job_title: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub department_ids: Vec<u64>,
    /// Roles with their assignment scope (v2).
    #[serde(default, deserialize_with = "nullable")]
    pub roles: Vec<AgentRole>,
    /// Role ids alone (the guide's spelling; used when `roles` is absent).
    #[serde(default, deserialize_with = "nullable")]
    pub role_ids: Vec<u64>,
    /// Agent groups the agent is a member of (v2).
    #[serde(default, deserialize_with = "nullable")]
    pub member_of: Vec<u64>,
    /// The same, as the guide spells it.
    #[serde(default, deserialize_with = "nullable")]
    pub group_ids: Vec<u64>,
    /// Agent groups the agent observes (sees their tickets without being a member).
    #[serde(default, deserialize_with = "nullable")]
    pub observer_of: Vec<u64>,
}

/// An item of `GET /api/v2/requesters` (`{"requesters": [...]}`).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Requester {
    pub id: u64,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    /// The real API's name of the primary email.
    #[serde(default)]
    pub primary_email: Option<String>,
    /// The guide's name of the primary email.
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub secondary_emails: Vec<String>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub job_title: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub department_ids: Vec<u64>,
    #[serde(default, deserialize_with = "nullable")]
    pub department_names: Vec<String>,
    /// True only for agents listed with `include_agents=true` (never sent by this connector).
    #[serde(default)]
    pub is_agent: Option<bool>,
}

/// An item of `GET /api/v2/roles`, `/groups` or `/departments`: an id and a name.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Named {
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
}
