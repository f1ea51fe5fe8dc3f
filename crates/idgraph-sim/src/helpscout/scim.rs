//! Help Scout's SCIM 2.0 backend (served at `/v2/scim` by the shared SCIM server): Users are
//! the account's users, Groups are its teams.
//!
//! SCIM is offered only on the Pro plan with SSO configured, behind a long-lived bearer token
//! separate from OAuth tokens. SCIM sees deactivated users (`active: false`); `DELETE /Users/{id}`
//! deactivates, after which the REST API hides the user. Group membership changes show in
//! `GET /v2/teams/{id}/members` at once.

use super::state::{photo_url_for, timezone_for, Shared, Team, User, UserStatus};
use crate::clock::rfc3339;
use crate::common::PlanTier;
use crate::scim_server::{ScimBackend, ScimError};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// The SCIM view of the Help Scout account.
#[derive(Debug, Clone)]
pub struct HelpscoutScim(pub(crate) Arc<Shared>);

fn render_scim_user(u: &User, teams: &[(u64, String)]) -> Value {
    let mut v = json!({
        "schemas": [idgraph_scim::USER_SCHEMA],
        "id": u.id.to_string(),
        "userName": u.email,
        "name": {
            "givenName": u.first_name,
            "familyName": u.last_name,
            "formatted": format!("{} {}", u.first_name, u.last_name).trim().to_string(),
        },
        "displayName": format!("{} {}", u.first_name, u.last_name).trim().to_string(),
        "emails": [{"value": u.email, "type": "work", "primary": true}],
        "active": u.status != UserStatus::Inactive,
        "roles": [{"value": u.role, "primary": true}],
        "timezone": u.timezone,
        "groups": teams
            .iter()
            .map(|(id, name)| json!({"value": id.to_string(), "display": name}))
            .collect::<Vec<_>>(),
        "meta": {
            "resourceType": "User",
            "created": rfc3339(u.created_at),
            "lastModified": rfc3339(u.updated_at),
            "location": format!("/v2/scim/Users/{}", u.id),
        },
    });
    if !u.job_title.is_empty() {
        v["title"] = json!(u.job_title);
    }
    if let Some(e) = &u.external_id {
        v["externalId"] = json!(e);
    }
    v
}

fn render_scim_group(t: &Team, members: Vec<Value>) -> Value {
    let mut v = json!({
        "schemas": [idgraph_scim::GROUP_SCHEMA],
        "id": t.id.to_string(),
        "displayName": t.name,
        "members": members,
        "meta": {
            "resourceType": "Group",
            "created": rfc3339(t.created_at),
            "lastModified": rfc3339(t.updated_at),
            "location": format!("/v2/scim/Groups/{}", t.id),
        },
    });
    if let Some(e) = &t.external_id {
        v["externalId"] = json!(e);
    }
    v
}

fn invalid(detail: impl Into<String>) -> ScimError {
    ScimError::new(400, Some("invalidValue"), detail)
}

/// The parts of a SCIM User resource Help Scout keeps.
struct UserInput {
    email: String,
    given: Option<String>,
    family: Option<String>,
    title: Option<String>,
    active: Option<bool>,
    external_id: Option<String>,
    role: Option<String>,
    timezone: Option<String>,
}

fn parse_user(resource: Value) -> Result<UserInput, ScimError> {
    let timezone = resource
        .get("timezone")
        .and_then(Value::as_str)
        .map(str::to_string);
    let role = resource
        .get("roles")
        .and_then(Value::as_array)
        .and_then(|r| r.first())
        .and_then(|r| r.get("value"))
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase);
    let title = resource
        .get("title")
        .and_then(Value::as_str)
        .map(str::to_string);
    let u: idgraph_scim::User = serde_json::from_value(resource)
        .map_err(|e| invalid(format!("The User resource is not valid SCIM: {e}")))?;
    let email = if u.user_name.trim().is_empty() {
        u.primary_email().unwrap_or("").trim().to_string()
    } else {
        u.user_name.trim().to_string()
    };
    if email.is_empty() || !email.contains('@') {
        return Err(invalid(format!(
            "userName `{email}` must be the user's email address (Help Scout logs users in by email)"
        )));
    }
    if let Some(r) = &role {
        if !matches!(r.as_str(), "owner" | "admin" | "user") {
            return Err(invalid(format!(
                "roles[0].value `{r}` is not a Help Scout role (owner, admin or user)"
            )));
        }
    }
    let (given, family) = match &u.name {
        Some(n) => (n.given_name.clone(), n.family_name.clone()),
        None => (None, None),
    };
    Ok(UserInput {
        email,
        given,
        family,
        title,
        active: u.active,
        external_id: u.external_id,
        role,
        timezone,
    })
}

fn parse_id(id: &str) -> Option<u64> {
    id.trim().parse().ok()
}

impl HelpscoutScim {
    fn user_json(&self, t: &super::state::Tenant, u: &User) -> Value {
        let teams: Vec<(u64, String)> = t
            .teams
            .values()
            .filter(|team| team.members.contains(&u.id))
            .map(|team| (team.id, team.name.clone()))
            .collect();
        render_scim_user(u, &teams)
    }

    fn group_json(&self, t: &super::state::Tenant, team: &Team) -> Value {
        let members = team
            .members
            .iter()
            .filter_map(|id| t.users.get(id))
            .filter(|u| u.status.scim_visible())
            .map(|u| json!({"value": u.id.to_string(), "display": u.email}))
            .collect();
        render_scim_group(team, members)
    }

    fn email_taken(t: &super::state::Tenant, email: &str, except: Option<u64>) -> bool {
        t.users.values().any(|u| {
            u.status.scim_visible() && Some(u.id) != except && u.email.eq_ignore_ascii_case(email)
        })
    }

    fn group_input(
        t: &super::state::Tenant,
        resource: Value,
        except: Option<u64>,
    ) -> Result<(String, BTreeSet<u64>, Option<String>), ScimError> {
        let g: idgraph_scim::Group = serde_json::from_value(resource)
            .map_err(|e| invalid(format!("The Group resource is not valid SCIM: {e}")))?;
        let name = g.display_name.trim().to_string();
        if name.is_empty() {
            return Err(invalid("displayName is required (the team's name)"));
        }
        if t.teams
            .values()
            .any(|team| Some(team.id) != except && team.name.eq_ignore_ascii_case(&name))
        {
            return Err(ScimError::new(
                409,
                Some("uniqueness"),
                format!("A team named `{name}` already exists"),
            ));
        }
        let mut members = BTreeSet::new();
        for m in &g.members {
            let id = parse_id(&m.value)
                .filter(|id| t.users.get(id).is_some_and(|u| u.status.scim_visible()))
                .ok_or_else(|| {
                    invalid(format!(
                        "members value `{}` is not a user of this Help Scout account",
                        m.value
                    ))
                })?;
            members.insert(id);
        }
        Ok((name, members, g.external_id))
    }
}

impl ScimBackend for HelpscoutScim {
    fn availability(&self) -> Result<(), ScimError> {
        let opts = &self.0.env.options;
        if opts.plan < PlanTier::Pro {
            return Err(ScimError::new(
                403,
                None,
                format!(
                    "SCIM provisioning is available on the Help Scout Pro plan only (this account is on {})",
                    opts.plan
                ),
            ));
        }
        if !opts.sso {
            return Err(ScimError::new(
                403,
                None,
                "SCIM provisioning needs SSO configured first (Manage > Company > Authentication)",
            ));
        }
        Ok(())
    }

    fn check_token(&self, token: &str) -> bool {
        token == self.0.creds.scim_token
    }

    fn list_users(&self) -> Vec<Value> {
        let mut out = Vec::new();
        self.each_user(&mut |v| out.push(v));
        out
    }

    fn each_user(&self, f: &mut dyn FnMut(Value)) {
        let t = self.0.tenant.lock();
        // Every user's teams from one pass over the teams (asking each team about each user
        // costs users × teams).
        let mut teams_of: HashMap<u64, Vec<(u64, String)>> = HashMap::new();
        for team in t.teams.values() {
            for id in &team.members {
                teams_of
                    .entry(*id)
                    .or_default()
                    .push((team.id, team.name.clone()));
            }
        }
        for u in t.users.values().filter(|u| u.status.scim_visible()) {
            f(render_scim_user(
                u,
                teams_of.get(&u.id).map_or(&[][..], Vec::as_slice),
            ));
        }
    }

    fn users_page(&self, skip: usize, take: usize) -> (Vec<Value>, usize) {
        let t = self.0.tenant.lock();
        let listed = || t.users.values().filter(|u| u.status.scim_visible());
        let page = listed()
            .skip(skip)
            .take(take)
            .map(|u| self.user_json(&t, u))
            .collect();
        (page, listed().count())
    }

    fn get_user(&self, id: &str) -> Option<Value> {
        let id = parse_id(id)?;
        let t = self.0.tenant.lock();
        let u = t.users.get(&id).filter(|u| u.status.scim_visible())?;
        Some(self.user_json(&t, u))
    }

    fn create_user(&self, resource: Value) -> Result<Value, ScimError> {
        let input = parse_user(resource)?;
        let now = self.0.now();
        let mut t = self.0.tenant.lock();
        if Self::email_taken(&t, &input.email, None) {
            return Err(ScimError::new(
                409,
                Some("uniqueness"),
                format!("A user with userName `{}` already exists", input.email),
            ));
        }
        let id = t.next_id;
        t.next_id += 1;
        let first = input.given.unwrap_or_else(|| {
            input
                .email
                .split('@')
                .next()
                .unwrap_or_default()
                .to_string()
        });
        let mention = t.unique_mention(&first, None);
        let user = User {
            id,
            first_name: first,
            last_name: input.family.unwrap_or_default(),
            email: input.email,
            role: input.role.unwrap_or_else(|| "user".to_string()),
            timezone: input.timezone.unwrap_or_else(|| timezone_for(id)),
            photo_url: photo_url_for(id),
            job_title: input.title.unwrap_or_default(),
            phone: String::new(),
            alternate_emails: Vec::new(),
            mention,
            created_at: now,
            updated_at: now,
            status: if input.active == Some(false) {
                UserStatus::Inactive
            } else {
                UserStatus::Active
            },
            external_id: input.external_id,
        };
        let v = self.user_json(&t, &user);
        t.users.insert(id, user);
        Ok(v)
    }

    fn replace_user(&self, id: &str, resource: Value) -> Result<Value, ScimError> {
        let uid = parse_id(id).ok_or_else(|| ScimError::not_found(id))?;
        let input = parse_user(resource)?;
        let now = self.0.now();
        let mut t = self.0.tenant.lock();
        if !t.users.get(&uid).is_some_and(|u| u.status.scim_visible()) {
            return Err(ScimError::not_found(id));
        }
        if Self::email_taken(&t, &input.email, Some(uid)) {
            return Err(ScimError::new(
                409,
                Some("uniqueness"),
                format!("Another user already has userName `{}`", input.email),
            ));
        }
        let mention = input
            .given
            .as_deref()
            .map(|g| t.unique_mention(g, Some(uid)));
        let Some(u) = t.users.get_mut(&uid) else {
            return Err(ScimError::not_found(id));
        };
        u.email = input.email;
        if let Some(g) = input.given {
            if g != u.first_name {
                if let Some(m) = mention {
                    u.mention = m;
                }
            }
            u.first_name = g;
        }
        if let Some(f) = input.family {
            u.last_name = f;
        }
        if let Some(title) = input.title {
            u.job_title = title;
        }
        if let Some(r) = input.role {
            u.role = r;
        }
        if let Some(tz) = input.timezone {
            u.timezone = tz;
        }
        if input.external_id.is_some() {
            u.external_id = input.external_id;
        }
        match input.active {
            Some(false) => u.status = UserStatus::Inactive,
            Some(true) if u.status == UserStatus::Inactive => u.status = UserStatus::Active,
            _ => {}
        }
        u.updated_at = now;
        let u = u.clone();
        Ok(self.user_json(&t, &u))
    }

    fn delete_user(&self, id: &str) -> Result<(), ScimError> {
        let uid = parse_id(id).ok_or_else(|| ScimError::not_found(id))?;
        let now = self.0.now();
        let mut t = self.0.tenant.lock();
        match t.users.get_mut(&uid) {
            Some(u) if u.status.scim_visible() => {
                if u.status != UserStatus::Inactive {
                    u.status = UserStatus::Inactive;
                    u.updated_at = now;
                }
                Ok(())
            }
            _ => Err(ScimError::not_found(id)),
        }
    }

    fn list_groups(&self) -> Vec<Value> {
        let t = self.0.tenant.lock();
        t.teams
            .values()
            .map(|team| self.group_json(&t, team))
            .collect()
    }

    fn get_group(&self, id: &str) -> Option<Value> {
        let id = parse_id(id)?;
        let t = self.0.tenant.lock();
        t.teams.get(&id).map(|team| self.group_json(&t, team))
    }

    fn create_group(&self, resource: Value) -> Result<Value, ScimError> {
        let now = self.0.now();
        let mut t = self.0.tenant.lock();
        let (name, members, external_id) = Self::group_input(&t, resource, None)?;
        let id = t.next_id;
        t.next_id += 1;
        let team = Team {
            id,
            mention: name
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_lowercase())
                .collect(),
            name,
            timezone: timezone_for(id),
            created_at: now,
            updated_at: now,
            members,
            external_id,
        };
        let v = self.group_json(&t, &team);
        t.teams.insert(id, team);
        Ok(v)
    }

    fn replace_group(&self, id: &str, resource: Value) -> Result<Value, ScimError> {
        let gid = parse_id(id).ok_or_else(|| ScimError::not_found(id))?;
        let now = self.0.now();
        let mut t = self.0.tenant.lock();
        if !t.teams.contains_key(&gid) {
            return Err(ScimError::not_found(id));
        }
        let (name, mut members, external_id) = Self::group_input(&t, resource, Some(gid))?;
        // Members SCIM cannot see (deleted users) stay as they were.
        let hidden: Vec<u64> = t
            .teams
            .get(&gid)
            .map(|team| {
                team.members
                    .iter()
                    .copied()
                    .filter(|m| !t.users.get(m).is_some_and(|u| u.status.scim_visible()))
                    .collect()
            })
            .unwrap_or_default();
        members.extend(hidden);
        let Some(team) = t.teams.get_mut(&gid) else {
            return Err(ScimError::not_found(id));
        };
        team.name = name;
        team.members = members;
        if external_id.is_some() {
            team.external_id = external_id;
        }
        team.updated_at = now;
        let team = team.clone();
        Ok(self.group_json(&t, &team))
    }

    fn delete_group(&self, id: &str) -> Result<(), ScimError> {
        let gid = parse_id(id).ok_or_else(|| ScimError::not_found(id))?;
        match self.0.tenant.lock().teams.remove(&gid) {
            Some(_) => Ok(()),
            None => Err(ScimError::not_found(id)),
        }
    }
}
