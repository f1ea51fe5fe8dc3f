//! Freshdesk's SCIM 2.0 backend (`/scim/v2`): SCIM Users are the account's agents, SCIM Groups
//! its agent groups. Offered only on the Enterprise (Forest) plan with SAML SSO configured, and
//! authenticated by a SCIM bearer token that is not the REST API key. DELETE deactivates the
//! agent (it stays visible under `GET /api/v2/agents?active=false`).

use super::store::{AgentFields, AgentState, ApiError, Store, User};
use super::Tenant;
use crate::clock::rfc3339;
use crate::common::PlanTier;
use crate::scim_server::{ScimBackend, ScimError};
use idgraph_scim::{GROUP_SCHEMA, USER_SCHEMA};
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// The SCIM view of one Freshdesk tenant.
pub struct FreshdeskScim {
    pub(crate) tenant: Arc<Tenant>,
    /// `externalId` set by the IdP, per agent id.
    external_ids: Mutex<HashMap<u64, String>>,
}

impl FreshdeskScim {
    pub fn new(tenant: Arc<Tenant>) -> Self {
        Self {
            tenant,
            external_ids: Mutex::new(HashMap::new()),
        }
    }

    fn render_user(&self, store: &Store, u: &User) -> Value {
        let (given, family) = match u.name.split_once(' ') {
            Some((g, f)) => (g.to_string(), f.to_string()),
            None => (u.name.clone(), String::new()),
        };
        let groups: Vec<Value> = u
            .agent
            .as_ref()
            .map(|a| {
                a.group_ids
                    .iter()
                    .filter_map(|gid| store.groups.iter().find(|g| g.id == *gid))
                    .map(|g| json!({"value": g.id.to_string(), "display": g.name}))
                    .collect()
            })
            .unwrap_or_default();
        let last_modified = u
            .agent
            .as_ref()
            .map_or(u.updated_at, |a| a.updated_at.max(u.updated_at));
        json!({
            "schemas": [USER_SCHEMA],
            "id": u.id.to_string(),
            "externalId": self.external_ids.lock().get(&u.id).cloned(),
            "userName": u.email,
            "name": {"givenName": given, "familyName": family, "formatted": u.name},
            "displayName": u.name,
            "title": u.job_title,
            "emails": u.email.as_ref().map(|e| vec![json!({"value": e, "type": "work", "primary": true})]).unwrap_or_default(),
            "active": u.agent_state() != Some(AgentState::Deactivated),
            "groups": groups,
            "meta": {
                "resourceType": "User",
                "created": rfc3339(u.created_at),
                "lastModified": rfc3339(last_modified),
                "location": format!("/scim/v2/Users/{}", u.id),
            }
        })
    }

    fn render_group(store: &Store, gid: u64) -> Option<Value> {
        let g = store.groups.iter().find(|g| g.id == gid)?;
        let members: Vec<Value> = store
            .users
            .values()
            .filter(|u| u.agent.as_ref().is_some_and(|a| a.group_ids.contains(&gid)))
            .map(|u| json!({"value": u.id.to_string(), "display": u.name}))
            .collect();
        Some(json!({
            "schemas": [GROUP_SCHEMA],
            "id": g.id.to_string(),
            "displayName": g.name,
            "members": members,
            "meta": {
                "resourceType": "Group",
                "created": rfc3339(g.created_at),
                "lastModified": rfc3339(g.updated_at),
                "location": format!("/scim/v2/Groups/{}", g.id),
            }
        }))
    }
}

fn scim_from_api(e: ApiError) -> ScimError {
    match e {
        ApiError::NotFound { id, .. } => ScimError::not_found(&id),
        ApiError::Conflict(errs) => ScimError::new(
            409,
            Some("uniqueness"),
            errs.first().map_or("duplicate value".to_string(), |e| {
                format!("{}: {}", e.field, e.message)
            }),
        ),
        ApiError::Validation(errs) => ScimError::new(
            400,
            Some("invalidValue"),
            errs.iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        ApiError::MethodNotAllowed(m)
        | ApiError::InvalidJson(m)
        | ApiError::UnsupportedContentType(m) => ScimError::new(400, None, m),
    }
}

/// The primary email of a SCIM user resource (`emails[primary]`, else `userName`).
fn resource_email(r: &Value) -> Option<String> {
    let emails = r.get("emails").and_then(Value::as_array);
    let primary = emails.and_then(|es| {
        es.iter()
            .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
            .or_else(|| es.first())
            .and_then(|e| e.get("value").and_then(Value::as_str))
    });
    primary
        .or_else(|| r.get("userName").and_then(Value::as_str))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn resource_name(r: &Value) -> Option<String> {
    let n = r.get("name");
    let part = |k: &str| {
        n.and_then(|n| n.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let joined = format!("{} {}", part("givenName"), part("familyName"))
        .trim()
        .to_string();
    if !joined.is_empty() {
        return Some(joined);
    }
    n.and_then(|n| n.get("formatted"))
        .or_else(|| r.get("displayName"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .filter(|s| !s.is_empty())
}

fn resource_active(r: &Value) -> Option<bool> {
    match r.get("active")? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => crate::common::parse_bool(s),
        _ => None,
    }
}

fn member_ids(r: &Value) -> Result<Vec<u64>, ScimError> {
    let Some(members) = r.get("members").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    members
        .iter()
        .map(|m| {
            let v = m.get("value").and_then(Value::as_str).unwrap_or("");
            v.parse::<u64>().map_err(|_| {
                ScimError::new(
                    400,
                    Some("invalidValue"),
                    format!("member `{v}` is not a Freshdesk agent id"),
                )
            })
        })
        .collect()
}

fn parse_scim_id(id: &str) -> Result<u64, ScimError> {
    id.parse::<u64>().map_err(|_| ScimError::not_found(id))
}

impl FreshdeskScim {
    fn set_members(store: &mut Store, gid: u64, members: &[u64]) -> Result<(), ScimError> {
        for m in members {
            if store.users.get(m).and_then(|u| u.agent.as_ref()).is_none() {
                return Err(ScimError::new(
                    400,
                    Some("invalidValue"),
                    format!("member {m} is not a Freshdesk agent"),
                ));
            }
        }
        for u in store.users.values_mut() {
            let id = u.id;
            if let Some(a) = u.agent.as_mut() {
                let has = a.group_ids.contains(&gid);
                let want = members.contains(&id);
                if has && !want {
                    a.group_ids.retain(|g| *g != gid);
                } else if want && !has {
                    a.group_ids.push(gid);
                }
            }
        }
        Ok(())
    }
}

impl ScimBackend for FreshdeskScim {
    fn availability(&self) -> Result<(), ScimError> {
        let opts = &self.tenant.env.options;
        if opts.plan != PlanTier::Enterprise {
            return Err(ScimError::new(
                403,
                None,
                format!(
                    "SCIM provisioning is available only on the Freshdesk Enterprise (Forest) plan; this account is on the {} plan",
                    opts.plan
                ),
            ));
        }
        if !opts.sso {
            return Err(ScimError::new(
                403,
                None,
                "SCIM provisioning cannot be enabled until SAML SSO is configured (Admin > Security)",
            ));
        }
        Ok(())
    }

    fn check_token(&self, token: &str) -> bool {
        !token.is_empty() && token == self.tenant.scim_token
    }

    fn list_users(&self) -> Vec<Value> {
        let store = self.tenant.store.read();
        store
            .users
            .values()
            .filter(|u| u.agent.is_some())
            .map(|u| self.render_user(&store, u))
            .collect()
    }

    fn users_page(&self, skip: usize, take: usize) -> (Vec<Value>, usize) {
        let store = self.tenant.store.read();
        let listed = || store.users.values().filter(|u| u.agent.is_some());
        let page = listed()
            .skip(skip)
            .take(take)
            .map(|u| self.render_user(&store, u))
            .collect();
        (page, listed().count())
    }

    fn get_user(&self, id: &str) -> Option<Value> {
        let id = id.parse::<u64>().ok()?;
        let store = self.tenant.store.read();
        let u = store.users.get(&id).filter(|u| u.agent.is_some())?;
        Some(self.render_user(&store, u))
    }

    /// Provisions an agent. SSO users never get an invitation to confirm, so the agent is
    /// active at once (unlike `POST /api/v2/agents`).
    fn create_user(&self, resource: Value) -> Result<Value, ScimError> {
        let email = resource_email(&resource).ok_or_else(|| {
            ScimError::new(
                400,
                Some("invalidValue"),
                "userName or emails[primary] is required",
            )
        })?;
        let f = AgentFields {
            name: resource_name(&resource),
            email: Some(Some(email)),
            job_title: resource
                .get("title")
                .and_then(Value::as_str)
                .map(|s| Some(s.to_string())),
            ticket_scope: Some(1),
            ..AgentFields::default()
        };
        let now = self.tenant.env.clock.now();
        let mut store = self.tenant.store.write();
        let id = store.create_agent(f, now).map_err(scim_from_api)?;
        if let Some(u) = store.users.get_mut(&id) {
            u.verified = true;
        }
        if resource_active(&resource) == Some(false) {
            store.deactivate_agent(id, now).map_err(scim_from_api)?;
        }
        if let Some(ext) = resource.get("externalId").and_then(Value::as_str) {
            self.external_ids.lock().insert(id, ext.to_string());
        }
        let u = store
            .users
            .get(&id)
            .ok_or_else(|| ScimError::not_found(&id.to_string()))?;
        Ok(self.render_user(&store, u))
    }

    fn replace_user(&self, id: &str, resource: Value) -> Result<Value, ScimError> {
        let nid = parse_scim_id(id)?;
        let now = self.tenant.env.clock.now();
        let mut store = self.tenant.store.write();
        let current = store
            .users
            .get(&nid)
            .filter(|u| u.agent.is_some())
            .ok_or_else(|| ScimError::not_found(id))?;
        if let Some(email) = resource_email(&resource) {
            if !current
                .email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(&email))
            {
                return Err(ScimError::new(
                    400,
                    Some("mutability"),
                    "the email (userName) of a Freshdesk agent cannot be changed",
                ));
            }
        }
        let f = AgentFields {
            name: resource_name(&resource),
            job_title: resource
                .get("title")
                .map(|t| t.as_str().map(str::to_string)),
            ..AgentFields::default()
        };
        store.update_agent(nid, f, now).map_err(scim_from_api)?;
        match resource_active(&resource) {
            Some(false) => store.deactivate_agent(nid, now).map_err(scim_from_api)?,
            Some(true) => store.reactivate_agent(nid, now).map_err(scim_from_api)?,
            None => {}
        }
        if let Some(ext) = resource.get("externalId").and_then(Value::as_str) {
            self.external_ids.lock().insert(nid, ext.to_string());
        }
        let u = store
            .users
            .get(&nid)
            .ok_or_else(|| ScimError::not_found(id))?;
        Ok(self.render_user(&store, u))
    }

    fn delete_user(&self, id: &str) -> Result<(), ScimError> {
        let nid = parse_scim_id(id)?;
        let now = self.tenant.env.clock.now();
        self.tenant
            .store
            .write()
            .deactivate_agent(nid, now)
            .map_err(scim_from_api)
    }

    fn list_groups(&self) -> Vec<Value> {
        let store = self.tenant.store.read();
        store
            .groups
            .iter()
            .filter_map(|g| Self::render_group(&store, g.id))
            .collect()
    }

    fn get_group(&self, id: &str) -> Option<Value> {
        let gid = id.parse::<u64>().ok()?;
        Self::render_group(&self.tenant.store.read(), gid)
    }

    fn create_group(&self, resource: Value) -> Result<Value, ScimError> {
        let name = resource
            .get("displayName")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| ScimError::new(400, Some("invalidValue"), "displayName is required"))?
            .to_string();
        let members = member_ids(&resource)?;
        let now = self.tenant.env.clock.now();
        let mut store = self.tenant.store.write();
        if store
            .groups
            .iter()
            .any(|g| g.name.eq_ignore_ascii_case(&name))
        {
            return Err(ScimError::new(
                409,
                Some("uniqueness"),
                format!("a group named `{name}` already exists"),
            ));
        }
        let gid = store.add_group(&name, now);
        if let Err(e) = Self::set_members(&mut store, gid, &members) {
            store.groups.retain(|g| g.id != gid);
            return Err(e);
        }
        Self::render_group(&store, gid).ok_or_else(|| ScimError::not_found(&gid.to_string()))
    }

    fn replace_group(&self, id: &str, resource: Value) -> Result<Value, ScimError> {
        let gid = parse_scim_id(id)?;
        let members = member_ids(&resource)?;
        let now = self.tenant.env.clock.now();
        let mut store = self.tenant.store.write();
        if !store.groups.iter().any(|g| g.id == gid) {
            return Err(ScimError::not_found(id));
        }
        Self::set_members(&mut store, gid, &members)?;
        if let Some(g) = store.groups.iter_mut().find(|g| g.id == gid) {
            if let Some(name) = resource.get("displayName").and_then(Value::as_str) {
                g.name = name.to_string();
            }
            g.updated_at = now;
        }
        Self::render_group(&store, gid).ok_or_else(|| ScimError::not_found(id))
    }

    fn delete_group(&self, id: &str) -> Result<(), ScimError> {
        let gid = parse_scim_id(id)?;
        let mut store = self.tenant.store.write();
        if !store.groups.iter().any(|g| g.id == gid) {
            return Err(ScimError::not_found(id));
        }
        Self::set_members(&mut store, gid, &[])?;
        store.groups.retain(|g| g.id != gid);
        Ok(())
    }
}
