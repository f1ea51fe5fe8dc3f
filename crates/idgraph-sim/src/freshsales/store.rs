//! The Freshsales tenant in memory: one record per user, present in the REST (CRM) namespace,
//! the SCIM (Freshworks) namespace or both, the roles that SCIM groups map to, and the
//! renderings of both namespaces. Pure data: no HTTP, time is passed in.

use crate::clock::rfc3339;
use crate::company::{token_from_seed, SeedAccount, SeedStatus};
use crate::scim_server::ScimError;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use time::OffsetDateTime;

/// First id of roles (the guide's `role_id`).
pub const ROLE_ID_BASE: u64 = 31_000_000_001;
/// Roles of a tenant whose catalog names none.
pub const DEFAULT_ROLES: [&str; 4] = ["Account Admin", "Admin", "Sales Manager", "Sales Rep"];
/// The SCIM User schema URN.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The SCIM Group schema URN.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// A user's state in Freshsales.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Active,
    /// Deactivated: CRM access revoked, absent from `selector/owners`, `active=false` in SCIM.
    Inactive,
    /// Invited (created over SCIM or seeded as pending) and not yet accepted: `active=true` in
    /// SCIM, `is_active=false` and absent from `selector/owners` in REST.
    Invited,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Inactive => "inactive",
            Status::Invited => "invited",
        }
    }
}

/// One Freshsales role (a SCIM group).
#[derive(Clone, Debug)]
pub struct Role {
    pub id: u64,
    pub name: String,
    pub scim_id: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// One Freshsales user.
#[derive(Clone, Debug)]
pub struct User {
    /// The CRM id; rendered only when `rest` (SCIM-only users have no CRM user record).
    pub crm_id: u64,
    /// The SCIM id; `Some` exactly when the user is in the SCIM namespace.
    pub scim_id: Option<String>,
    /// In the REST (CRM) namespace.
    pub rest: bool,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// Explicit display name; `None` renders `first_name last_name`.
    pub display_name: Option<String>,
    pub job_title: Option<String>,
    pub department: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub role_id: u64,
    pub territory_id: Option<u64>,
    pub status: Status,
    pub time_zone: String,
    pub language: String,
    pub external_id: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub last_login_at: Option<OffsetDateTime>,
}

impl User {
    pub fn display(&self) -> String {
        match &self.display_name {
            Some(d) if !d.is_empty() => d.clone(),
            _ => format!("{} {}", self.first_name, self.last_name)
                .trim()
                .to_string(),
        }
    }

    /// Listed by `selector/owners`: in the REST namespace, active (not deactivated, not a
    /// pending invite).
    pub fn is_owner(&self) -> bool {
        self.rest && self.status == Status::Active
    }
}

/// The tenant's users and roles.
#[derive(Debug)]
pub struct Store {
    /// Sorted by CRM id (new users get the next id, so appending keeps the order).
    pub users: Vec<User>,
    by_crm: HashMap<u64, usize>,
    by_scim: HashMap<String, usize>,
    pub roles: Vec<Role>,
    /// The role a user falls back to when removed from a group (lowest privilege).
    pub default_role: u64,
    next_crm_id: u64,
    next_role_id: u64,
    scim_seq: u64,
    seed: u64,
}

fn lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

impl Store {
    /// Seeds the store. `roles` are role names from the catalog (defaults when empty).
    pub fn seed(
        seed: u64,
        accounts: &[&SeedAccount],
        role_names: &[String],
        territories: &[String],
        anchor: OffsetDateTime,
    ) -> Self {
        let names: Vec<String> = if role_names.is_empty() {
            DEFAULT_ROLES.iter().map(|s| s.to_string()).collect()
        } else {
            role_names.to_vec()
        };
        let roles: Vec<Role> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let id = ROLE_ID_BASE + i as u64;
                Role {
                    id,
                    name: name.clone(),
                    scim_id: token_from_seed(seed, &format!("freshsales:scim-group:{id}"), 24),
                    created_at: anchor - time::Duration::days(400),
                    updated_at: anchor - time::Duration::days(400),
                }
            })
            .collect();
        let default_role = roles
            .iter()
            .find(|r| {
                let n = lower(&r.name);
                n.contains("rep") || n.contains("agent") || n.contains("member")
            })
            .or_else(|| roles.last())
            .map_or(ROLE_ID_BASE, |r| r.id);
        let role_by_name: HashMap<String, u64> =
            roles.iter().map(|r| (lower(&r.name), r.id)).collect();
        let mut users: Vec<User> = accounts
            .iter()
            .filter(|a| a.namespaces.rest || a.namespaces.scim)
            .map(|a| {
                let role_id = a
                    .roles
                    .first()
                    .and_then(|r| role_by_name.get(&lower(r)).copied())
                    .unwrap_or(default_role);
                let territory_id = a.groups.first().and_then(|g| {
                    territories
                        .iter()
                        .position(|t| t.eq_ignore_ascii_case(g))
                        .map(|i| 70_000_000_001 + i as u64)
                });
                let scim_id = a.namespaces.scim.then(|| {
                    a.scim_id.clone().unwrap_or_else(|| {
                        token_from_seed(seed, &format!("freshsales:scim-user:{}", a.native_id), 32)
                    })
                });
                User {
                    crm_id: a.native_id,
                    scim_id,
                    rest: a.namespaces.rest,
                    email: a.email.clone(),
                    first_name: a.first_name.clone(),
                    last_name: a.last_name.clone(),
                    display_name: None,
                    job_title: a.job_title.clone(),
                    department: a.department.clone(),
                    phone: None,
                    mobile: None,
                    role_id,
                    territory_id,
                    status: match a.status {
                        SeedStatus::Active => Status::Active,
                        SeedStatus::Pending => Status::Invited,
                        SeedStatus::Inactive | SeedStatus::Deleted => Status::Inactive,
                    },
                    time_zone: "Etc/UTC".to_string(),
                    language: "en".to_string(),
                    external_id: None,
                    created_at: a.created_at,
                    updated_at: a.updated_at,
                    last_login_at: a.last_login_at,
                }
            })
            .collect();
        users.sort_by_key(|u| u.crm_id);
        let next_crm_id = users.last().map_or(1, |u| u.crm_id + 1);
        let next_role_id = ROLE_ID_BASE + roles.len() as u64;
        let mut store = Store {
            users,
            by_crm: HashMap::new(),
            by_scim: HashMap::new(),
            roles,
            default_role,
            next_crm_id,
            next_role_id,
            scim_seq: 0,
            seed,
        };
        store.reindex();
        store
    }

    fn reindex(&mut self) {
        self.by_crm = self
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.crm_id, i))
            .collect();
        self.by_scim = self
            .users
            .iter()
            .enumerate()
            .filter_map(|(i, u)| u.scim_id.clone().map(|s| (s, i)))
            .collect();
    }

    /// Adds a user with the next CRM id (used when a tenant needs an API-key owner).
    pub fn push_user(&mut self, mut user: User) -> u64 {
        user.crm_id = self.next_crm_id;
        self.next_crm_id += 1;
        let id = user.crm_id;
        if let Some(s) = &user.scim_id {
            self.by_scim.insert(s.clone(), self.users.len());
        }
        self.by_crm.insert(id, self.users.len());
        self.users.push(user);
        id
    }

    pub fn by_crm(&self, id: u64) -> Option<&User> {
        self.by_crm.get(&id).map(|&i| &self.users[i])
    }

    pub fn by_scim(&self, id: &str) -> Option<&User> {
        self.by_scim.get(id).map(|&i| &self.users[i])
    }

    /// Index of a user by CRM id (digits) or SCIM id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        if let Ok(n) = id.parse::<u64>() {
            if let Some(&i) = self.by_crm.get(&n) {
                return Some(i);
            }
        }
        self.by_scim.get(id).copied()
    }

    fn index_by_email(&self, email: &str) -> Option<usize> {
        self.users
            .iter()
            .position(|u| u.email.eq_ignore_ascii_case(email))
    }

    pub fn role(&self, id: u64) -> Option<&Role> {
        self.roles.iter().find(|r| r.id == id)
    }

    fn new_scim_id(&mut self) -> String {
        loop {
            self.scim_seq += 1;
            let id = token_from_seed(
                self.seed,
                &format!("freshsales:scim-created:{}", self.scim_seq),
                32,
            );
            if !self.by_scim.contains_key(&id) {
                return id;
            }
        }
    }

    // ---------------------------------------------------------------- renderings

    /// A user as the REST API renders it (`selector/owners`, `settings/profile`).
    pub fn rest_user(&self, u: &User) -> Value {
        let display = u.display();
        json!({
            "id": u.crm_id,
            "display_name": display,
            "name": display,
            "first_name": u.first_name,
            "last_name": u.last_name,
            "email": u.email,
            "is_active": u.status == Status::Active,
            "role_id": u.role_id,
            "territory_id": u.territory_id,
            "job_title": u.job_title,
            "phone": u.phone,
            "work_number": u.phone,
            "mobile": u.mobile,
            "mobile_number": u.mobile,
            "time_zone": u.time_zone,
            "language": u.language,
            "created_at": rfc3339(u.created_at),
            "updated_at": rfc3339(u.updated_at),
        })
    }

    /// A user as SCIM renders it (only for users with a SCIM id).
    pub fn scim_user(&self, u: &User) -> Value {
        let mut phones = Vec::new();
        if let Some(p) = &u.phone {
            phones.push(json!({"value": p, "type": "work"}));
        }
        if let Some(p) = &u.mobile {
            phones.push(json!({"value": p, "type": "mobile"}));
        }
        let role = self.role(u.role_id);
        let mut v = json!({
            "schemas": [USER_SCHEMA],
            "id": u.scim_id,
            "userName": u.email,
            "name": {
                "givenName": u.first_name,
                "familyName": u.last_name,
                "formatted": format!("{} {}", u.first_name, u.last_name).trim(),
            },
            "displayName": u.display(),
            "emails": [{"value": u.email, "primary": true, "type": "work"}],
            "active": u.status != Status::Inactive,
            "roles": [{
                "value": u.role_id.to_string(),
                "display": role.map(|r| r.name.clone()),
                "primary": true,
            }],
            "groups": role.map(|r| vec![json!({"value": r.scim_id, "display": r.name})]).unwrap_or_default(),
            "meta": {
                "resourceType": "User",
                "created": rfc3339(u.created_at),
                "lastModified": rfc3339(u.updated_at),
            },
        });
        if let Some(obj) = v.as_object_mut() {
            if let Some(t) = &u.job_title {
                obj.insert("title".into(), json!(t));
            }
            if let Some(e) = &u.external_id {
                obj.insert("externalId".into(), json!(e));
            }
            if !phones.is_empty() {
                obj.insert("phoneNumbers".into(), Value::Array(phones));
            }
        }
        v
    }

    pub fn rest_role(&self, r: &Role) -> Value {
        json!({"id": r.id, "name": r.name})
    }

    /// A role as a SCIM group; members are the role's users in the SCIM namespace.
    pub fn scim_group(&self, r: &Role) -> Value {
        let members: Vec<Value> = self
            .users
            .iter()
            .filter(|u| u.role_id == r.id)
            .filter_map(|u| {
                u.scim_id
                    .as_ref()
                    .map(|s| json!({"value": s, "display": u.email, "type": "User"}))
            })
            .collect();
        json!({
            "schemas": [GROUP_SCHEMA],
            "id": r.scim_id,
            "displayName": r.name,
            "members": members,
            "meta": {
                "resourceType": "Group",
                "created": rfc3339(r.created_at),
                "lastModified": rfc3339(r.updated_at),
            },
        })
    }

    /// Active, owner-eligible users in CRM id order (`selector/owners`).
    pub fn owners(&self) -> Vec<&User> {
        self.users.iter().filter(|u| u.is_owner()).collect()
    }

    // ---------------------------------------------------------------- SCIM users

    pub fn scim_users(&self) -> Vec<Value> {
        self.users
            .iter()
            .filter(|u| u.scim_id.is_some())
            .map(|u| self.scim_user(u))
            .collect()
    }

    /// Users `skip..skip + take` of [`Self::scim_users`] and their total, rendering only those.
    pub fn scim_users_page(&self, skip: usize, take: usize) -> (Vec<Value>, usize) {
        let listed = || self.users.iter().filter(|u| u.scim_id.is_some());
        let page = listed()
            .skip(skip)
            .take(take)
            .map(|u| self.scim_user(u))
            .collect();
        (page, listed().count())
    }

    pub fn scim_get_user(&self, id: &str) -> Option<Value> {
        self.by_scim(id).map(|u| self.scim_user(u))
    }

    /// `POST /Users`. A new email creates an invited user (CRM id and SCIM id at once; listed
    /// as an owner once the invite is accepted). The email of a user already in the REST
    /// namespace only links that user into SCIM. An email already in SCIM is a conflict.
    pub fn scim_create_user(
        &mut self,
        resource: &Value,
        now: OffsetDateTime,
    ) -> Result<Value, ScimError> {
        let input = ScimUserInput::parse(resource, self)?;
        let idx = match self.index_by_email(&input.email) {
            Some(i) if self.users[i].scim_id.is_some() => {
                return Err(ScimError::new(
                    409,
                    Some("uniqueness"),
                    format!("User with userName {} already exists", input.email),
                ))
            }
            Some(i) => {
                let sid = self.new_scim_id();
                self.users[i].scim_id = Some(sid.clone());
                self.by_scim.insert(sid, i);
                i
            }
            None => {
                let sid = self.new_scim_id();
                let user = User {
                    crm_id: 0,
                    scim_id: Some(sid),
                    rest: true,
                    email: input.email.clone(),
                    first_name: String::new(),
                    last_name: String::new(),
                    display_name: None,
                    job_title: None,
                    department: None,
                    phone: None,
                    mobile: None,
                    role_id: self.default_role,
                    territory_id: None,
                    status: Status::Invited,
                    time_zone: "Etc/UTC".to_string(),
                    language: "en".to_string(),
                    external_id: None,
                    created_at: now,
                    updated_at: now,
                    last_login_at: None,
                };
                self.push_user(user);
                self.users.len() - 1
            }
        };
        input.apply(&mut self.users[idx], now);
        Ok(self.scim_user(&self.users[idx]))
    }

    /// `PUT /Users/{id}`: full replacement (optional attributes left out are cleared;
    /// `name` and `active` keep their value when absent).
    pub fn scim_replace_user(
        &mut self,
        id: &str,
        resource: &Value,
        now: OffsetDateTime,
    ) -> Result<Value, ScimError> {
        let idx = *self
            .by_scim
            .get(id)
            .ok_or_else(|| ScimError::not_found(id))?;
        let input = ScimUserInput::parse(resource, self)?;
        if let Some(other) = self.index_by_email(&input.email) {
            if other != idx {
                return Err(ScimError::new(
                    409,
                    Some("uniqueness"),
                    format!("userName {} already belongs to another user", input.email),
                ));
            }
        }
        input.apply(&mut self.users[idx], now);
        Ok(self.scim_user(&self.users[idx]))
    }

    /// `DELETE /Users/{id}`: deactivates (the record stays, `active=false`).
    pub fn scim_delete_user(&mut self, id: &str, now: OffsetDateTime) -> Result<(), ScimError> {
        let idx = *self
            .by_scim
            .get(id)
            .ok_or_else(|| ScimError::not_found(id))?;
        let u = &mut self.users[idx];
        if u.status != Status::Inactive {
            u.status = Status::Inactive;
            u.updated_at = now;
        }
        Ok(())
    }

    // ---------------------------------------------------------------- SCIM groups

    pub fn scim_groups(&self) -> Vec<Value> {
        self.roles.iter().map(|r| self.scim_group(r)).collect()
    }

    pub fn scim_get_group(&self, id: &str) -> Option<Value> {
        self.roles
            .iter()
            .find(|r| r.scim_id == id)
            .map(|r| self.scim_group(r))
    }

    fn group_input(&self, resource: &Value) -> Result<(String, Option<Vec<usize>>), ScimError> {
        let obj = resource.as_object().ok_or_else(|| {
            ScimError::new(
                400,
                Some("invalidSyntax"),
                "the Group body must be a JSON object",
            )
        })?;
        let name = ci(obj, "displayName")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                ScimError::new(
                    400,
                    Some("invalidValue"),
                    "displayName is required (the role name)",
                )
            })?
            .to_string();
        let members = match ci(obj, "members") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                for (n, m) in items.iter().enumerate() {
                    let value = m
                        .as_object()
                        .and_then(|m| ci(m, "value"))
                        .and_then(Value::as_str)
                        .ok_or_else(|| {
                            ScimError::new(
                                400,
                                Some("invalidValue"),
                                format!("members[{n}].value must be a SCIM user id"),
                            )
                        })?;
                    let idx = *self.by_scim.get(value).ok_or_else(|| {
                        ScimError::new(
                            400,
                            Some("invalidValue"),
                            format!("members[{n}].value {value} is not a SCIM user id"),
                        )
                    })?;
                    out.push(idx);
                }
                Some(out)
            }
            Some(_) => {
                return Err(ScimError::new(
                    400,
                    Some("invalidValue"),
                    "members must be an array",
                ))
            }
        };
        Ok((name, members))
    }

    fn check_role_name(&self, name: &str, except: Option<u64>) -> Result<(), ScimError> {
        if self
            .roles
            .iter()
            .any(|r| Some(r.id) != except && r.name.eq_ignore_ascii_case(name))
        {
            return Err(ScimError::new(
                409,
                Some("uniqueness"),
                format!("a role named {name} already exists"),
            ));
        }
        Ok(())
    }

    /// Sets the role's members: listed users get the role, users of the role left out fall
    /// back to the default role (a user always holds exactly one role).
    fn set_members(&mut self, role_id: u64, members: &[usize], now: OffsetDateTime) {
        let default_role = self.default_role;
        for (i, u) in self.users.iter_mut().enumerate() {
            let listed = members.contains(&i);
            if listed && u.role_id != role_id {
                u.role_id = role_id;
                u.updated_at = now;
            } else if !listed
                && u.role_id == role_id
                && u.scim_id.is_some()
                && role_id != default_role
            {
                u.role_id = default_role;
                u.updated_at = now;
            }
        }
    }

    /// `POST /Groups`: a new role.
    pub fn scim_create_group(
        &mut self,
        resource: &Value,
        now: OffsetDateTime,
    ) -> Result<Value, ScimError> {
        let (name, members) = self.group_input(resource)?;
        self.check_role_name(&name, None)?;
        let id = self.next_role_id;
        self.next_role_id += 1;
        self.roles.push(Role {
            id,
            name,
            scim_id: token_from_seed(self.seed, &format!("freshsales:scim-group:{id}"), 24),
            created_at: now,
            updated_at: now,
        });
        if let Some(m) = members {
            self.set_members(id, &m, now);
        }
        let r = self.roles.last().map(|r| self.scim_group(r));
        r.ok_or_else(|| ScimError::new(500, None, "role vanished"))
    }

    /// `PUT /Groups/{id}`: renames the role and sets its members.
    pub fn scim_replace_group(
        &mut self,
        id: &str,
        resource: &Value,
        now: OffsetDateTime,
    ) -> Result<Value, ScimError> {
        let pos = self
            .roles
            .iter()
            .position(|r| r.scim_id == id)
            .ok_or_else(|| ScimError::not_found(id))?;
        let (name, members) = self.group_input(resource)?;
        let role_id = self.roles[pos].id;
        self.check_role_name(&name, Some(role_id))?;
        if self.roles[pos].name != name {
            self.roles[pos].name = name;
        }
        self.roles[pos].updated_at = now;
        self.set_members(role_id, &members.unwrap_or_default(), now);
        Ok(self.scim_group(&self.roles[pos]))
    }

    /// `DELETE /Groups/{id}`: deletes the role; its users fall back to the default role,
    /// which itself cannot be deleted.
    pub fn scim_delete_group(&mut self, id: &str, now: OffsetDateTime) -> Result<(), ScimError> {
        let pos = self
            .roles
            .iter()
            .position(|r| r.scim_id == id)
            .ok_or_else(|| ScimError::not_found(id))?;
        let role_id = self.roles[pos].id;
        if role_id == self.default_role {
            return Err(ScimError::new(
                400,
                Some("mutability"),
                format!(
                    "role {} is the default role of new users and cannot be deleted",
                    self.roles[pos].name
                ),
            ));
        }
        let default_role = self.default_role;
        for u in self.users.iter_mut().filter(|u| u.role_id == role_id) {
            u.role_id = default_role;
            u.updated_at = now;
        }
        self.roles.remove(pos);
        Ok(())
    }

    // ---------------------------------------------------------------- control

    /// `PATCH /_sim/records/users/{id}`: overwrites fields, bumps `updated_at`.
    pub fn control_patch(
        &mut self,
        id: &str,
        fields: &Value,
        now: OffsetDateTime,
    ) -> Result<Value, String> {
        let idx = self
            .index_of(id)
            .ok_or_else(|| format!("no Freshsales user with CRM id or SCIM id `{id}`"))?;
        let obj = fields
            .as_object()
            .ok_or_else(|| "the body must be a JSON object of fields to overwrite".to_string())?;
        let mut u = self.users[idx].clone();
        let mut new_scim: Option<Option<String>> = None;
        for (k, v) in obj {
            let field_err = |what: &str| format!("field `{k}` of user {id}: {what}");
            let opt_str = |v: &Value| -> Result<Option<String>, String> {
                match v {
                    Value::Null => Ok(None),
                    Value::String(s) => Ok(Some(s.clone())),
                    _ => Err(field_err("expected a string or null")),
                }
            };
            let req_str = |v: &Value| -> Result<String, String> {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| field_err("expected a string"))
            };
            match k.as_str() {
                "email" => {
                    let e = req_str(v)?;
                    if let Some(o) = self.index_by_email(&e) {
                        if o != idx {
                            return Err(field_err("email already belongs to another user"));
                        }
                    }
                    u.email = e;
                }
                "first_name" => u.first_name = req_str(v)?,
                "last_name" => u.last_name = req_str(v)?,
                "display_name" => u.display_name = opt_str(v)?,
                "job_title" => u.job_title = opt_str(v)?,
                "department" => u.department = opt_str(v)?,
                "phone" | "work_number" => u.phone = opt_str(v)?,
                "mobile" | "mobile_number" => u.mobile = opt_str(v)?,
                "time_zone" => u.time_zone = req_str(v)?,
                "language" => u.language = req_str(v)?,
                "external_id" => u.external_id = opt_str(v)?,
                "role_id" => {
                    let r = v.as_u64().ok_or_else(|| field_err("expected a role id"))?;
                    if self.role(r).is_none() {
                        return Err(field_err("no such role id"));
                    }
                    u.role_id = r;
                }
                "role" => {
                    let name = req_str(v)?;
                    u.role_id = self
                        .roles
                        .iter()
                        .find(|r| r.name.eq_ignore_ascii_case(&name))
                        .map(|r| r.id)
                        .ok_or_else(|| field_err("no role with that name"))?;
                }
                "territory_id" => {
                    u.territory_id = match v {
                        Value::Null => None,
                        _ => Some(v.as_u64().ok_or_else(|| field_err("expected an id"))?),
                    }
                }
                "is_active" => {
                    let b = v.as_bool().ok_or_else(|| field_err("expected a boolean"))?;
                    u.status = if b { Status::Active } else { Status::Inactive };
                }
                "status" => {
                    u.status = match v.as_str() {
                        Some("active") => Status::Active,
                        Some("inactive") => Status::Inactive,
                        Some("invited") | Some("pending") => Status::Invited,
                        _ => return Err(field_err("expected active, inactive or invited")),
                    }
                }
                "rest" => u.rest = v.as_bool().ok_or_else(|| field_err("expected a boolean"))?,
                "scim" => {
                    let b = v.as_bool().ok_or_else(|| field_err("expected a boolean"))?;
                    if b && u.scim_id.is_none() {
                        new_scim = Some(Some(String::new()));
                    } else if !b {
                        new_scim = Some(None);
                    }
                }
                "last_login_at" => {
                    u.last_login_at = match v {
                        Value::Null => None,
                        Value::String(s) => Some(
                            crate::clock::parse_timestamp(s)
                                .ok_or_else(|| field_err("expected an RFC 3339 timestamp"))?,
                        ),
                        _ => return Err(field_err("expected a timestamp or null")),
                    }
                }
                _ => {
                    return Err(format!(
                        "unknown field `{k}` for Freshsales users (expected email, first_name, last_name, display_name, job_title, department, phone, mobile, time_zone, language, external_id, role_id, role, territory_id, is_active, status, rest, scim, last_login_at)"
                    ))
                }
            }
        }
        match new_scim {
            Some(Some(_)) => u.scim_id = Some(self.new_scim_id()),
            Some(None) => u.scim_id = None,
            None => {}
        }
        u.updated_at = now;
        self.users[idx] = u;
        self.reindex();
        Ok(self.state_user(&self.users[idx]))
    }

    /// `POST /_sim/records/users/{id}/deactivate`.
    pub fn control_deactivate(&mut self, id: &str, now: OffsetDateTime) -> Result<Value, String> {
        self.control_set_status(id, Status::Inactive, now)
    }

    /// `POST /_sim/records/users/{id}/accept`: the invitee accepts (first login).
    pub fn control_accept(&mut self, id: &str, now: OffsetDateTime) -> Result<Value, String> {
        let idx = self
            .index_of(id)
            .ok_or_else(|| format!("no Freshsales user with CRM id or SCIM id `{id}`"))?;
        if self.users[idx].status != Status::Invited {
            return Err(format!(
                "user {id} is {}, not a pending invite",
                self.users[idx].status.as_str()
            ));
        }
        self.users[idx].last_login_at = Some(now);
        self.control_set_status(id, Status::Active, now)
    }

    fn control_set_status(
        &mut self,
        id: &str,
        status: Status,
        now: OffsetDateTime,
    ) -> Result<Value, String> {
        let idx = self
            .index_of(id)
            .ok_or_else(|| format!("no Freshsales user with CRM id or SCIM id `{id}`"))?;
        let u = &mut self.users[idx];
        u.status = status;
        u.updated_at = now;
        Ok(self.state_user(&self.users[idx]))
    }

    /// One user of `GET /_sim/state`: both namespaces and the join.
    pub fn state_user(&self, u: &User) -> Value {
        json!({
            "crm_id": u.rest.then_some(u.crm_id),
            "scim_id": u.scim_id,
            "email": u.email,
            "status": u.status.as_str(),
            "owner": u.is_owner(),
            "rest": u.rest.then(|| self.rest_user(u)),
            "scim": u.scim_id.as_ref().map(|_| self.scim_user(u)),
        })
    }
}

/// The attributes of a SCIM User body that Freshsales keeps.
struct ScimUserInput {
    email: String,
    given: Option<String>,
    family: Option<String>,
    name_present: bool,
    display_name: Option<String>,
    title: Option<String>,
    external_id: Option<String>,
    active: Option<bool>,
    role_id: Option<u64>,
    phone: Option<String>,
    mobile: Option<String>,
}

fn bad(detail: impl Into<String>) -> ScimError {
    ScimError::new(400, Some("invalidValue"), detail)
}

/// An attribute by name, case-insensitively (RFC 7643 §2.1).
fn ci<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn opt_string(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, ScimError> {
    match ci(obj, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(format!("{key} must be a string"))),
    }
}

impl ScimUserInput {
    fn parse(resource: &Value, store: &Store) -> Result<Self, ScimError> {
        let obj = resource.as_object().ok_or_else(|| {
            ScimError::new(
                400,
                Some("invalidSyntax"),
                "the User body must be a JSON object",
            )
        })?;
        let primary_email = ci(obj, "emails").and_then(Value::as_array).and_then(|a| {
            a.iter()
                .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
                .or_else(|| a.first())
                .and_then(|e| e.as_object().and_then(|e| ci(e, "value")))
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        let email = opt_string(obj, "userName")?
            .or(primary_email)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("userName is required (the user's email address)"))?;
        if !email.contains('@') {
            return Err(bad(format!(
                "userName {email} must be an email address (Freshworks logs users in by email)"
            )));
        }
        let (given, family, name_present) = match ci(obj, "name") {
            None | Some(Value::Null) => (None, None, false),
            Some(Value::Object(n)) => (
                opt_string(n, "givenName")?,
                opt_string(n, "familyName")?,
                true,
            ),
            Some(_) => return Err(bad("name must be an object")),
        };
        let active = match ci(obj, "active") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(Value::String(s)) => Some(
                crate::common::parse_bool(s)
                    .ok_or_else(|| bad(format!("active must be a boolean, got \"{s}\"")))?,
            ),
            Some(_) => return Err(bad("active must be a boolean")),
        };
        let role_id = match ci(obj, "roles") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => {
                let pick = items
                    .iter()
                    .find(|r| r.get("primary").and_then(Value::as_bool) == Some(true))
                    .or_else(|| items.first());
                match pick.and_then(|r| r.get("value")) {
                    None => None,
                    Some(v) => {
                        let text = match v {
                            Value::String(s) => s.clone(),
                            Value::Number(n) => n.to_string(),
                            _ => return Err(bad("roles[].value must be a role id")),
                        };
                        let found = text
                            .parse::<u64>()
                            .ok()
                            .and_then(|n| store.role(n))
                            .or_else(|| {
                                store
                                    .roles
                                    .iter()
                                    .find(|r| r.name.eq_ignore_ascii_case(&text))
                            })
                            .map(|r| r.id);
                        Some(found.ok_or_else(|| {
                            bad(format!(
                                "roles value {text} is not a role id from GET /crm/sales/api/selector/roles"
                            ))
                        })?)
                    }
                }
            }
            Some(_) => return Err(bad("roles must be an array")),
        };
        let (mut phone, mut mobile) = (None, None);
        if let Some(Value::Array(items)) = ci(obj, "phoneNumbers") {
            for p in items {
                let value = p.get("value").and_then(Value::as_str).map(str::to_string);
                match p.get("type").and_then(Value::as_str) {
                    Some("mobile") => mobile = value,
                    _ => {
                        if phone.is_none() {
                            phone = value;
                        }
                    }
                }
            }
        }
        Ok(Self {
            email,
            given,
            family,
            name_present,
            display_name: opt_string(obj, "displayName")?,
            title: opt_string(obj, "title")?,
            external_id: opt_string(obj, "externalId")?,
            active,
            role_id,
            phone,
            mobile,
        })
    }

    /// Full replacement of what Freshsales keeps. A missing `name` keeps the name (a first
    /// name is required), a missing `active` keeps the state, a missing `roles` keeps the role.
    fn apply(self, u: &mut User, now: OffsetDateTime) {
        u.email = self.email;
        if self.name_present || u.first_name.is_empty() {
            u.first_name = self
                .given
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| u.email.split('@').next().unwrap_or_default().to_string());
            u.last_name = self.family.unwrap_or_default();
        }
        u.display_name = self.display_name;
        u.job_title = self.title;
        u.external_id = self.external_id;
        u.phone = self.phone;
        u.mobile = self.mobile;
        if let Some(r) = self.role_id {
            u.role_id = r;
        }
        match self.active {
            Some(false) => u.status = Status::Inactive,
            Some(true) if u.status == Status::Inactive => u.status = Status::Active,
            _ => {}
        }
        u.updated_at = now;
    }
}
