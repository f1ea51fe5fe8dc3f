//! The records of one simulated Freshdesk account and every change the API can make to them,
//! without any HTTP: users (a contact, optionally with an agent part), roles, groups, the
//! contact companies, the seat count and the custom fields defined "in the admin UI".
//!
//! As in Freshdesk an agent *is* a user: the agent and its contact share one id. An agent is in
//! one of three states: active (contact verified), unconfirmed (contact not verified, never
//! logged in) or deactivated (`deactivated: true`, contact retained). The rendering functions
//! produce the vendor's JSON; [`ApiError`] carries the vendor's error bodies.

use crate::clock::rfc3339;
use crate::company::{AccountKind, Catalog, SeedAccount, SeedStatus};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use time::OffsetDateTime;

/// First id of the roles (Freshdesk ids are large integers).
pub const ROLE_ID_BASE: u64 = 43_000_100_001;
/// First id of the groups.
pub const GROUP_ID_BASE: u64 = 43_000_200_001;
/// First id of the contact companies.
pub const COMPANY_ID_BASE: u64 = 43_000_300_001;
/// Deep offset pagination cap (README: "deep offset pagination is capped by the server"):
/// a list request for a page beyond this is refused with a 400 validation error.
pub const DEFAULT_MAX_PAGE: u32 = 500;
/// Time zone given to users created without one.
pub const DEFAULT_TIME_ZONE: &str = "Eastern Time (US & Canada)";

/// Freshdesk's built-in roles, used when the company catalog has none.
const BUILT_IN_ROLES: [&str; 4] = [
    "Account Administrator",
    "Administrator",
    "Supervisor",
    "Agent",
];

/// Agent type: `support_agent`, `field_agent` or `collaborator`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentType {
    Support,
    Field,
    Collaborator,
}

impl AgentType {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentType::Support => "support_agent",
            AgentType::Field => "field_agent",
            AgentType::Collaborator => "collaborator",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "support_agent" => Some(AgentType::Support),
            "field_agent" => Some(AgentType::Field),
            "collaborator" => Some(AgentType::Collaborator),
            _ => None,
        }
    }

    /// The integer `agent_type` of the real API (1 support, 2 field, 3 collaborator).
    pub fn from_code(n: i64) -> Option<Self> {
        match n {
            1 => Some(AgentType::Support),
            2 => Some(AgentType::Field),
            3 => Some(AgentType::Collaborator),
            _ => None,
        }
    }
}

/// The agent part of a user.
#[derive(Clone, Debug)]
pub struct Agent {
    /// 1 global, 2 group, 3 restricted.
    pub ticket_scope: u8,
    pub role_ids: Vec<u64>,
    pub group_ids: Vec<u64>,
    pub skill_ids: Vec<u64>,
    pub kind: AgentType,
    pub occasional: bool,
    pub available: bool,
    pub available_since: Option<OffsetDateTime>,
    pub signature: Option<String>,
    pub focus_mode: bool,
    /// Deactivated (DELETE /agents/{id}, SCIM DELETE): kept, listed under `active=false`.
    pub deactivated: bool,
    pub custom_fields: BTreeMap<String, Value>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub last_active_at: Option<OffsetDateTime>,
}

/// A Freshdesk user: a contact, and an agent when `agent` is set.
#[derive(Clone, Debug)]
pub struct User {
    pub id: u64,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub twitter_id: Option<String>,
    pub unique_external_id: Option<String>,
    pub other_emails: Vec<String>,
    pub job_title: Option<String>,
    pub address: Option<String>,
    pub description: Option<String>,
    pub language: String,
    pub time_zone: String,
    pub company_id: Option<u64>,
    pub view_all_tickets: bool,
    pub tags: Vec<String>,
    pub custom_fields: BTreeMap<String, Value>,
    /// `contact.active`: the person verified their email (for agents: confirmed the invite).
    pub verified: bool,
    /// Soft-deleted contact (`deleted=true` / `state=deleted`).
    pub deleted: bool,
    pub last_login_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub agent: Option<Agent>,
}

/// Where an agent stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentState {
    Active,
    Unconfirmed,
    Deactivated,
}

impl User {
    /// Whether the record is served by the contacts endpoints: plain contacts, and deactivated
    /// agents (their contact record is retained).
    pub fn is_contact(&self) -> bool {
        self.agent.as_ref().is_none_or(|a| a.deactivated)
    }

    pub fn agent_state(&self) -> Option<AgentState> {
        let a = self.agent.as_ref()?;
        Some(if a.deactivated {
            AgentState::Deactivated
        } else if self.verified {
            AgentState::Active
        } else {
            AgentState::Unconfirmed
        })
    }

    /// Whether the agent takes a paid full-time seat: active or unconfirmed full-time support
    /// agents. Occasional agents use day passes; deactivated agents free their seat.
    pub fn consumes_seat(&self) -> bool {
        self.agent
            .as_ref()
            .is_some_and(|a| !a.deactivated && !a.occasional && a.kind == AgentType::Support)
    }
}

#[derive(Clone, Debug)]
pub struct Role {
    pub id: u64,
    pub name: String,
    pub default: bool,
    pub created_at: OffsetDateTime,
}

#[derive(Clone, Debug)]
pub struct Group {
    pub id: u64,
    pub name: String,
    pub description: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// One field-level error of a Freshdesk validation body.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
    pub code: &'static str,
    pub additional_info: Option<Value>,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>, code: &'static str) -> Self {
        Self {
            field: field.to_string(),
            message: message.into(),
            code,
            additional_info: None,
        }
    }
}

/// The errors of the Freshdesk API, rendered by the HTTP layer in the vendor's shapes.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiError {
    /// 404.
    NotFound { what: &'static str, id: String },
    /// 400 `{"description":"Validation failed","errors":[…]}`.
    Validation(Vec<FieldError>),
    /// 409, same body (duplicate values).
    Conflict(Vec<FieldError>),
    /// 405 (e.g. updating a deleted contact).
    MethodNotAllowed(String),
    /// 400 `{"code":"invalid_json",…}`.
    InvalidJson(String),
    /// 415 `{"code":"invalid_content_type",…}`: the `Content-Type` header that was sent.
    UnsupportedContentType(String),
}

impl ApiError {
    pub fn field(field: &str, message: impl Into<String>, code: &'static str) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message, code)])
    }
}

/// The account's records.
#[derive(Debug)]
pub struct Store {
    pub users: BTreeMap<u64, User>,
    /// Lower-cased primary email → user id (deleted contacts keep their email).
    pub by_email: HashMap<String, u64>,
    pub roles: Vec<Role>,
    pub groups: Vec<Group>,
    /// Contact company: email domain → company id.
    pub companies: BTreeMap<String, u64>,
    pub next_id: u64,
    /// Paid full-time agent seats.
    pub seat_limit: u32,
    pub max_page: u32,
    /// When the account was set up (roles, groups and companies date from then).
    pub seeded_at: OffsetDateTime,
    pub default_role: u64,
    /// Custom contact fields defined in the admin UI (the only keys `custom_fields` accepts).
    pub contact_fields: BTreeSet<String>,
    /// Custom agent fields defined in the admin UI.
    pub agent_fields: BTreeSet<String>,
}

fn full_name(first: &str, last: &str) -> String {
    format!("{first} {last}").trim().to_string()
}

fn domain_of(email: &str) -> Option<String> {
    email
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .filter(|d| !d.is_empty())
}

impl Store {
    /// Seeds the account from the company's Freshdesk accounts and catalog.
    /// `seat_limit` `None` gives seats for every seeded seat-taking agent plus 10%.
    pub fn seed<'a>(
        accounts: impl Iterator<Item = &'a SeedAccount>,
        catalog: &Catalog,
        own_domain: &str,
        seat_limit: Option<u32>,
        now: OffsetDateTime,
    ) -> Self {
        let mut store = Store {
            users: BTreeMap::new(),
            by_email: HashMap::new(),
            roles: Vec::new(),
            groups: Vec::new(),
            companies: BTreeMap::new(),
            next_id: 1,
            seat_limit: 0,
            seeded_at: now - time::Duration::days(3 * 365),
            max_page: DEFAULT_MAX_PAGE,
            default_role: ROLE_ID_BASE,
            contact_fields: ["account_tier", "region"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            agent_fields: ["cost_center"].iter().map(|s| s.to_string()).collect(),
        };
        let created = store.seeded_at;
        let mut role_names: Vec<String> = catalog.roles.clone();
        if role_names.is_empty() {
            role_names = BUILT_IN_ROLES.iter().map(|s| s.to_string()).collect();
        }
        for name in role_names {
            store.add_role(&name, created);
        }
        store.default_role = store
            .roles
            .iter()
            .find(|r| r.name == "Agent")
            .or_else(|| store.roles.first())
            .map_or(ROLE_ID_BASE, |r| r.id);
        for name in &catalog.groups {
            store.add_group(name, created);
        }
        let own_domain = own_domain.to_ascii_lowercase();
        let mut max_id = 0;
        for acc in accounts {
            max_id = max_id.max(acc.native_id);
            let user = store.user_from_seed(acc, &own_domain);
            if let Some(email) = &user.email {
                store.by_email.insert(email.to_ascii_lowercase(), user.id);
            }
            store.users.insert(user.id, user);
        }
        store.next_id = max_id.max(1_000) + 1;
        let used = store.seats_used();
        store.seat_limit = seat_limit.unwrap_or_else(|| (u64::from(used) * 11).div_ceil(10) as u32);
        store
    }

    fn add_role(&mut self, name: &str, at: OffsetDateTime) -> u64 {
        let id = ROLE_ID_BASE + self.roles.len() as u64;
        self.roles.push(Role {
            id,
            name: name.to_string(),
            default: BUILT_IN_ROLES.contains(&name),
            created_at: at,
        });
        id
    }

    pub(crate) fn add_group(&mut self, name: &str, at: OffsetDateTime) -> u64 {
        let id = self
            .groups
            .iter()
            .map(|g| g.id + 1)
            .max()
            .unwrap_or(GROUP_ID_BASE);
        self.groups.push(Group {
            id,
            name: name.to_string(),
            description: None,
            created_at: at,
            updated_at: at,
        });
        id
    }

    fn role_id(&mut self, name: &str, at: OffsetDateTime) -> u64 {
        match self.roles.iter().find(|r| r.name == name) {
            Some(r) => r.id,
            None => self.add_role(name, at),
        }
    }

    fn group_id(&mut self, name: &str, at: OffsetDateTime) -> u64 {
        match self.groups.iter().find(|g| g.name == name) {
            Some(g) => g.id,
            None => self.add_group(name, at),
        }
    }

    fn company_for(&mut self, email: &str, own_domain: &str) -> Option<u64> {
        let domain = domain_of(email)?;
        if domain == own_domain {
            return None;
        }
        let next = COMPANY_ID_BASE + self.companies.len() as u64;
        Some(*self.companies.entry(domain).or_insert(next))
    }

    fn user_from_seed(&mut self, acc: &SeedAccount, own_domain: &str) -> User {
        let mut user = User {
            id: acc.native_id,
            name: full_name(&acc.first_name, &acc.last_name),
            email: Some(acc.email.clone()),
            phone: None,
            mobile: None,
            twitter_id: None,
            unique_external_id: None,
            other_emails: Vec::new(),
            job_title: acc.job_title.clone(),
            address: None,
            description: None,
            language: "en".to_string(),
            time_zone: DEFAULT_TIME_ZONE.to_string(),
            company_id: None,
            view_all_tickets: false,
            tags: Vec::new(),
            custom_fields: BTreeMap::new(),
            verified: true,
            deleted: false,
            last_login_at: acc.last_login_at,
            created_at: acc.created_at,
            updated_at: acc.updated_at,
            agent: None,
        };
        if acc.kind == AccountKind::Agent {
            let role_ids = if acc.roles.is_empty() {
                vec![self.default_role]
            } else {
                acc.roles
                    .iter()
                    .map(|r| self.role_id(r, acc.created_at))
                    .collect()
            };
            let group_ids = acc
                .groups
                .iter()
                .map(|g| self.group_id(g, acc.created_at))
                .collect();
            let (verified, deactivated) = match acc.status {
                SeedStatus::Active => (true, false),
                SeedStatus::Pending => (false, false),
                SeedStatus::Inactive | SeedStatus::Deleted => (true, true),
            };
            user.verified = verified;
            if !verified {
                user.last_login_at = None;
            }
            user.agent = Some(Agent {
                ticket_scope: 1,
                role_ids,
                group_ids,
                skill_ids: Vec::new(),
                kind: AgentType::Support,
                occasional: acc.occasional,
                available: false,
                available_since: None,
                signature: None,
                focus_mode: false,
                deactivated,
                custom_fields: BTreeMap::new(),
                created_at: acc.created_at,
                updated_at: acc.updated_at,
                last_active_at: user.last_login_at,
            });
        } else {
            user.company_id = self.company_for(&acc.email, own_domain);
            match acc.status {
                SeedStatus::Active => {}
                SeedStatus::Inactive | SeedStatus::Pending => user.verified = false,
                SeedStatus::Deleted => user.deleted = true,
            }
        }
        user
    }

    /// Full-time seats taken now.
    pub fn seats_used(&self) -> u32 {
        self.users.values().filter(|u| u.consumes_seat()).count() as u32
    }

    /// The error when no full-time seat is left.
    pub fn seat_error(&self) -> ApiError {
        ApiError::field(
            "agent",
            format!(
                "You have reached the maximum number of agents your subscription allows ({} of {} seats used). You need to deactivate an existing agent or purchase additional agents.",
                self.seats_used(),
                self.seat_limit
            ),
            "max_agents_reached",
        )
    }

    fn check_seat(&self) -> Result<(), ApiError> {
        if self.seats_used() >= self.seat_limit {
            Err(self.seat_error())
        } else {
            Ok(())
        }
    }

    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.by_email
            .get(&email.to_ascii_lowercase())
            .and_then(|id| self.users.get(id))
    }

    fn duplicate_email(&self, email: &str, except: Option<u64>) -> Result<(), ApiError> {
        match self.by_email.get(&email.to_ascii_lowercase()) {
            Some(&id) if Some(id) != except => Err(ApiError::Conflict(vec![FieldError {
                field: "email".to_string(),
                message: "It should be a unique value".to_string(),
                code: "duplicate_value",
                additional_info: Some(json!({ "user_id": id })),
            }])),
            _ => Ok(()),
        }
    }

    fn alloc_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    // ----- rendering -------------------------------------------------------------------------

    fn custom_fields_json(defined: &BTreeSet<String>, set: &BTreeMap<String, Value>) -> Value {
        let mut m = Map::new();
        for k in defined {
            m.insert(k.clone(), set.get(k).cloned().unwrap_or(Value::Null));
        }
        Value::Object(m)
    }

    /// The agent as `GET /api/v2/agents/{id}` renders it. Besides the real API's fields the
    /// guide's examples show `name`, `email`, `job_title` and `active` at the top level; both
    /// are rendered.
    pub fn render_agent(&self, u: &User) -> Value {
        let Some(a) = &u.agent else {
            return Value::Null;
        };
        let ts = |t: Option<OffsetDateTime>| t.map_or(Value::Null, |t| Value::String(rfc3339(t)));
        json!({
            "id": u.id,
            "name": u.name,
            "email": u.email,
            "job_title": u.job_title,
            "active": u.agent_state() == Some(AgentState::Active),
            "deactivated": a.deactivated,
            "available": a.available,
            "available_since": ts(a.available_since),
            "occasional": a.occasional,
            "signature": a.signature,
            "ticket_scope": a.ticket_scope,
            "type": a.kind.as_str(),
            "role_ids": a.role_ids,
            "group_ids": a.group_ids,
            "skill_ids": a.skill_ids,
            "focus_mode": a.focus_mode,
            "agent_level_id": Value::Null,
            "custom_fields": Self::custom_fields_json(&self.agent_fields, &a.custom_fields),
            "created_at": rfc3339(a.created_at),
            "updated_at": rfc3339(a.updated_at),
            "last_active_at": ts(a.last_active_at),
            "contact": {
                "active": u.verified,
                "email": u.email,
                "job_title": u.job_title,
                "language": u.language,
                "last_login_at": ts(u.last_login_at),
                "mobile": u.mobile,
                "name": u.name,
                "phone": u.phone,
                "time_zone": u.time_zone,
                "created_at": rfc3339(u.created_at),
                "updated_at": rfc3339(u.updated_at),
            }
        })
    }

    /// The contact as `GET /api/v2/contacts/{id}` renders it.
    pub fn render_contact(&self, u: &User) -> Value {
        json!({
            "id": u.id,
            "name": u.name,
            "email": u.email,
            "phone": u.phone,
            "mobile": u.mobile,
            "twitter_id": u.twitter_id,
            "unique_external_id": u.unique_external_id,
            "other_emails": u.other_emails,
            "facebook_id": Value::Null,
            "company_id": u.company_id,
            "view_all_tickets": u.view_all_tickets,
            "other_companies": [],
            "active": u.verified,
            "deleted": u.deleted,
            "address": u.address,
            "description": u.description,
            "job_title": u.job_title,
            "language": u.language,
            "time_zone": u.time_zone,
            "tags": u.tags,
            "avatar": Value::Null,
            "csat_rating": Value::Null,
            "preferred_source": "email",
            "custom_fields": Self::custom_fields_json(&self.contact_fields, &u.custom_fields),
            "created_at": rfc3339(u.created_at),
            "updated_at": rfc3339(u.updated_at),
        })
    }

    pub fn render_role(&self, r: &Role) -> Value {
        json!({
            "id": r.id,
            "name": r.name,
            "description": format!("{} role", r.name),
            "default": r.default,
            "agent_type": 1,
            "created_at": rfc3339(r.created_at),
            "updated_at": rfc3339(r.created_at),
        })
    }

    /// A contact company (`GET /api/v2/companies`), named after its email domain.
    pub fn render_company(&self, domain: &str, id: u64) -> Value {
        let label = domain.split('.').next().unwrap_or(domain);
        let mut name: Vec<char> = label.chars().collect();
        if let Some(c) = name.first_mut() {
            *c = c.to_ascii_uppercase();
        }
        json!({
            "id": id,
            "name": name.into_iter().collect::<String>(),
            "description": Value::Null,
            "note": Value::Null,
            "domains": [domain],
            "health_score": Value::Null,
            "account_tier": Value::Null,
            "renewal_date": Value::Null,
            "industry": Value::Null,
            "custom_fields": {},
            "created_at": rfc3339(self.seeded_at),
            "updated_at": rfc3339(self.seeded_at),
        })
    }

    /// Agents by licence kind, as `GET /api/v2/account` counts them (`total_agents`):
    /// active and unconfirmed agents; deactivated ones hold no licence.
    pub fn agent_totals(&self) -> Value {
        let (mut full, mut occ, mut field, mut collab) = (0u32, 0u32, 0u32, 0u32);
        for a in self.users.values().filter_map(|u| u.agent.as_ref()) {
            if a.deactivated {
                continue;
            }
            match a.kind {
                AgentType::Support if a.occasional => occ += 1,
                AgentType::Support => full += 1,
                AgentType::Field => field += 1,
                AgentType::Collaborator => collab += 1,
            }
        }
        json!({"full_time": full, "occasional": occ, "field_service": field, "collaborators": collab})
    }

    /// Group id → ids of the agents in it, in one pass over the users.
    pub fn group_members(&self) -> HashMap<u64, Vec<u64>> {
        let mut m: HashMap<u64, Vec<u64>> = HashMap::new();
        for u in self.users.values() {
            if let Some(a) = &u.agent {
                for g in &a.group_ids {
                    m.entry(*g).or_default().push(u.id);
                }
            }
        }
        m
    }

    pub fn render_group(&self, g: &Group, members: &HashMap<u64, Vec<u64>>) -> Value {
        json!({
            "id": g.id,
            "name": g.name,
            "description": g.description,
            "escalate_to": Value::Null,
            "unassigned_for": Value::Null,
            "business_hour_id": Value::Null,
            "group_type": "support_agent_group",
            "auto_ticket_assign": 0,
            "agent_ids": members.get(&g.id).cloned().unwrap_or_default(),
            "created_at": rfc3339(g.created_at),
            "updated_at": rfc3339(g.updated_at),
        })
    }

    /// Every collection as the vendor renders it, deactivated agents and deleted contacts
    /// included (`GET /_sim/state`).
    pub fn state(&self) -> Value {
        let members = self.group_members();
        let agents: Vec<Value> = self
            .users
            .values()
            .filter(|u| u.agent.is_some())
            .map(|u| self.render_agent(u))
            .collect();
        let contacts: Vec<Value> = self
            .users
            .values()
            .filter(|u| u.is_contact())
            .map(|u| self.render_contact(u))
            .collect();
        json!({
            "agents": agents,
            "contacts": contacts,
            "roles": self.roles.iter().map(|r| self.render_role(r)).collect::<Vec<_>>(),
            "groups": self.groups.iter().map(|g| self.render_group(g, &members)).collect::<Vec<_>>(),
            "companies": self.companies.iter().map(|(d, id)| json!({"id": id, "domains": [d]})).collect::<Vec<_>>(),
            "seats": { "limit": self.seat_limit, "used": self.seats_used() },
            "max_page": self.max_page,
            "custom_fields": { "contacts": self.contact_fields, "agents": self.agent_fields },
        })
    }

    // ----- mutations -------------------------------------------------------------------------

    /// Applies validated agent fields (create or update) to a user.
    fn apply_agent_fields(
        &self,
        u: &mut User,
        f: &AgentFields,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        let mut contact_changed = false;
        if let Some(v) = &f.name {
            u.name = v.clone();
            contact_changed = true;
        }
        for (slot, v) in [
            (&mut u.phone, &f.phone),
            (&mut u.mobile, &f.mobile),
            (&mut u.job_title, &f.job_title),
        ] {
            if let Some(v) = v {
                *slot = v.clone();
                contact_changed = true;
            }
        }
        if let Some(v) = &f.language {
            u.language = v.clone();
            contact_changed = true;
        }
        if let Some(v) = &f.time_zone {
            u.time_zone = v.clone();
            contact_changed = true;
        }
        if contact_changed {
            u.updated_at = now;
        }
        let Some(a) = u.agent.as_mut() else {
            return Ok(());
        };
        if let Some(v) = f.ticket_scope {
            a.ticket_scope = v;
        }
        if let Some(v) = &f.role_ids {
            a.role_ids = v.clone();
        }
        if let Some(v) = &f.group_ids {
            a.group_ids = v.clone();
        }
        if let Some(v) = &f.skill_ids {
            a.skill_ids = v.clone();
        }
        if let Some(v) = f.kind {
            a.kind = v;
        }
        if let Some(v) = f.occasional {
            a.occasional = v;
        }
        if let Some(v) = f.available {
            if v != a.available {
                a.available_since = Some(now);
            }
            a.available = v;
        }
        if let Some(v) = &f.signature {
            a.signature = v.clone();
        }
        if let Some(v) = f.focus_mode {
            a.focus_mode = v;
        }
        for (k, v) in &f.custom_fields {
            a.custom_fields.insert(k.clone(), v.clone());
        }
        a.updated_at = now;
        Ok(())
    }

    fn check_refs(&self, f: &AgentFields) -> Result<(), ApiError> {
        let mut errors = Vec::new();
        if let Some(ids) = &f.role_ids {
            let missing: Vec<String> = ids
                .iter()
                .filter(|id| !self.roles.iter().any(|r| r.id == **id))
                .map(|id| id.to_string())
                .collect();
            if !missing.is_empty() {
                errors.push(FieldError::new(
                    "role_ids",
                    format!(
                        "There are no records matching the ids: '{}'",
                        missing.join(", ")
                    ),
                    "invalid_value",
                ));
            }
            if ids.is_empty() {
                errors.push(FieldError::new(
                    "role_ids",
                    "It should not be blank as this is a mandatory field",
                    "invalid_value",
                ));
            }
        }
        if let Some(ids) = &f.group_ids {
            let missing: Vec<String> = ids
                .iter()
                .filter(|id| !self.groups.iter().any(|g| g.id == **id))
                .map(|id| id.to_string())
                .collect();
            if !missing.is_empty() {
                errors.push(FieldError::new(
                    "group_ids",
                    format!(
                        "There are no records matching the ids: '{}'",
                        missing.join(", ")
                    ),
                    "invalid_value",
                ));
            }
        }
        for k in f.custom_fields.keys() {
            if !self.agent_fields.contains(k) {
                errors.push(FieldError::new(
                    k,
                    "Unexpected/invalid field in request",
                    "invalid_field",
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(errors))
        }
    }

    /// `POST /api/v2/agents`: a new, unconfirmed agent (`active=false` until the invitation is
    /// accepted). A full-time support agent needs a free seat.
    pub fn create_agent(&mut self, f: AgentFields, now: OffsetDateTime) -> Result<u64, ApiError> {
        let Some(email) = f.email.clone().flatten() else {
            return Err(ApiError::field(
                "email",
                "It should be a/an String",
                "missing_field",
            ));
        };
        if f.ticket_scope.is_none() {
            return Err(ApiError::field(
                "ticket_scope",
                "It should be one of these values: '1,2,3'",
                "missing_field",
            ));
        }
        self.check_refs(&f)?;
        self.duplicate_email(&email, None)?;
        let kind = f.kind.unwrap_or(AgentType::Support);
        let occasional = f.occasional.unwrap_or(false);
        if kind == AgentType::Support && !occasional {
            self.check_seat()?;
        }
        let id = self.alloc_id();
        let name = f
            .name
            .clone()
            .unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_string());
        let mut u = User {
            id,
            name,
            email: Some(email.clone()),
            phone: None,
            mobile: None,
            twitter_id: None,
            unique_external_id: None,
            other_emails: Vec::new(),
            job_title: None,
            address: None,
            description: None,
            language: "en".to_string(),
            time_zone: DEFAULT_TIME_ZONE.to_string(),
            company_id: None,
            view_all_tickets: false,
            tags: Vec::new(),
            custom_fields: BTreeMap::new(),
            verified: false,
            deleted: false,
            last_login_at: None,
            created_at: now,
            updated_at: now,
            agent: Some(Agent {
                ticket_scope: 1,
                role_ids: vec![self.default_role],
                group_ids: Vec::new(),
                skill_ids: Vec::new(),
                kind,
                occasional,
                available: false,
                available_since: None,
                signature: None,
                focus_mode: false,
                deactivated: false,
                custom_fields: BTreeMap::new(),
                created_at: now,
                updated_at: now,
                last_active_at: None,
            }),
        };
        self.apply_agent_fields(&mut u, &f, now)?;
        self.by_email.insert(email.to_ascii_lowercase(), id);
        self.users.insert(id, u);
        Ok(id)
    }

    /// `PUT /api/v2/agents/{id}`: only the supplied fields change; the email is immutable.
    pub fn update_agent(
        &mut self,
        id: u64,
        f: AgentFields,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        let Some(u) = self.users.get(&id).filter(|u| u.agent.is_some()) else {
            return Err(ApiError::NotFound {
                what: "agent",
                id: id.to_string(),
            });
        };
        if let Some(new) = &f.email {
            let same = match (new, &u.email) {
                (Some(n), Some(o)) => n.eq_ignore_ascii_case(o),
                (None, None) => true,
                _ => false,
            };
            if !same {
                return Err(ApiError::field(
                    "email",
                    "The email of an agent cannot be changed after the agent is created",
                    "readonly_field",
                ));
            }
        }
        self.check_refs(&f)?;
        // Switching a seat-free agent to a full-time support agent needs a seat.
        let mut after = u.clone();
        if let Some(a) = after.agent.as_mut() {
            if let Some(k) = f.kind {
                a.kind = k;
            }
            if let Some(o) = f.occasional {
                a.occasional = o;
            }
        }
        if after.consumes_seat() && !u.consumes_seat() {
            self.check_seat()?;
        }
        let mut u = u.clone();
        self.apply_agent_fields(&mut u, &f, now)?;
        self.users.insert(id, u);
        Ok(())
    }

    /// `DELETE /api/v2/agents/{id}`: deactivates; the record and its contact are kept.
    pub fn deactivate_agent(&mut self, id: u64, now: OffsetDateTime) -> Result<(), ApiError> {
        let Some(a) = self.users.get_mut(&id).and_then(|u| u.agent.as_mut()) else {
            return Err(ApiError::NotFound {
                what: "agent",
                id: id.to_string(),
            });
        };
        if !a.deactivated {
            a.deactivated = true;
            a.available = false;
            a.updated_at = now;
        }
        Ok(())
    }

    /// Brings a deactivated agent back (SCIM `active: true`), seat permitting.
    pub fn reactivate_agent(&mut self, id: u64, now: OffsetDateTime) -> Result<(), ApiError> {
        let Some(u) = self.users.get(&id).filter(|u| u.agent.is_some()) else {
            return Err(ApiError::NotFound {
                what: "agent",
                id: id.to_string(),
            });
        };
        if u.agent_state() != Some(AgentState::Deactivated) {
            return Ok(());
        }
        let mut after = u.clone();
        if let Some(a) = after.agent.as_mut() {
            a.deactivated = false;
            a.updated_at = now;
        }
        if after.consumes_seat() {
            self.check_seat()?;
        }
        self.users.insert(id, after);
        Ok(())
    }

    /// Control: the invited person accepted the invitation.
    pub fn confirm_agent(&mut self, id: u64, now: OffsetDateTime) -> Result<(), String> {
        let Some(u) = self.users.get_mut(&id).filter(|u| u.agent.is_some()) else {
            return Err(format!("no Freshdesk agent with id {id}"));
        };
        match u.agent_state() {
            Some(AgentState::Unconfirmed) => {
                u.verified = true;
                u.updated_at = now;
                if let Some(a) = u.agent.as_mut() {
                    a.updated_at = now;
                }
                Ok(())
            }
            Some(AgentState::Active) => Err(format!("agent {id} has already confirmed")),
            _ => Err(format!(
                "agent {id} is deactivated; only an unconfirmed agent can confirm"
            )),
        }
    }

    fn check_contact_custom(&self, f: &ContactFields) -> Result<(), ApiError> {
        let errors: Vec<FieldError> = f
            .custom_fields
            .keys()
            .filter(|k| !self.contact_fields.contains(*k))
            .map(|k| FieldError::new(k, "Unexpected/invalid field in request", "invalid_field"))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(errors))
        }
    }

    fn apply_contact_fields(u: &mut User, f: &ContactFields, now: OffsetDateTime) {
        if let Some(v) = &f.name {
            u.name = v.clone();
        }
        for (slot, v) in [
            (&mut u.email, &f.email),
            (&mut u.phone, &f.phone),
            (&mut u.mobile, &f.mobile),
            (&mut u.twitter_id, &f.twitter_id),
            (&mut u.unique_external_id, &f.unique_external_id),
            (&mut u.job_title, &f.job_title),
            (&mut u.address, &f.address),
            (&mut u.description, &f.description),
        ] {
            if let Some(v) = v {
                *slot = v.clone();
            }
        }
        if let Some(v) = &f.language {
            u.language = v.clone();
        }
        if let Some(v) = &f.time_zone {
            u.time_zone = v.clone();
        }
        if let Some(v) = f.company_id {
            u.company_id = v;
        }
        if let Some(v) = f.view_all_tickets {
            u.view_all_tickets = v;
        }
        if let Some(v) = &f.tags {
            u.tags = v.clone();
        }
        if let Some(v) = &f.other_emails {
            u.other_emails = v.clone();
        }
        for (k, v) in &f.custom_fields {
            u.custom_fields.insert(k.clone(), v.clone());
        }
        u.updated_at = now;
    }

    /// `POST /api/v2/contacts`.
    pub fn create_contact(
        &mut self,
        f: ContactFields,
        now: OffsetDateTime,
    ) -> Result<u64, ApiError> {
        let Some(name) = f.name.clone() else {
            return Err(ApiError::field(
                "name",
                "It should be a/an String",
                "missing_field",
            ));
        };
        let has = |v: &Option<Option<String>>| v.as_ref().is_some_and(|s| s.is_some());
        if !(has(&f.email)
            || has(&f.phone)
            || has(&f.mobile)
            || has(&f.twitter_id)
            || has(&f.unique_external_id))
        {
            return Err(ApiError::field(
                "requester_id",
                "Please fill at least 1 of email, mobile, phone, twitter_id, unique_external_id fields",
                "missing_field",
            ));
        }
        self.check_contact_custom(&f)?;
        if let Some(Some(email)) = &f.email {
            self.duplicate_email(email, None)?;
        }
        let id = self.alloc_id();
        let mut u = User {
            id,
            name,
            email: None,
            phone: None,
            mobile: None,
            twitter_id: None,
            unique_external_id: None,
            other_emails: Vec::new(),
            job_title: None,
            address: None,
            description: None,
            language: "en".to_string(),
            time_zone: DEFAULT_TIME_ZONE.to_string(),
            company_id: None,
            view_all_tickets: false,
            tags: Vec::new(),
            custom_fields: BTreeMap::new(),
            verified: false,
            deleted: false,
            last_login_at: None,
            created_at: now,
            updated_at: now,
            agent: None,
        };
        Self::apply_contact_fields(&mut u, &f, now);
        if let Some(email) = &u.email {
            self.by_email.insert(email.to_ascii_lowercase(), id);
        }
        self.users.insert(id, u);
        Ok(id)
    }

    fn contact(&self, id: u64) -> Result<&User, ApiError> {
        self.users
            .get(&id)
            .filter(|u| u.is_contact())
            .ok_or(ApiError::NotFound {
                what: "contact",
                id: id.to_string(),
            })
    }

    /// `PUT /api/v2/contacts/{id}`; a deleted contact answers 405.
    pub fn update_contact(
        &mut self,
        id: u64,
        f: ContactFields,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        let u = self.contact(id)?;
        if u.deleted {
            return Err(ApiError::MethodNotAllowed(format!(
                "PUT method is not allowed on the deleted contact {id}. It should be either of these method(s): GET, PUT /restore"
            )));
        }
        self.check_contact_custom(&f)?;
        let old_email = u.email.clone();
        if let Some(Some(email)) = &f.email {
            self.duplicate_email(email, Some(id))?;
        }
        let mut u = u.clone();
        Self::apply_contact_fields(&mut u, &f, now);
        if u.email != old_email {
            if let Some(e) = &old_email {
                self.by_email.remove(&e.to_ascii_lowercase());
            }
            if let Some(e) = &u.email {
                self.by_email.insert(e.to_ascii_lowercase(), id);
            }
        }
        self.users.insert(id, u);
        Ok(())
    }

    /// `DELETE /api/v2/contacts/{id}`: soft delete.
    pub fn delete_contact(&mut self, id: u64, now: OffsetDateTime) -> Result<(), ApiError> {
        let u = self.contact(id)?;
        if u.deleted {
            return Err(ApiError::NotFound {
                what: "contact",
                id: id.to_string(),
            });
        }
        if let Some(u) = self.users.get_mut(&id) {
            u.deleted = true;
            u.updated_at = now;
        }
        Ok(())
    }

    /// `PUT /api/v2/contacts/{id}/restore`.
    pub fn restore_contact(&mut self, id: u64, now: OffsetDateTime) -> Result<(), ApiError> {
        let u = self.contact(id)?;
        if !u.deleted {
            return Err(ApiError::NotFound {
                what: "deleted contact",
                id: id.to_string(),
            });
        }
        if let Some(u) = self.users.get_mut(&id) {
            u.deleted = false;
            u.updated_at = now;
        }
        Ok(())
    }

    /// `PUT /api/v2/contacts/{id}/make_agent`: the contact becomes an unconfirmed agent with the
    /// same id (it leaves the contacts list); a full-time seat is taken.
    pub fn make_agent(
        &mut self,
        id: u64,
        f: AgentFields,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        let u = self.contact(id)?;
        if u.deleted {
            return Err(ApiError::MethodNotAllowed(format!(
                "PUT method is not allowed on the deleted contact {id}. Restore it first"
            )));
        }
        if u.email.is_none() {
            return Err(ApiError::field(
                "email",
                "The contact needs an email address before it can be converted to an agent",
                "missing_field",
            ));
        }
        self.check_refs(&f)?;
        let kind = f.kind.unwrap_or(AgentType::Support);
        let occasional = f.occasional.unwrap_or(false);
        if kind == AgentType::Support && !occasional {
            self.check_seat()?;
        }
        let mut u = u.clone();
        u.verified = false;
        u.updated_at = now;
        u.agent = Some(Agent {
            ticket_scope: 1,
            role_ids: vec![self.default_role],
            group_ids: Vec::new(),
            skill_ids: Vec::new(),
            kind,
            occasional,
            available: false,
            available_since: None,
            signature: None,
            focus_mode: false,
            deactivated: false,
            custom_fields: BTreeMap::new(),
            created_at: now,
            updated_at: now,
            last_active_at: None,
        });
        self.apply_agent_fields(&mut u, &f, now)?;
        self.users.insert(id, u);
        Ok(())
    }
}

/// Validated agent fields of a create, update or make_agent body (`None`: not supplied;
/// `Some(None)`: set to null).
#[derive(Clone, Debug, Default)]
pub struct AgentFields {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub mobile: Option<Option<String>>,
    pub job_title: Option<Option<String>>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub ticket_scope: Option<u8>,
    pub role_ids: Option<Vec<u64>>,
    pub group_ids: Option<Vec<u64>>,
    pub skill_ids: Option<Vec<u64>>,
    pub kind: Option<AgentType>,
    pub occasional: Option<bool>,
    pub available: Option<bool>,
    pub signature: Option<Option<String>>,
    pub focus_mode: Option<bool>,
    pub custom_fields: BTreeMap<String, Value>,
}

/// Validated contact fields of a create or update body.
#[derive(Clone, Debug, Default)]
pub struct ContactFields {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub mobile: Option<Option<String>>,
    pub twitter_id: Option<Option<String>>,
    pub unique_external_id: Option<Option<String>>,
    pub job_title: Option<Option<String>>,
    pub address: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub company_id: Option<Option<u64>>,
    pub view_all_tickets: Option<bool>,
    pub tags: Option<Vec<String>>,
    pub other_emails: Option<Vec<String>>,
    pub custom_fields: BTreeMap<String, Value>,
}
