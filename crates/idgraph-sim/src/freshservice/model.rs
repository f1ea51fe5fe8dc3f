//! The in-memory Freshservice tenant: agents and requesters in one user id space, agent roles
//! with their assignment scopes, agent groups, departments and the seat count, plus the
//! validation and rendering rules of the v2 API. No HTTP here: `routes.rs` and `scim.rs` call in.

use crate::clock::rfc3339;
use crate::common::PlanTier;
use crate::company::{AccountKind, Catalog, SeedAccount, SeedStatus};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use time::OffsetDateTime;

/// First id of the seeded roles, groups and departments (Freshservice ids are large integers).
const ROLE_ID_BASE: u64 = 21_000_150_000;
const GROUP_ID_BASE: u64 = 21_000_250_000;
const DEPARTMENT_ID_BASE: u64 = 21_000_350_000;

/// The scopes a role assignment may have.
pub(crate) const ASSIGNMENT_SCOPES: [&str; 4] = [
    "entire_helpdesk",
    "member_groups",
    "specified_groups",
    "assigned_items",
];

/// The scope a role gets when it is assigned without one (`role_ids`, or a `roles` entry on PUT
/// that omits `assignment_scope`): the least-privileged scope of every plan.
pub(crate) const DEFAULT_SCOPE: &str = "assigned_items";

/// How many webhook events the tenant keeps.
pub(crate) const MAX_EVENTS: usize = 10_000;

/// Writable fields stored as sent and rendered back (no behaviour attached).
const PASSTHROUGH: [&str; 8] = [
    "address",
    "background_information",
    "signature",
    "time_format",
    "can_see_all_tickets_from_associated_departments",
    "scoreboard_level_id",
    "secondary_emails",
    "observer_of",
];

/// Agent or requester.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    Agent,
    Requester,
}

impl Kind {
    pub(crate) fn collection(self) -> &'static str {
        match self {
            Kind::Agent => "agents",
            Kind::Requester => "requesters",
        }
    }

    pub(crate) fn singular(self) -> &'static str {
        match self {
            Kind::Agent => "agent",
            Kind::Requester => "requester",
        }
    }

    pub(crate) fn from_collection(s: &str) -> Option<Kind> {
        match s {
            "agents" => Some(Kind::Agent),
            "requesters" => Some(Kind::Requester),
            _ => None,
        }
    }
}

/// One role of an agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RoleAssignment {
    pub role_id: u64,
    pub assignment_scope: String,
    pub groups: Vec<u64>,
}

/// An agent or a requester.
#[derive(Clone, Debug)]
pub(crate) struct User {
    pub id: u64,
    pub kind: Kind,
    pub first_name: String,
    pub last_name: Option<String>,
    pub email: String,
    pub job_title: Option<String>,
    pub work_phone_number: Option<String>,
    pub mobile_phone_number: Option<String>,
    pub department_ids: Vec<u64>,
    pub location_id: Option<u64>,
    pub reporting_manager_id: Option<u64>,
    pub time_zone: String,
    pub language: String,
    pub vip_user: bool,
    pub occasional: bool,
    pub active: bool,
    pub roles: Vec<RoleAssignment>,
    /// Agent groups the agent is a member of (kept in step with `Group::members`).
    pub member_of: Vec<u64>,
    pub custom_fields: Map<String, Value>,
    pub extra: Map<String, Value>,
    pub external_id: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub last_login_at: Option<OffsetDateTime>,
    pub last_active_at: Option<OffsetDateTime>,
}

#[derive(Clone, Debug)]
pub(crate) struct Role {
    pub id: u64,
    pub name: String,
    pub description: String,
    pub default: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(Clone, Debug)]
pub(crate) struct Group {
    pub id: u64,
    pub name: String,
    pub description: Option<String>,
    pub members: Vec<u64>,
    pub observers: Vec<u64>,
    pub leaders: Vec<u64>,
    pub restricted: bool,
    pub approval_required: bool,
    pub auto_ticket_assign: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(Clone, Debug)]
pub(crate) struct Department {
    pub id: u64,
    pub name: String,
    pub description: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// One entry of a Freshservice validation error body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub field: String,
    pub message: String,
    pub code: &'static str,
}

impl FieldError {
    pub(crate) fn new(
        field: impl Into<String>,
        message: impl Into<String>,
        code: &'static str,
    ) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            code,
        }
    }
}

/// What went wrong, before it is rendered in Freshservice's error shapes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ApiError {
    /// 400 `{"description":"Validation failed","errors":[…]}`.
    Invalid(Vec<FieldError>),
    /// 409, same body (`duplicate_value`).
    Duplicate(FieldError),
    /// 404.
    NotFound { what: &'static str, id: u64 },
    /// 400 for a body that is not a JSON object.
    InvalidJson(String),
    /// No free agent seat.
    SeatLimit { limit: u32 },
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Invalid(errs) => {
                let parts: Vec<String> = errs
                    .iter()
                    .map(|e| format!("{}: {} ({})", e.field, e.message, e.code))
                    .collect();
                write!(f, "validation failed: {}", parts.join("; "))
            }
            ApiError::Duplicate(e) => write!(f, "duplicate {}: {}", e.field, e.message),
            ApiError::NotFound { what, id } => write!(f, "{what} {id} not found"),
            ApiError::InvalidJson(m) => write!(f, "invalid JSON body: {m}"),
            ApiError::SeatLimit { limit } => write!(f, "all {limit} agent seats are in use"),
        }
    }
}

fn invalid(field: &str, message: impl Into<String>, code: &'static str) -> ApiError {
    ApiError::Invalid(vec![FieldError::new(field, message, code)])
}

/// Is this role name an administrator role (gets `entire_helpdesk` when seeded)?
fn admin_ish(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("admin") || n.contains("owner")
}

/// Filters of a user list.
#[derive(Clone, Debug, Default)]
pub(crate) struct ListQuery {
    pub active: bool,
    pub email: Option<String>,
    pub updated_since: Option<OffsetDateTime>,
    /// `state=occasional` (Some(true)) or `state=fulltime` (Some(false)); agents only.
    pub occasional: Option<bool>,
    /// Requesters list only: agents are included as well.
    pub include_agents: bool,
}

/// The tenant.
#[derive(Debug)]
pub(crate) struct Store {
    pub users: BTreeMap<u64, User>,
    /// Lowercased email → user id, over agents and requesters, deactivated included.
    by_email: HashMap<String, u64>,
    /// Ordered ids per (kind, active) for paging without scanning.
    index: BTreeMap<(Kind, bool), BTreeSet<u64>>,
    pub roles: BTreeMap<u64, Role>,
    pub groups: BTreeMap<u64, Group>,
    pub departments: BTreeMap<u64, Department>,
    next_user_id: u64,
    next_group_id: u64,
    /// Webhook events an automator rule would send (`agent.updated`, …), oldest first.
    pub events: std::collections::VecDeque<Value>,
    pub seat_limit: u32,
    pub plan: PlanTier,
    pub sso: bool,
}

impl Store {
    /// Seeds the tenant from the company's Freshservice accounts and catalog.
    pub(crate) fn seed<'a>(
        accounts: impl Iterator<Item = &'a SeedAccount>,
        catalog: &Catalog,
        plan: PlanTier,
        sso: bool,
        seat_limit: Option<u32>,
        now: OffsetDateTime,
    ) -> Store {
        let accounts: Vec<&SeedAccount> = accounts.collect();
        let created = accounts
            .iter()
            .map(|a| a.created_at)
            .min()
            .unwrap_or(now)
            .min(now);
        let mut store = Store {
            users: BTreeMap::new(),
            by_email: HashMap::new(),
            index: BTreeMap::new(),
            roles: BTreeMap::new(),
            groups: BTreeMap::new(),
            departments: BTreeMap::new(),
            next_user_id: 1,
            next_group_id: GROUP_ID_BASE + 1,
            events: std::collections::VecDeque::new(),
            seat_limit: 0,
            plan,
            sso,
        };
        let mut role_names: Vec<String> = catalog.roles.clone();
        if role_names.is_empty() {
            role_names = ["Account Admin", "Admin", "SD Supervisor", "SD Agent"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        }
        let mut group_names = catalog.groups.clone();
        let mut dept_names = catalog.departments.clone();
        for a in &accounts {
            for r in &a.roles {
                if !role_names.contains(r) {
                    role_names.push(r.clone());
                }
            }
            if a.kind == AccountKind::Agent {
                for g in &a.groups {
                    if !group_names.contains(g) {
                        group_names.push(g.clone());
                    }
                }
            }
            if let Some(d) = &a.department {
                if !dept_names.contains(d) {
                    dept_names.push(d.clone());
                }
            }
        }
        let mut role_ids: HashMap<String, u64> = HashMap::new();
        for (i, name) in role_names.iter().enumerate() {
            let id = ROLE_ID_BASE + 1 + i as u64;
            role_ids.insert(name.clone(), id);
            store.roles.insert(
                id,
                Role {
                    id,
                    name: name.clone(),
                    description: format!("{name} role"),
                    default: i < 4 && catalog.roles.is_empty(),
                    created_at: created,
                    updated_at: created,
                },
            );
        }
        let mut group_ids: HashMap<String, u64> = HashMap::new();
        for name in &group_names {
            let id = store.next_group_id;
            store.next_group_id += 1;
            group_ids.insert(name.clone(), id);
            store.groups.insert(
                id,
                Group {
                    id,
                    name: name.clone(),
                    description: Some(format!("{name} agent group")),
                    members: Vec::new(),
                    observers: Vec::new(),
                    leaders: Vec::new(),
                    restricted: false,
                    approval_required: false,
                    auto_ticket_assign: false,
                    created_at: created,
                    updated_at: created,
                },
            );
        }
        let mut dept_ids: HashMap<String, u64> = HashMap::new();
        for (i, name) in dept_names.iter().enumerate() {
            let id = DEPARTMENT_ID_BASE + 1 + i as u64;
            dept_ids.insert(name.clone(), id);
            store.departments.insert(
                id,
                Department {
                    id,
                    name: name.clone(),
                    description: Some(format!("{name} department")),
                    created_at: created,
                    updated_at: created,
                },
            );
        }
        let small_plan = matches!(plan, PlanTier::Starter | PlanTier::Growth);
        let mut seeded_seats: u32 = 0;
        for a in &accounts {
            let kind = match a.kind {
                AccountKind::Agent => Kind::Agent,
                _ => Kind::Requester,
            };
            let active = matches!(a.status, SeedStatus::Active | SeedStatus::Pending);
            let member_of: Vec<u64> = if kind == Kind::Agent {
                a.groups
                    .iter()
                    .filter_map(|g| group_ids.get(g).copied())
                    .collect()
            } else {
                Vec::new()
            };
            let roles: Vec<RoleAssignment> = if kind == Kind::Agent {
                a.roles
                    .iter()
                    .filter_map(|r| role_ids.get(r).map(|id| (r, *id)))
                    .map(|(name, role_id)| {
                        if admin_ish(name) {
                            RoleAssignment {
                                role_id,
                                assignment_scope: "entire_helpdesk".into(),
                                groups: Vec::new(),
                            }
                        } else if !member_of.is_empty() && !small_plan {
                            RoleAssignment {
                                role_id,
                                assignment_scope: "specified_groups".into(),
                                groups: member_of.clone(),
                            }
                        } else if !member_of.is_empty() {
                            RoleAssignment {
                                role_id,
                                assignment_scope: "member_groups".into(),
                                groups: Vec::new(),
                            }
                        } else {
                            RoleAssignment {
                                role_id,
                                assignment_scope: "assigned_items".into(),
                                groups: Vec::new(),
                            }
                        }
                    })
                    .collect()
            } else {
                Vec::new()
            };
            if kind == Kind::Agent && active && !a.occasional {
                seeded_seats += 1;
            }
            let user = User {
                id: a.native_id,
                kind,
                first_name: a.first_name.clone(),
                last_name: Some(a.last_name.clone()).filter(|s| !s.is_empty()),
                email: a.email.clone(),
                job_title: a.job_title.clone(),
                work_phone_number: None,
                mobile_phone_number: None,
                department_ids: a
                    .department
                    .as_ref()
                    .and_then(|d| dept_ids.get(d).copied())
                    .into_iter()
                    .collect(),
                location_id: None,
                reporting_manager_id: None,
                time_zone: "Eastern Time (US & Canada)".into(),
                language: "en".into(),
                vip_user: false,
                occasional: kind == Kind::Agent && a.occasional,
                active,
                roles,
                member_of: member_of.clone(),
                custom_fields: Map::new(),
                extra: Map::new(),
                external_id: None,
                created_at: a.created_at,
                updated_at: a.updated_at,
                last_login_at: a.last_login_at,
                last_active_at: a.last_login_at,
            };
            for g in &member_of {
                if let Some(group) = store.groups.get_mut(g) {
                    group.members.push(a.native_id);
                }
            }
            store.next_user_id = store.next_user_id.max(a.native_id + 1);
            store.insert(user);
        }
        store.seat_limit =
            seat_limit.unwrap_or_else(|| seeded_seats + (seeded_seats.div_ceil(10)).max(1));
        store
    }

    /// Inserts or replaces a user, keeping the email and list indexes true.
    pub(crate) fn insert(&mut self, user: User) {
        let old = self
            .users
            .get(&user.id)
            .map(|o| (o.kind, o.active, o.email.to_ascii_lowercase()));
        if let Some((kind, active, old_email)) = old {
            if let Some(set) = self.index.get_mut(&(kind, active)) {
                set.remove(&user.id);
            }
            if old_email != user.email.to_ascii_lowercase() {
                self.release_email(&old_email, user.id);
            }
        }
        self.index
            .entry((user.kind, user.active))
            .or_default()
            .insert(user.id);
        self.by_email
            .entry(user.email.to_ascii_lowercase())
            .or_insert(user.id);
        self.users.insert(user.id, user);
    }

    /// `id` no longer holds `email` (lowercased): free it, or hand it to another record that
    /// holds it too (seeded data may carry the same address twice).
    fn release_email(&mut self, email: &str, id: u64) {
        if self.by_email.get(email) != Some(&id) {
            return;
        }
        self.by_email.remove(email);
        let heir = self
            .users
            .values()
            .find(|u| u.id != id && u.email.eq_ignore_ascii_case(email))
            .map(|u| u.id);
        if let Some(h) = heir {
            self.by_email.insert(email.to_string(), h);
        }
    }

    /// Records a webhook event (`agent.created`, `requester.updated`, …) with the record as
    /// it now is; keeps the last [`MAX_EVENTS`].
    fn note(&mut self, kind: Kind, what: &str, id: u64, now: OffsetDateTime) {
        let data = self
            .users
            .get(&id)
            .map(|u| self.render(u))
            .unwrap_or(Value::Null);
        self.events.push_back(json!({
            "event": format!("{}.{what}", kind.singular()),
            "id": id,
            "occurred_at": rfc3339(now),
            "data": { kind.singular(): data },
        }));
        while self.events.len() > MAX_EVENTS {
            self.events.pop_front();
        }
    }

    /// Removes a user for good (purge / forget); its email becomes free again.
    pub(crate) fn purge(
        &mut self,
        kind: Kind,
        id: u64,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        let user = self.get(kind, id)?.clone();
        self.set_agent_groups(id, Vec::new(), now);
        if let Some(set) = self.index.get_mut(&(user.kind, user.active)) {
            set.remove(&id);
        }
        self.release_email(&user.email.to_ascii_lowercase(), id);
        self.users.remove(&id);
        Ok(())
    }

    /// A user of this kind.
    pub(crate) fn get(&self, kind: Kind, id: u64) -> Result<&User, ApiError> {
        match self.users.get(&id) {
            Some(u) if u.kind == kind => Ok(u),
            _ => Err(ApiError::NotFound {
                what: kind.singular(),
                id,
            }),
        }
    }

    /// The user holding this email (case-insensitive), of either kind.
    pub(crate) fn by_email(&self, email: &str) -> Option<&User> {
        self.by_email
            .get(&email.trim().to_ascii_lowercase())
            .and_then(|id| self.users.get(id))
    }

    /// Full-time active agents: the seats in use.
    pub(crate) fn seats_used(&self) -> u32 {
        self.index
            .get(&(Kind::Agent, true))
            .map(|s| {
                s.iter()
                    .filter(|id| self.users.get(id).is_some_and(|u| !u.occasional))
                    .count() as u32
            })
            .unwrap_or(0)
    }

    fn ensure_seat(&self) -> Result<(), ApiError> {
        if self.seats_used() >= self.seat_limit {
            return Err(ApiError::SeatLimit {
                limit: self.seat_limit,
            });
        }
        Ok(())
    }

    /// One page of users of `kind` matching `q`, ordered by id, and whether more follow.
    pub(crate) fn list(
        &self,
        kind: Kind,
        q: &ListQuery,
        offset: usize,
        per_page: usize,
    ) -> (Vec<&User>, bool) {
        let matches = |u: &User| -> bool {
            u.active == q.active
                && (u.kind == kind || (kind == Kind::Requester && q.include_agents))
                && q.updated_since.is_none_or(|t| u.updated_at >= t)
                && q.occasional
                    .is_none_or(|o| u.kind == Kind::Agent && u.occasional == o)
        };
        if let Some(email) = &q.email {
            let found: Vec<&User> = self
                .by_email(email)
                .filter(|u| matches(u))
                .into_iter()
                .skip(offset)
                .collect();
            return (found, false);
        }
        let empty = BTreeSet::new();
        let own = self.index.get(&(kind, q.active)).unwrap_or(&empty);
        let ids: Box<dyn Iterator<Item = u64> + '_> = if kind == Kind::Requester && q.include_agents
        {
            let agents = self.index.get(&(Kind::Agent, q.active)).unwrap_or(&empty);
            Box::new(MergeIds::new(own.iter().copied(), agents.iter().copied()))
        } else {
            Box::new(own.iter().copied())
        };
        let mut page: Vec<&User> = ids
            .filter_map(|id| self.users.get(&id))
            .filter(|u| matches(u))
            .skip(offset)
            .take(per_page + 1)
            .collect();
        let more = page.len() > per_page;
        page.truncate(per_page);
        (page, more)
    }

    /// Every user of a kind, deactivated included (for `/_sim/state` and SCIM).
    pub(crate) fn all(&self, kind: Option<Kind>) -> impl Iterator<Item = &User> {
        self.users
            .values()
            .filter(move |u| kind.is_none_or(|k| u.kind == k))
    }

    fn check_email_free(
        &self,
        email: &str,
        except: Option<u64>,
        field: &str,
    ) -> Result<(), ApiError> {
        if let Some(other) = self.by_email(email) {
            if Some(other.id) != except {
                return Err(ApiError::Duplicate(FieldError::new(
                    field,
                    format!(
                        "It should be a unique value: {email} is already used by {} {}{}",
                        other.kind.singular(),
                        other.id,
                        if other.active {
                            ""
                        } else {
                            " (deactivated; reactivate it instead)"
                        }
                    ),
                    "duplicate_value",
                )));
            }
        }
        Ok(())
    }

    /// `POST /api/v2/agents` or `/requesters`.
    pub(crate) fn create(
        &mut self,
        kind: Kind,
        body: &Map<String, Value>,
        now: OffsetDateTime,
    ) -> Result<u64, ApiError> {
        let input = UserInput::parse(body, kind, true, self)?;
        let email = input.email.clone().unwrap_or_default();
        self.check_email_free(&email.0, None, email.1)?;
        let occasional = input.occasional.unwrap_or(false);
        if kind == Kind::Agent && !occasional {
            self.ensure_seat()?;
        }
        let id = self.next_user_id;
        self.next_user_id += 1;
        let mut user = User {
            id,
            kind,
            first_name: String::new(),
            last_name: None,
            email: email.0,
            job_title: None,
            work_phone_number: None,
            mobile_phone_number: None,
            department_ids: Vec::new(),
            location_id: None,
            reporting_manager_id: None,
            time_zone: "Eastern Time (US & Canada)".into(),
            language: "en".into(),
            vip_user: false,
            occasional,
            active: true,
            roles: Vec::new(),
            member_of: Vec::new(),
            custom_fields: Map::new(),
            extra: Map::new(),
            external_id: None,
            created_at: now,
            updated_at: now,
            last_login_at: None,
            last_active_at: None,
        };
        let groups = input.apply(&mut user, true);
        self.insert(user);
        if let Some(groups) = groups {
            self.set_agent_groups(id, groups, now);
        }
        self.note(kind, "created", id, now);
        Ok(id)
    }

    /// `PUT /api/v2/agents/{id}` or `/requesters/{id}`: only the fields sent change; `roles`
    /// and group lists replace whole lists. With SSO on, an email change is ignored silently.
    /// `control` (the `/_sim/records` PATCH) bypasses the SSO rule.
    pub(crate) fn update(
        &mut self,
        kind: Kind,
        id: u64,
        body: &Map<String, Value>,
        now: OffsetDateTime,
        control: bool,
    ) -> Result<(), ApiError> {
        let mut user = self.get(kind, id)?.clone();
        let mut input = UserInput::parse(body, kind, false, self)?;
        if self.sso && !control {
            input.email = None;
        }
        if let Some((email, field)) = &input.email {
            self.check_email_free(email, Some(id), field)?;
        }
        if let Some(false) = input.occasional {
            if user.occasional && user.active && kind == Kind::Agent {
                self.ensure_seat()?;
            }
        }
        if let Some(true) = input.active {
            if !user.active && kind == Kind::Agent && !input.occasional.unwrap_or(user.occasional) {
                self.ensure_seat()?;
            }
        }
        let groups = input.apply(&mut user, false);
        user.updated_at = now;
        self.insert(user);
        if let Some(groups) = groups {
            self.set_agent_groups(id, groups, now);
        }
        self.note(kind, "updated", id, now);
        Ok(())
    }

    /// DELETE: soft deactivation. The record and its email stay.
    pub(crate) fn deactivate(
        &mut self,
        kind: Kind,
        id: u64,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        let mut user = self.get(kind, id)?.clone();
        if user.active {
            user.active = false;
            user.updated_at = now;
            self.insert(user);
        }
        self.note(kind, "updated", id, now);
        Ok(())
    }

    /// `PUT …/{id}/reactivate`.
    pub(crate) fn reactivate(
        &mut self,
        kind: Kind,
        id: u64,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        let mut user = self.get(kind, id)?.clone();
        if !user.active {
            if kind == Kind::Agent && !user.occasional {
                self.ensure_seat()?;
            }
            user.active = true;
            user.updated_at = now;
            self.insert(user);
        }
        self.note(kind, "updated", id, now);
        Ok(())
    }

    /// `PUT /api/v2/requesters/{id}/convert_to_agent`: same id, a full-time seat, no roles.
    pub(crate) fn convert_to_agent(
        &mut self,
        id: u64,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        let mut user = self.get(Kind::Requester, id)?.clone();
        if !user.active {
            return Err(invalid(
                "id",
                format!(
                    "Requester {id} is deactivated; reactivate it before converting it to an agent"
                ),
                "invalid_value",
            ));
        }
        self.ensure_seat()?;
        user.kind = Kind::Agent;
        user.occasional = false;
        user.roles = Vec::new();
        user.member_of = Vec::new();
        user.updated_at = now;
        self.insert(user);
        self.note(Kind::Agent, "updated", id, now);
        Ok(())
    }

    /// `PUT /api/v2/agents/{id}/convert_to_requester`: frees the seat, drops roles and groups.
    pub(crate) fn convert_to_requester(
        &mut self,
        id: u64,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        let mut user = self.get(Kind::Agent, id)?.clone();
        self.set_agent_groups(id, Vec::new(), now);
        user.kind = Kind::Requester;
        user.occasional = false;
        user.roles = Vec::new();
        user.member_of = Vec::new();
        user.updated_at = now;
        self.insert(user);
        self.note(Kind::Requester, "updated", id, now);
        Ok(())
    }

    /// Makes `agent` a member of exactly `groups`, updating both sides.
    fn set_agent_groups(&mut self, agent: u64, groups: Vec<u64>, now: OffsetDateTime) {
        let old: Vec<u64> = self
            .users
            .get(&agent)
            .map(|u| u.member_of.clone())
            .unwrap_or_default();
        for g in old.iter().filter(|g| !groups.contains(g)) {
            if let Some(group) = self.groups.get_mut(g) {
                group.members.retain(|m| *m != agent);
                group.updated_at = now;
            }
        }
        for g in groups.iter().filter(|g| !old.contains(g)) {
            if let Some(group) = self.groups.get_mut(g) {
                if !group.members.contains(&agent) {
                    group.members.push(agent);
                }
                group.updated_at = now;
            }
        }
        if let Some(u) = self.users.get_mut(&agent) {
            if u.member_of != groups {
                u.member_of = groups;
                u.updated_at = now;
            }
        }
    }

    /// Checks a member list of a group: known agents only.
    pub(crate) fn check_members(&self, members: &[u64], field: &str) -> Result<(), ApiError> {
        let bad: Vec<String> = members
            .iter()
            .filter(|m| self.users.get(m).is_none_or(|u| u.kind != Kind::Agent))
            .map(|m| m.to_string())
            .collect();
        if bad.is_empty() {
            Ok(())
        } else {
            Err(invalid(
                field,
                format!("There are no agents with the ids {}", bad.join(", ")),
                "invalid_value",
            ))
        }
    }

    /// Replaces the members of a group (both sides kept in step).
    pub(crate) fn set_group_members(
        &mut self,
        gid: u64,
        members: Vec<u64>,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        let old = self
            .groups
            .get(&gid)
            .map(|g| g.members.clone())
            .ok_or(ApiError::NotFound {
                what: "group",
                id: gid,
            })?;
        self.check_members(&members, "members")?;
        for m in old.iter().filter(|m| !members.contains(m)) {
            if let Some(u) = self.users.get_mut(m) {
                u.member_of.retain(|g| *g != gid);
                u.updated_at = now;
            }
        }
        let mut dedup: Vec<u64> = Vec::new();
        for m in members {
            if !dedup.contains(&m) {
                dedup.push(m);
            }
        }
        for m in dedup.iter().filter(|m| !old.contains(m)) {
            if let Some(u) = self.users.get_mut(m) {
                if !u.member_of.contains(&gid) {
                    u.member_of.push(gid);
                }
                u.updated_at = now;
            }
        }
        if let Some(g) = self.groups.get_mut(&gid) {
            g.members = dedup;
            g.updated_at = now;
        }
        Ok(())
    }

    /// `POST /api/v2/groups` (and SCIM group creation).
    pub(crate) fn create_group(
        &mut self,
        body: &Map<String, Value>,
        now: OffsetDateTime,
    ) -> Result<u64, ApiError> {
        let input = GroupInput::parse(body)?;
        let Some(name) = input.name.clone() else {
            return Err(invalid("name", "It should be a/an String", "missing_field"));
        };
        if self
            .groups
            .values()
            .any(|g| g.name.eq_ignore_ascii_case(&name))
        {
            return Err(ApiError::Duplicate(FieldError::new(
                "name",
                format!("It should be a unique value: a group named {name} exists"),
                "duplicate_value",
            )));
        }
        if let Some(m) = &input.members {
            self.check_members(m, "members")?;
        }
        let id = self.next_group_id;
        self.next_group_id += 1;
        self.groups.insert(
            id,
            Group {
                id,
                name,
                description: None,
                members: Vec::new(),
                observers: Vec::new(),
                leaders: Vec::new(),
                restricted: false,
                approval_required: false,
                auto_ticket_assign: false,
                created_at: now,
                updated_at: now,
            },
        );
        self.apply_group(id, input, now)?;
        Ok(id)
    }

    /// `PUT /api/v2/groups/{id}`: fields sent change; `members` replaces the member list, a
    /// missing `members` leaves it alone.
    pub(crate) fn update_group(
        &mut self,
        id: u64,
        body: &Map<String, Value>,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        if !self.groups.contains_key(&id) {
            return Err(ApiError::NotFound { what: "group", id });
        }
        let input = GroupInput::parse(body)?;
        if let Some(name) = &input.name {
            if self
                .groups
                .values()
                .any(|g| g.id != id && g.name.eq_ignore_ascii_case(name))
            {
                return Err(ApiError::Duplicate(FieldError::new(
                    "name",
                    format!("It should be a unique value: a group named {name} exists"),
                    "duplicate_value",
                )));
            }
        }
        self.apply_group(id, input, now)
    }

    fn apply_group(
        &mut self,
        id: u64,
        input: GroupInput,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        for list in [&input.observers, &input.leaders].into_iter().flatten() {
            self.check_members(list, "observers")?;
        }
        if let Some(members) = input.members {
            self.set_group_members(id, members, now)?;
        }
        if let Some(g) = self.groups.get_mut(&id) {
            if let Some(n) = input.name {
                g.name = n;
            }
            if let Some(d) = input.description {
                g.description = d;
            }
            if let Some(o) = input.observers {
                g.observers = o;
            }
            if let Some(l) = input.leaders {
                g.leaders = l;
            }
            if let Some(b) = input.restricted {
                g.restricted = b;
            }
            if let Some(b) = input.approval_required {
                g.approval_required = b;
            }
            if let Some(b) = input.auto_ticket_assign {
                g.auto_ticket_assign = b;
            }
            g.updated_at = now;
        }
        Ok(())
    }

    /// `DELETE /api/v2/groups/{id}`: the group goes, agents lose the membership and any
    /// `specified_groups` scope on it.
    pub(crate) fn delete_group(&mut self, id: u64, now: OffsetDateTime) -> Result<(), ApiError> {
        let group = self
            .groups
            .remove(&id)
            .ok_or(ApiError::NotFound { what: "group", id })?;
        for m in group.members {
            if let Some(u) = self.users.get_mut(&m) {
                u.member_of.retain(|g| *g != id);
                u.updated_at = now;
            }
        }
        for u in self.users.values_mut() {
            for r in &mut u.roles {
                r.groups.retain(|g| *g != id);
            }
        }
        Ok(())
    }

    // ---- rendering ----

    /// A user as `GET /api/v2/agents` renders it.
    pub(crate) fn render_agent(&self, u: &User) -> Value {
        let mut v = json!({
            "id": u.id,
            "first_name": u.first_name,
            "last_name": u.last_name,
            "occasional": u.occasional,
            "active": u.active,
            "job_title": u.job_title,
            "email": u.email,
            "work_phone_number": u.work_phone_number,
            "mobile_phone_number": u.mobile_phone_number,
            "department_ids": u.department_ids,
            "can_see_all_tickets_from_associated_departments": false,
            "reporting_manager_id": u.reporting_manager_id,
            "address": null,
            "time_zone": u.time_zone,
            "time_format": "12h",
            "language": u.language,
            "location_id": u.location_id,
            "background_information": null,
            "scoreboard_level_id": null,
            "member_of": u.member_of,
            "observer_of": [],
            "member_of_pending_approval": [],
            "observer_of_pending_approval": [],
            "group_ids": u.member_of,
            "roles": u.roles.iter().map(|r| json!({
                "role_id": r.role_id,
                "assignment_scope": r.assignment_scope,
                "groups": r.groups,
            })).collect::<Vec<_>>(),
            "role_ids": u.roles.iter().map(|r| r.role_id).collect::<Vec<_>>(),
            "last_login_at": u.last_login_at.map(rfc3339),
            "last_active_at": u.last_active_at.map(rfc3339),
            "has_logged_in": u.last_login_at.is_some(),
            "custom_fields": u.custom_fields,
            "signature": null,
            "vip_user": u.vip_user,
            "created_at": rfc3339(u.created_at),
            "updated_at": rfc3339(u.updated_at),
        });
        overlay(&mut v, &u.extra);
        v
    }

    /// A user as `GET /api/v2/requesters` renders it (agents too, with `include_agents`).
    pub(crate) fn render_requester(&self, u: &User) -> Value {
        let mut v = json!({
            "id": u.id,
            "first_name": u.first_name,
            "last_name": u.last_name,
            "job_title": u.job_title,
            "email": u.email,
            "primary_email": u.email,
            "secondary_emails": [],
            "work_phone_number": u.work_phone_number,
            "mobile_phone_number": u.mobile_phone_number,
            "department_ids": u.department_ids,
            "department_names": u.department_ids.iter()
                .filter_map(|d| self.departments.get(d).map(|d| d.name.clone()))
                .collect::<Vec<_>>(),
            "can_see_all_tickets_from_associated_departments": false,
            "reporting_manager_id": u.reporting_manager_id,
            "address": null,
            "time_zone": u.time_zone,
            "time_format": "12h",
            "language": u.language,
            "location_id": u.location_id,
            "background_information": null,
            "custom_fields": u.custom_fields,
            "active": u.active,
            "has_logged_in": u.last_login_at.is_some(),
            "vip_user": u.vip_user,
            "is_agent": u.kind == Kind::Agent,
            "created_at": rfc3339(u.created_at),
            "updated_at": rfc3339(u.updated_at),
        });
        overlay(&mut v, &u.extra);
        v
    }

    pub(crate) fn render(&self, u: &User) -> Value {
        match u.kind {
            Kind::Agent => self.render_agent(u),
            Kind::Requester => self.render_requester(u),
        }
    }

    pub(crate) fn render_role(&self, r: &Role) -> Value {
        json!({
            "id": r.id,
            "name": r.name,
            "description": r.description,
            "default": r.default,
            "created_at": rfc3339(r.created_at),
            "updated_at": rfc3339(r.updated_at),
        })
    }

    pub(crate) fn render_group(&self, g: &Group) -> Value {
        json!({
            "id": g.id,
            "name": g.name,
            "description": g.description,
            "escalate_to": null,
            "unassigned_for": null,
            "business_hours_id": null,
            "created_at": rfc3339(g.created_at),
            "updated_at": rfc3339(g.updated_at),
            "auto_ticket_assign": g.auto_ticket_assign,
            "restricted": g.restricted,
            "approval_required": g.approval_required,
            "ocs_schedule_id": null,
            "workspace_id": null,
            "members": g.members,
            "observers": g.observers,
            "leaders": g.leaders,
            "members_pending_approval": [],
            "leaders_pending_approval": [],
            "observers_pending_approval": [],
        })
    }

    pub(crate) fn render_department(&self, d: &Department) -> Value {
        json!({
            "id": d.id,
            "name": d.name,
            "description": d.description,
            "head_user_id": null,
            "prime_user_id": null,
            "domains": [],
            "custom_fields": {},
            "created_at": rfc3339(d.created_at),
            "updated_at": rfc3339(d.updated_at),
        })
    }
}

fn overlay(v: &mut Value, extra: &Map<String, Value>) {
    if let Value::Object(obj) = v {
        for (k, val) in extra {
            obj.insert(k.clone(), val.clone());
        }
    }
}

/// Merges two ascending id streams into one ascending stream.
struct MergeIds<A: Iterator<Item = u64>, B: Iterator<Item = u64>> {
    a: std::iter::Peekable<A>,
    b: std::iter::Peekable<B>,
}

impl<A: Iterator<Item = u64>, B: Iterator<Item = u64>> MergeIds<A, B> {
    fn new(a: A, b: B) -> Self {
        Self {
            a: a.peekable(),
            b: b.peekable(),
        }
    }
}

impl<A: Iterator<Item = u64>, B: Iterator<Item = u64>> Iterator for MergeIds<A, B> {
    type Item = u64;
    fn next(&mut self) -> Option<u64> {
        match (self.a.peek(), self.b.peek()) {
            (Some(x), Some(y)) if x <= y => self.a.next(),
            (Some(_), Some(_)) => self.b.next(),
            (Some(_), None) => self.a.next(),
            (None, _) => self.b.next(),
        }
    }
}

// ---- input parsing ----

fn type_error(field: &str, expected: &str) -> FieldError {
    FieldError::new(
        field,
        format!("It should be a/an {expected}"),
        "datatype_mismatch",
    )
}

fn opt_string(
    obj: &Map<String, Value>,
    key: &str,
    errs: &mut Vec<FieldError>,
) -> Option<Option<String>> {
    match obj.get(key)? {
        Value::Null => Some(None),
        Value::String(s) => Some(Some(s.clone())),
        _ => {
            errs.push(type_error(key, "String"));
            None
        }
    }
}

fn opt_bool(obj: &Map<String, Value>, key: &str, errs: &mut Vec<FieldError>) -> Option<bool> {
    match obj.get(key)? {
        Value::Bool(b) => Some(*b),
        _ => {
            errs.push(type_error(key, "Boolean"));
            None
        }
    }
}

fn opt_id(obj: &Map<String, Value>, key: &str, errs: &mut Vec<FieldError>) -> Option<Option<u64>> {
    match obj.get(key)? {
        Value::Null => Some(None),
        v => match v.as_u64() {
            Some(n) => Some(Some(n)),
            None => {
                errs.push(type_error(key, "Positive Integer"));
                None
            }
        },
    }
}

fn id_list(v: &Value, key: &str, errs: &mut Vec<FieldError>) -> Option<Vec<u64>> {
    let Some(arr) = v.as_array() else {
        errs.push(type_error(key, "Array"));
        return None;
    };
    let mut out = Vec::with_capacity(arr.len());
    for item in arr {
        match item.as_u64() {
            Some(n) => out.push(n),
            None => {
                errs.push(FieldError::new(
                    key,
                    "It should contain elements of type Positive Integer only",
                    "datatype_mismatch",
                ));
                return None;
            }
        }
    }
    Some(out)
}

fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.contains(char::is_whitespace)
}

/// The writable fields of an agent or requester body, checked.
#[derive(Debug, Default)]
struct UserInput {
    first_name: Option<String>,
    last_name: Option<Option<String>>,
    /// The email and the spelling it was sent under (`email` or `primary_email`).
    email: Option<(String, &'static str)>,
    job_title: Option<Option<String>>,
    work_phone_number: Option<Option<String>>,
    mobile_phone_number: Option<Option<String>>,
    department_ids: Option<Vec<u64>>,
    location_id: Option<Option<u64>>,
    reporting_manager_id: Option<Option<u64>>,
    time_zone: Option<String>,
    language: Option<String>,
    vip_user: Option<bool>,
    occasional: Option<bool>,
    active: Option<bool>,
    roles: Option<Vec<RoleAssignment>>,
    groups: Option<Vec<u64>>,
    custom_fields: Option<Map<String, Value>>,
    extra: Map<String, Value>,
}

impl UserInput {
    fn parse(
        obj: &Map<String, Value>,
        kind: Kind,
        create: bool,
        store: &Store,
    ) -> Result<UserInput, ApiError> {
        let mut errs: Vec<FieldError> = Vec::new();
        let mut inp = UserInput::default();
        let agent_only = ["roles", "role_ids", "occasional", "group_ids", "member_of"];
        for key in obj.keys() {
            let known = matches!(
                key.as_str(),
                "first_name"
                    | "last_name"
                    | "email"
                    | "primary_email"
                    | "job_title"
                    | "phone"
                    | "work_phone_number"
                    | "mobile_phone_number"
                    | "mobile"
                    | "department_ids"
                    | "location_id"
                    | "reporting_manager_id"
                    | "time_zone"
                    | "language"
                    | "vip_user"
                    | "active"
                    | "custom_fields"
            ) || PASSTHROUGH.contains(&key.as_str())
                || (kind == Kind::Agent && agent_only.contains(&key.as_str()));
            if !known {
                errs.push(FieldError::new(
                    key.clone(),
                    format!(
                        "Unexpected/invalid field in request: {key} is not a field of a {}",
                        kind.singular()
                    ),
                    "invalid_field",
                ));
            }
        }
        match obj.get("first_name") {
            Some(Value::String(s)) if !s.trim().is_empty() => inp.first_name = Some(s.clone()),
            Some(Value::String(_)) | Some(Value::Null) => errs.push(FieldError::new(
                "first_name",
                "It should not be blank",
                "invalid_value",
            )),
            Some(_) => errs.push(type_error("first_name", "String")),
            None if create => errs.push(FieldError::new(
                "first_name",
                "It should be a/an String",
                "missing_field",
            )),
            None => {}
        }
        inp.last_name = opt_string(obj, "last_name", &mut errs);
        let email_key = if obj.contains_key("primary_email") && !obj.contains_key("email") {
            "primary_email"
        } else {
            "email"
        };
        match obj.get(email_key) {
            Some(Value::String(s)) if valid_email(s.trim()) => {
                inp.email = Some((s.trim().to_string(), email_key))
            }
            Some(Value::String(s)) => errs.push(FieldError::new(
                email_key,
                format!("It should be in the 'valid email address' format: {s:?} is not"),
                "invalid_value",
            )),
            Some(_) => errs.push(type_error(email_key, "String")),
            None if create => errs.push(FieldError::new(
                email_key,
                "It should be a/an String",
                "missing_field",
            )),
            None => {}
        }
        inp.job_title = opt_string(obj, "job_title", &mut errs);
        inp.work_phone_number = opt_string(obj, "work_phone_number", &mut errs)
            .or_else(|| opt_string(obj, "phone", &mut errs));
        inp.mobile_phone_number = opt_string(obj, "mobile_phone_number", &mut errs)
            .or_else(|| opt_string(obj, "mobile", &mut errs));
        if let Some(v) = obj.get("department_ids") {
            if let Some(ids) = id_list(v, "department_ids", &mut errs) {
                let bad: Vec<String> = ids
                    .iter()
                    .filter(|d| !store.departments.contains_key(d))
                    .map(|d| d.to_string())
                    .collect();
                if bad.is_empty() {
                    inp.department_ids = Some(ids);
                } else {
                    errs.push(FieldError::new(
                        "department_ids",
                        format!("There are no departments with the ids {}", bad.join(", ")),
                        "invalid_value",
                    ));
                }
            }
        }
        inp.location_id = opt_id(obj, "location_id", &mut errs);
        inp.reporting_manager_id = opt_id(obj, "reporting_manager_id", &mut errs);
        if let Some(Some(m)) = inp.reporting_manager_id {
            if !store.users.contains_key(&m) {
                errs.push(FieldError::new(
                    "reporting_manager_id",
                    format!("There is no user with the id {m}"),
                    "invalid_value",
                ));
            }
        }
        inp.time_zone = opt_string(obj, "time_zone", &mut errs).flatten();
        inp.language = opt_string(obj, "language", &mut errs).flatten();
        inp.vip_user = opt_bool(obj, "vip_user", &mut errs);
        inp.active = opt_bool(obj, "active", &mut errs);
        if kind == Kind::Agent {
            inp.occasional = opt_bool(obj, "occasional", &mut errs);
            inp.roles = parse_roles(obj, create, store, &mut errs);
            let gkey = if obj.contains_key("member_of") {
                "member_of"
            } else {
                "group_ids"
            };
            if let Some(v) = obj.get(gkey) {
                if let Some(ids) = id_list(v, gkey, &mut errs) {
                    let bad: Vec<String> = ids
                        .iter()
                        .filter(|g| !store.groups.contains_key(g))
                        .map(|g| g.to_string())
                        .collect();
                    if bad.is_empty() {
                        inp.groups = Some(ids);
                    } else {
                        errs.push(FieldError::new(
                            gkey,
                            format!("There are no groups with the ids {}", bad.join(", ")),
                            "invalid_value",
                        ));
                    }
                }
            }
        }
        match obj.get("custom_fields") {
            None => {}
            Some(Value::Object(m)) => inp.custom_fields = Some(m.clone()),
            Some(_) => errs.push(type_error("custom_fields", "key/value pair")),
        }
        for key in PASSTHROUGH {
            if let Some(v) = obj.get(key) {
                inp.extra.insert(key.to_string(), v.clone());
            }
        }
        if errs.is_empty() {
            Ok(inp)
        } else {
            Err(ApiError::Invalid(errs))
        }
    }

    /// Writes the input into `u`; returns the new group list, which the caller applies to both
    /// sides.
    fn apply(self, u: &mut User, create: bool) -> Option<Vec<u64>> {
        if let Some(v) = self.first_name {
            u.first_name = v;
        }
        if let Some(v) = self.last_name {
            u.last_name = v;
        }
        if let Some((e, _)) = self.email {
            u.email = e;
        }
        if let Some(v) = self.job_title {
            u.job_title = v;
        }
        if let Some(v) = self.work_phone_number {
            u.work_phone_number = v;
        }
        if let Some(v) = self.mobile_phone_number {
            u.mobile_phone_number = v;
        }
        if let Some(v) = self.department_ids {
            u.department_ids = v;
        }
        if let Some(v) = self.location_id {
            u.location_id = v;
        }
        if let Some(v) = self.reporting_manager_id {
            u.reporting_manager_id = v;
        }
        if let Some(v) = self.time_zone {
            u.time_zone = v;
        }
        if let Some(v) = self.language {
            u.language = v;
        }
        if let Some(v) = self.vip_user {
            u.vip_user = v;
        }
        if let Some(v) = self.occasional {
            u.occasional = v;
        }
        if let Some(v) = self.active {
            if !create {
                u.active = v;
            }
        }
        if let Some(v) = self.roles {
            u.roles = v;
        }
        if let Some(m) = self.custom_fields {
            for (k, v) in m {
                u.custom_fields.insert(k, v);
            }
        }
        for (k, v) in self.extra {
            u.extra.insert(k, v);
        }
        self.groups
    }
}

/// `roles: [{role_id, assignment_scope, groups}]` (the v2 shape) or `role_ids: [..]` (the
/// guide's spelling). On create every entry needs `role_id` and `assignment_scope`; on PUT a
/// missing scope falls back to [`DEFAULT_SCOPE`] (the kept role loses its scope).
fn parse_roles(
    obj: &Map<String, Value>,
    create: bool,
    store: &Store,
    errs: &mut Vec<FieldError>,
) -> Option<Vec<RoleAssignment>> {
    let small_plan = matches!(store.plan, PlanTier::Starter | PlanTier::Growth);
    let check_role = |id: u64, errs: &mut Vec<FieldError>| -> bool {
        if store.roles.contains_key(&id) {
            true
        } else {
            errs.push(FieldError::new(
                "roles",
                format!("There is no role with the id {id} (see GET /api/v2/roles)"),
                "invalid_value",
            ));
            false
        }
    };
    let out = if let Some(v) = obj.get("roles") {
        let Some(arr) = v.as_array() else {
            errs.push(type_error("roles", "Array"));
            return None;
        };
        let mut out = Vec::new();
        for (i, entry) in arr.iter().enumerate() {
            let Some(e) = entry.as_object() else {
                errs.push(FieldError::new(
                    "roles",
                    format!("roles[{i}] should be an object with role_id and assignment_scope"),
                    "datatype_mismatch",
                ));
                continue;
            };
            let role_id = match e.get("role_id").map(Value::as_u64) {
                Some(Some(id)) => id,
                Some(None) => {
                    errs.push(type_error("role_id", "Positive Integer"));
                    continue;
                }
                None => {
                    errs.push(FieldError::new(
                        "role_id",
                        format!("roles[{i}].role_id is mandatory"),
                        "missing_field",
                    ));
                    continue;
                }
            };
            if !check_role(role_id, errs) {
                continue;
            }
            let scope = match e.get("assignment_scope") {
                Some(Value::String(s)) if ASSIGNMENT_SCOPES.contains(&s.as_str()) => s.clone(),
                Some(Value::String(s)) => {
                    errs.push(FieldError::new(
                        "assignment_scope",
                        format!(
                            "roles[{i}].assignment_scope {s:?} should be one of {}",
                            ASSIGNMENT_SCOPES.join(", ")
                        ),
                        "invalid_value",
                    ));
                    continue;
                }
                Some(_) => {
                    errs.push(type_error("assignment_scope", "String"));
                    continue;
                }
                None if create => {
                    errs.push(FieldError::new(
                        "assignment_scope",
                        format!("roles[{i}].assignment_scope is mandatory"),
                        "missing_field",
                    ));
                    continue;
                }
                None => DEFAULT_SCOPE.to_string(),
            };
            let groups = match e.get("groups") {
                Some(g) => match id_list(g, "groups", errs) {
                    Some(g) => g,
                    None => continue,
                },
                None => Vec::new(),
            };
            if scope == "specified_groups" {
                if small_plan {
                    errs.push(FieldError::new(
                        "assignment_scope",
                        "specified_groups is available on the Pro and Enterprise plans only",
                        "invalid_value",
                    ));
                    continue;
                }
                if groups.is_empty() {
                    errs.push(FieldError::new(
                        "groups",
                        format!("roles[{i}].groups is mandatory when assignment_scope is specified_groups"),
                        "missing_field",
                    ));
                    continue;
                }
                if let Some(bad) = groups.iter().find(|g| !store.groups.contains_key(g)) {
                    errs.push(FieldError::new(
                        "groups",
                        format!("There is no group with the id {bad}"),
                        "invalid_value",
                    ));
                    continue;
                }
            }
            out.push(RoleAssignment {
                role_id,
                assignment_scope: scope.clone(),
                groups: if scope == "specified_groups" {
                    groups
                } else {
                    Vec::new()
                },
            });
        }
        Some(out)
    } else if let Some(v) = obj.get("role_ids") {
        let ids = id_list(v, "role_ids", errs)?;
        Some(
            ids.into_iter()
                .filter(|id| check_role(*id, errs))
                .map(|role_id| RoleAssignment {
                    role_id,
                    assignment_scope: DEFAULT_SCOPE.to_string(),
                    groups: Vec::new(),
                })
                .collect(),
        )
    } else {
        None
    };
    if create && out.as_ref().is_none_or(|r| r.is_empty()) && errs.is_empty() {
        errs.push(FieldError::new(
            "roles",
            "It should be a/an Array of at least one {role_id, assignment_scope}: an agent needs a role",
            "missing_field",
        ));
    }
    out
}

/// The writable fields of a group body.
#[derive(Debug, Default)]
struct GroupInput {
    name: Option<String>,
    description: Option<Option<String>>,
    members: Option<Vec<u64>>,
    observers: Option<Vec<u64>>,
    leaders: Option<Vec<u64>>,
    restricted: Option<bool>,
    approval_required: Option<bool>,
    auto_ticket_assign: Option<bool>,
}

impl GroupInput {
    fn parse(obj: &Map<String, Value>) -> Result<GroupInput, ApiError> {
        let mut errs = Vec::new();
        let mut g = GroupInput::default();
        for key in obj.keys() {
            if !matches!(
                key.as_str(),
                "name"
                    | "description"
                    | "members"
                    | "observers"
                    | "leaders"
                    | "restricted"
                    | "approval_required"
                    | "auto_ticket_assign"
                    | "escalate_to"
                    | "unassigned_for"
                    | "business_hours_id"
            ) {
                errs.push(FieldError::new(
                    key.clone(),
                    format!("Unexpected/invalid field in request: {key} is not a field of a group"),
                    "invalid_field",
                ));
            }
        }
        match obj.get("name") {
            Some(Value::String(s)) if !s.trim().is_empty() => g.name = Some(s.clone()),
            Some(Value::String(_)) => errs.push(FieldError::new(
                "name",
                "It should not be blank",
                "invalid_value",
            )),
            Some(_) => errs.push(type_error("name", "String")),
            None => {}
        }
        g.description = opt_string(obj, "description", &mut errs);
        for (key, slot) in [
            ("members", &mut g.members),
            ("observers", &mut g.observers),
            ("leaders", &mut g.leaders),
        ] {
            if let Some(v) = obj.get(key) {
                *slot = id_list(v, key, &mut errs);
            }
        }
        g.restricted = opt_bool(obj, "restricted", &mut errs);
        g.approval_required = opt_bool(obj, "approval_required", &mut errs);
        g.auto_ticket_assign = opt_bool(obj, "auto_ticket_assign", &mut errs);
        if errs.is_empty() {
            Ok(g)
        } else {
            Err(ApiError::Invalid(errs))
        }
    }
}
