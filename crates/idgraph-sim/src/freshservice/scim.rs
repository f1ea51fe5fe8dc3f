//! Freshservice's SCIM 2.0 face over the same records as the REST API: SCIM users are the
//! tenant's requesters and agents (one id space), users created over SCIM are requesters (agent
//! promotion stays a REST call), DELETE deactivates, and SCIM groups are the agent groups.
//! Offered only on the Pro and Enterprise plans with SSO configured, with its own bearer token.

use super::model::{ApiError, Kind, Store, User};
use super::Tenant;
use crate::clock::rfc3339;
use crate::common::PlanTier;
use crate::scim_server::{ScimBackend, ScimError};
use serde_json::{json, Map, Value};
use std::sync::Arc;

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// The SCIM backend of one Freshservice tenant.
pub(crate) struct FreshserviceScim {
    pub(crate) tenant: Arc<Tenant>,
}

fn to_scim(e: ApiError) -> ScimError {
    match e {
        ApiError::NotFound { id, .. } => ScimError::not_found(&id.to_string()),
        ApiError::Duplicate(f) => ScimError::new(409, Some("uniqueness"), f.message),
        ApiError::SeatLimit { limit } => ScimError::new(
            400,
            Some("invalidValue"),
            format!("all {limit} agent licenses are in use; the agent cannot be reactivated"),
        ),
        other => ScimError::new(400, Some("invalidValue"), other.to_string()),
    }
}

fn parse_id(id: &str) -> Result<u64, ScimError> {
    id.parse::<u64>().map_err(|_| ScimError::not_found(id))
}

fn render_user(s: &Store, u: &User) -> Value {
    let display = match &u.last_name {
        Some(l) => format!("{} {l}", u.first_name),
        None => u.first_name.clone(),
    };
    let groups: Vec<Value> = u
        .member_of
        .iter()
        .filter_map(|g| s.groups.get(g))
        .map(|g| json!({"value": g.id.to_string(), "display": g.name, "$ref": format!("/scim/v2/Groups/{}", g.id)}))
        .collect();
    let mut v = json!({
        "schemas": [USER_SCHEMA],
        "id": u.id.to_string(),
        "userName": u.email,
        "name": {"givenName": u.first_name, "familyName": u.last_name, "formatted": display},
        "displayName": display,
        "emails": [{"value": u.email, "type": "work", "primary": true}],
        "active": u.active,
        "title": u.job_title,
        "userType": match u.kind { Kind::Agent => "agent", Kind::Requester => "requester" },
        "groups": groups,
        "meta": {
            "resourceType": "User",
            "created": rfc3339(u.created_at),
            "lastModified": rfc3339(u.updated_at),
            "location": format!("/scim/v2/Users/{}", u.id),
        },
    });
    if let (Some(ext), Value::Object(o)) = (&u.external_id, &mut v) {
        o.insert("externalId".into(), json!(ext));
    }
    v
}

fn render_group(s: &Store, id: u64) -> Option<Value> {
    let g = s.groups.get(&id)?;
    Some(json!({
        "schemas": [GROUP_SCHEMA],
        "id": g.id.to_string(),
        "displayName": g.name,
        "members": g.members.iter().map(|m| json!({
            "value": m.to_string(),
            "display": s.users.get(m).map(|u| u.email.clone()),
            "$ref": format!("/scim/v2/Users/{m}"),
        })).collect::<Vec<_>>(),
        "meta": {
            "resourceType": "Group",
            "created": rfc3339(g.created_at),
            "lastModified": rfc3339(g.updated_at),
            "location": format!("/scim/v2/Groups/{}", g.id),
        },
    }))
}

/// The REST fields a SCIM user resource sets, its `active` and its `externalId`.
type UserFields = (Map<String, Value>, Option<bool>, Option<String>);

fn user_fields(r: &Value) -> Result<UserFields, ScimError> {
    let obj = r.as_object().ok_or_else(|| {
        ScimError::new(
            400,
            Some("invalidSyntax"),
            "a User resource must be a JSON object",
        )
    })?;
    let email = obj
        .get("emails")
        .and_then(Value::as_array)
        .and_then(|es| {
            es.iter()
                .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
                .or_else(|| es.first())
        })
        .and_then(|e| e.get("value"))
        .and_then(Value::as_str)
        .or_else(|| obj.get("userName").and_then(Value::as_str))
        .map(str::to_string);
    let name = obj.get("name");
    let given = name
        .and_then(|n| n.get("givenName"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .or_else(|| {
            obj.get("displayName")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .or_else(|| {
            email
                .as_ref()
                .and_then(|e| e.split('@').next())
                .map(str::to_string)
        });
    let mut m = Map::new();
    if let Some(e) = email {
        m.insert("email".into(), json!(e));
    }
    if let Some(g) = given {
        m.insert("first_name".into(), json!(g));
    }
    if let Some(f) = name.and_then(|n| n.get("familyName")) {
        m.insert("last_name".into(), f.clone());
    }
    if let Some(t) = obj.get("title") {
        m.insert("job_title".into(), t.clone());
    }
    let active = match obj.get("active") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Some(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Some(false),
        Some(_) => {
            return Err(ScimError::new(
                400,
                Some("invalidValue"),
                "active must be a boolean",
            ))
        }
    };
    let external = obj
        .get("externalId")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok((m, active, external))
}

fn group_fields(r: &Value) -> Result<Map<String, Value>, ScimError> {
    let obj = r.as_object().ok_or_else(|| {
        ScimError::new(
            400,
            Some("invalidSyntax"),
            "a Group resource must be a JSON object",
        )
    })?;
    let mut m = Map::new();
    if let Some(n) = obj.get("displayName") {
        m.insert("name".into(), n.clone());
    }
    if let Some(members) = obj.get("members") {
        let arr = members
            .as_array()
            .ok_or_else(|| ScimError::new(400, Some("invalidValue"), "members must be an array"))?;
        let mut ids = Vec::new();
        for member in arr {
            let v = member.get("value").and_then(|v| {
                v.as_str()
                    .and_then(|s| s.parse::<u64>().ok())
                    .or_else(|| v.as_u64())
            });
            match v {
                Some(id) => ids.push(json!(id)),
                None => {
                    return Err(ScimError::new(
                        400,
                        Some("invalidValue"),
                        format!("member {member} has no numeric value (a Freshservice agent id)"),
                    ))
                }
            }
        }
        m.insert("members".into(), Value::Array(ids));
    }
    Ok(m)
}

impl ScimBackend for FreshserviceScim {
    fn availability(&self) -> Result<(), ScimError> {
        let s = self.tenant.store.read();
        if !matches!(s.plan, PlanTier::Pro | PlanTier::Enterprise) {
            return Err(ScimError::new(
                403,
                None,
                format!(
                    "SCIM provisioning is available on the Freshservice Pro and Enterprise plans; this account is on the {} plan",
                    s.plan
                ),
            ));
        }
        if !s.sso {
            return Err(ScimError::new(
                403,
                None,
                "SCIM provisioning requires SSO to be configured first (Admin > Security > SSO)",
            ));
        }
        Ok(())
    }

    fn check_token(&self, token: &str) -> bool {
        token == self.tenant.scim_token
    }

    fn list_users(&self) -> Vec<Value> {
        let s = self.tenant.store.read();
        s.all(None).map(|u| render_user(&s, u)).collect()
    }

    fn users_page(&self, skip: usize, take: usize) -> (Vec<Value>, usize) {
        let s = self.tenant.store.read();
        let page = s
            .all(None)
            .skip(skip)
            .take(take)
            .map(|u| render_user(&s, u))
            .collect();
        (page, s.all(None).count())
    }

    fn get_user(&self, id: &str) -> Option<Value> {
        let id = id.parse::<u64>().ok()?;
        let s = self.tenant.store.read();
        s.users.get(&id).map(|u| render_user(&s, u))
    }

    fn create_user(&self, resource: Value) -> Result<Value, ScimError> {
        let (fields, active, external) = user_fields(&resource)?;
        if !fields.contains_key("email") {
            return Err(ScimError::new(
                400,
                Some("invalidValue"),
                "userName or emails[].value is required",
            ));
        }
        let now = self.tenant.clock.now();
        let mut s = self.tenant.store.write();
        let id = s.create(Kind::Requester, &fields, now).map_err(to_scim)?;
        if active == Some(false) {
            s.deactivate(Kind::Requester, id, now).map_err(to_scim)?;
        }
        if let Some(mut u) = s.users.get(&id).cloned() {
            u.external_id = external;
            s.insert(u);
        }
        s.users
            .get(&id)
            .map(|u| render_user(&s, u))
            .ok_or_else(|| ScimError::not_found(&id.to_string()))
    }

    fn replace_user(&self, id: &str, resource: Value) -> Result<Value, ScimError> {
        let uid = parse_id(id)?;
        let (fields, active, external) = user_fields(&resource)?;
        let now = self.tenant.clock.now();
        let mut s = self.tenant.store.write();
        let kind = s
            .users
            .get(&uid)
            .map(|u| u.kind)
            .ok_or_else(|| ScimError::not_found(id))?;
        // The IdP owns the identity: SCIM may change the email even with SSO on.
        s.update(kind, uid, &fields, now, true).map_err(to_scim)?;
        match active {
            Some(true) => s.reactivate(kind, uid, now).map_err(to_scim)?,
            Some(false) => s.deactivate(kind, uid, now).map_err(to_scim)?,
            None => {}
        }
        if let Some(mut u) = s.users.get(&uid).cloned() {
            if external.is_some() {
                u.external_id = external;
            }
            s.insert(u);
        }
        s.users
            .get(&uid)
            .map(|u| render_user(&s, u))
            .ok_or_else(|| ScimError::not_found(id))
    }

    fn delete_user(&self, id: &str) -> Result<(), ScimError> {
        let uid = parse_id(id)?;
        let now = self.tenant.clock.now();
        let mut s = self.tenant.store.write();
        let kind = s
            .users
            .get(&uid)
            .map(|u| u.kind)
            .ok_or_else(|| ScimError::not_found(id))?;
        s.deactivate(kind, uid, now).map_err(to_scim)
    }

    fn list_groups(&self) -> Vec<Value> {
        let s = self.tenant.store.read();
        s.groups
            .keys()
            .filter_map(|g| render_group(&s, *g))
            .collect()
    }

    fn get_group(&self, id: &str) -> Option<Value> {
        let gid = id.parse::<u64>().ok()?;
        render_group(&self.tenant.store.read(), gid)
    }

    fn create_group(&self, resource: Value) -> Result<Value, ScimError> {
        let fields = group_fields(&resource)?;
        if !fields.contains_key("name") {
            return Err(ScimError::new(
                400,
                Some("invalidValue"),
                "displayName is required",
            ));
        }
        let mut s = self.tenant.store.write();
        let gid = s
            .create_group(&fields, self.tenant.clock.now())
            .map_err(to_scim)?;
        render_group(&s, gid).ok_or_else(|| ScimError::not_found(&gid.to_string()))
    }

    fn replace_group(&self, id: &str, resource: Value) -> Result<Value, ScimError> {
        let gid = parse_id(id)?;
        let mut fields = group_fields(&resource)?;
        // A PUT carries the whole group: no members means no members.
        fields.entry("members").or_insert_with(|| json!([]));
        let mut s = self.tenant.store.write();
        s.update_group(gid, &fields, self.tenant.clock.now())
            .map_err(to_scim)?;
        render_group(&s, gid).ok_or_else(|| ScimError::not_found(id))
    }

    fn delete_group(&self, id: &str) -> Result<(), ScimError> {
        let gid = parse_id(id)?;
        self.tenant
            .store
            .write()
            .delete_group(gid, self.tenant.clock.now())
            .map_err(to_scim)
    }
}
