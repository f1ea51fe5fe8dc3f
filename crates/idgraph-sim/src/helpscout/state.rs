//! The in-memory Help Scout account: users, teams, OAuth tokens and codes, seeded from the
//! generated company, and the renderers that turn records into Help Scout's JSON.
//!
//! Users carry a lifecycle status the REST API never shows: active and pending (invited, not yet
//! accepted) users are listed, deactivated and deleted ones are hidden from `GET /v2/users` and
//! answer 404 on `GET /v2/users/{id}`. SCIM sees every user that is not deleted, with `active`.

use crate::common::{App, SimEnv};
use crate::company::{Company, SeedStatus};
use crate::ratelimit::FixedWindow;
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// Access tokens live 48 hours (`expires_in: 172800`).
pub const TOKEN_TTL_SECS: i64 = 172_800;
/// Authorization codes are good for ten minutes and one exchange.
pub const CODE_TTL_SECS: i64 = 600;
/// Help Scout serves 50 records per page (the guide says 25 by default; the real API sends 50).
pub const PAGE_SIZE: u32 = 50;
/// Requests per minute, counted per account (every token and integration of the account).
pub const RATE_LIMIT_PER_MINUTE: u32 = 400;

const TIMEZONES: [&str; 6] = [
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Singapore",
];

/// Lifecycle of a Help Scout user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserStatus {
    Active,
    /// Invited, invitation not yet accepted: listed by the REST API like active users.
    Pending,
    /// Deactivated (e.g. SCIM `DELETE`): hidden from REST, `active: false` in SCIM.
    Inactive,
    /// Deleted: gone from REST and SCIM; only `/_sim/state` still shows it.
    Deleted,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Pending => "pending",
            UserStatus::Inactive => "inactive",
            UserStatus::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "active" => Some(UserStatus::Active),
            "pending" | "invited" => Some(UserStatus::Pending),
            "inactive" | "deactivated" => Some(UserStatus::Inactive),
            "deleted" => Some(UserStatus::Deleted),
            _ => None,
        }
    }

    /// Whether the REST API shows the user (list, get, team members).
    pub fn rest_visible(self) -> bool {
        matches!(self, UserStatus::Active | UserStatus::Pending)
    }

    /// Whether SCIM shows the user (with `active: false` when deactivated).
    pub fn scim_visible(self) -> bool {
        !matches!(self, UserStatus::Deleted)
    }
}

/// One Help Scout user.
#[derive(Clone, Debug)]
pub struct User {
    pub id: u64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// `owner`, `admin` or `user`.
    pub role: String,
    pub timezone: String,
    pub photo_url: String,
    pub job_title: String,
    pub phone: String,
    pub alternate_emails: Vec<String>,
    pub mention: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub status: UserStatus,
    /// SCIM `externalId` (set by an IdP).
    pub external_id: Option<String>,
}

impl User {
    pub fn initials(&self) -> String {
        self.first_name
            .chars()
            .next()
            .into_iter()
            .chain(self.last_name.chars().next())
            .flat_map(char::to_uppercase)
            .collect()
    }
}

/// One Help Scout team.
#[derive(Clone, Debug)]
pub struct Team {
    pub id: u64,
    pub name: String,
    pub timezone: String,
    pub mention: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Member user ids (deactivated members are kept but not shown).
    pub members: BTreeSet<u64>,
    pub external_id: Option<String>,
}

/// Who a token acts for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// Client-credentials token: the app's bot user.
    App,
    /// Authorization-code token: the person who authorized the app.
    User(u64),
}

#[derive(Clone, Debug)]
pub struct AccessToken {
    pub expires_at: OffsetDateTime,
    pub subject: Subject,
}

#[derive(Clone, Debug)]
pub struct AuthCode {
    pub subject: Subject,
    pub expires_at: OffsetDateTime,
}

/// The mutable records of the account.
#[derive(Debug)]
pub struct Tenant {
    pub users: BTreeMap<u64, User>,
    pub teams: BTreeMap<u64, Team>,
    /// The app's bot user (`GET /v2/users/me` with a client-credentials token); not listed.
    pub bot: User,
    pub tokens: HashMap<String, AccessToken>,
    pub refresh_tokens: HashMap<String, Subject>,
    pub codes: HashMap<String, AuthCode>,
    /// Next id for users and teams created over SCIM.
    pub next_id: u64,
}

impl Tenant {
    /// A user the REST API shows.
    pub fn rest_user(&self, id: u64) -> Option<&User> {
        self.users.get(&id).filter(|u| u.status.rest_visible())
    }

    /// The person an authorization-code grant acts for: the first active owner, else the first
    /// active admin, else the first active user.
    pub fn authorizing_user(&self) -> Option<u64> {
        let active = || {
            self.users
                .values()
                .filter(|u| u.status == UserStatus::Active)
        };
        active()
            .find(|u| u.role == "owner")
            .or_else(|| active().find(|u| u.role == "admin"))
            .or_else(|| active().next())
            .map(|u| u.id)
    }

    /// A mention handle not used by any other user.
    pub fn unique_mention(&self, first_name: &str, except: Option<u64>) -> String {
        let taken: HashSet<&str> = self
            .users
            .values()
            .filter(|u| Some(u.id) != except)
            .map(|u| u.mention.as_str())
            .collect();
        pick_mention(first_name, &taken)
    }
}

fn mention_base(first_name: &str) -> String {
    let base: String = first_name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if base.is_empty() {
        "user".to_string()
    } else {
        base
    }
}

fn pick_mention(first_name: &str, taken: &HashSet<&str>) -> String {
    let base = mention_base(first_name);
    if !taken.contains(base.as_str()) {
        return base;
    }
    (2u64..)
        .map(|n| format!("{base}{n}"))
        .find(|m| !taken.contains(m.as_str()))
        .unwrap_or(base)
}

pub fn timezone_for(id: u64) -> String {
    TIMEZONES[(id % TIMEZONES.len() as u64) as usize].to_string()
}

pub fn photo_url_for(id: u64) -> String {
    format!("https://avatars.helpscout.example/users/{id}.png")
}

fn phone_for(id: u64) -> String {
    format!("555-{:04}", id % 10_000)
}

/// Credentials of the simulated account.
#[derive(Clone, Debug)]
pub struct Creds {
    pub client_id: String,
    pub client_secret: String,
    pub scim_token: String,
    /// Where the authorization-code flow sends the browser when no `redirect_uri` is given
    /// (the app's "Redirection URL" in My Apps).
    pub redirect_uri: String,
}

/// Everything the handlers share.
#[derive(Debug)]
pub struct Shared {
    pub env: SimEnv,
    pub creds: Creds,
    pub limit: Arc<FixedWindow>,
    pub tenant: Mutex<Tenant>,
    seq: AtomicU64,
}

impl Shared {
    /// A fresh deterministic opaque value (tokens, codes, `logRef`s).
    pub fn fresh(&self, purpose: &str, len: usize) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        self.env.secret(&format!("{purpose}:{n}"), len)
    }

    /// A `logRef` as Help Scout sends in error bodies (UUID-shaped).
    pub fn log_ref(&self) -> String {
        let h = self.fresh("logref", 32);
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    pub fn now(&self) -> OffsetDateTime {
        self.env.clock.now()
    }

    /// Issues an access token (and, for authorization-code grants, a refresh token).
    pub fn issue_token(&self, subject: Subject, with_refresh: bool) -> (String, Option<String>) {
        let access = self.fresh("access-token", 32);
        let refresh = with_refresh.then(|| self.fresh("refresh-token", 32));
        let expires_at = self.now() + Duration::seconds(TOKEN_TTL_SECS);
        let mut t = self.tenant.lock();
        t.tokens.insert(
            access.clone(),
            AccessToken {
                expires_at,
                subject,
            },
        );
        if let Some(r) = &refresh {
            t.refresh_tokens.insert(r.clone(), subject);
        }
        (access, refresh)
    }

    /// The subject of a valid access token, or why it is refused.
    pub fn check_access_token(&self, token: &str) -> Result<Subject, &'static str> {
        let t = self.tenant.lock();
        match t.tokens.get(token) {
            None => Err("Invalid access token"),
            Some(a) if a.expires_at <= self.now() => Err("Access token expired"),
            // Credentials must belong to an active user of the account.
            Some(AccessToken {
                subject: Subject::User(id),
                ..
            }) if t.rest_user(*id).is_none() => {
                Err("The user who authorized this token is no longer an active user of the account")
            }
            Some(a) => Ok(a.subject),
        }
    }
}

/// Builds the account from the company's Help Scout accounts.
pub fn seed(company: &Company, env: SimEnv, creds: Creds) -> Shared {
    let anchor = company.config.anchor;
    let mut users = BTreeMap::new();
    let mut taken: HashSet<String> = HashSet::new();
    let mut next_suffix: HashMap<String, u64> = HashMap::new();
    let mut team_names: Vec<String> = company.catalog(App::Helpscout).groups;
    let mut known: HashSet<String> = team_names.iter().cloned().collect();
    let mut memberships: Vec<(u64, Vec<String>)> = Vec::new();
    for a in company.accounts_of(App::Helpscout) {
        let base = mention_base(&a.first_name);
        let mention = if taken.contains(&base) {
            // Next free numbered handle, starting after the last one given for this base.
            let n = next_suffix.entry(base.clone()).or_insert(2);
            loop {
                let m = format!("{base}{n}");
                *n += 1;
                if !taken.contains(&m) {
                    break m;
                }
            }
        } else {
            base
        };
        taken.insert(mention.clone());
        let role = a
            .roles
            .iter()
            .map(|r| r.to_ascii_lowercase())
            .find(|r| matches!(r.as_str(), "owner" | "admin" | "user"))
            .unwrap_or_else(|| "user".to_string());
        let status = match a.status {
            SeedStatus::Active => UserStatus::Active,
            SeedStatus::Pending => UserStatus::Pending,
            SeedStatus::Inactive => UserStatus::Inactive,
            SeedStatus::Deleted => UserStatus::Deleted,
        };
        for g in &a.groups {
            if known.insert(g.clone()) {
                team_names.push(g.clone());
            }
        }
        memberships.push((a.native_id, a.groups.clone()));
        users.insert(
            a.native_id,
            User {
                id: a.native_id,
                first_name: a.first_name.clone(),
                last_name: a.last_name.clone(),
                email: a.email.clone(),
                role,
                timezone: timezone_for(a.native_id),
                photo_url: photo_url_for(a.native_id),
                job_title: a.job_title.clone().unwrap_or_default(),
                phone: phone_for(a.native_id),
                alternate_emails: Vec::new(),
                mention,
                created_at: a.created_at,
                updated_at: a.updated_at,
                status,
                external_id: None,
            },
        );
    }
    let max_user = users.keys().next_back().copied().unwrap_or(0);
    let bot_id = max_user + 1;
    let team_created = anchor - Duration::days(730);
    let mut teams = BTreeMap::new();
    let mut team_ids: HashMap<String, u64> = HashMap::new();
    for (i, name) in team_names.iter().enumerate() {
        let id = bot_id + 1 + i as u64;
        team_ids.insert(name.clone(), id);
        teams.insert(
            id,
            Team {
                id,
                name: name.clone(),
                timezone: timezone_for(id),
                mention: mention_base(name),
                created_at: team_created,
                updated_at: team_created,
                members: BTreeSet::new(),
                external_id: None,
            },
        );
    }
    for (uid, groups) in memberships {
        for g in groups {
            if let Some(team) = team_ids.get(&g).and_then(|tid| teams.get_mut(tid)) {
                team.members.insert(uid);
            }
        }
    }
    let bot = User {
        id: bot_id,
        first_name: "App".to_string(),
        last_name: "Bot".to_string(),
        email: format!("app+{}@{}", creds.client_id, company.config.domain),
        role: "admin".to_string(),
        timezone: timezone_for(bot_id),
        photo_url: photo_url_for(bot_id),
        job_title: String::new(),
        phone: String::new(),
        alternate_emails: Vec::new(),
        mention: "appbot".to_string(),
        created_at: team_created,
        updated_at: team_created,
        status: UserStatus::Active,
        external_id: None,
    };
    let next_id = bot_id + 1 + teams.len() as u64 + 1000;
    let limit = Arc::new(FixedWindow::new(
        RATE_LIMIT_PER_MINUTE,
        60,
        env.options.rate_limits,
    ));
    Shared {
        env,
        creds,
        limit,
        tenant: Mutex::new(Tenant {
            users,
            teams,
            bot,
            tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            codes: HashMap::new(),
            next_id,
        }),
        seq: AtomicU64::new(0),
    }
}

/// A user as `GET /v2/users` renders it; `origin` adds the HAL `_links`.
pub fn render_user(u: &User, origin: Option<&str>) -> Value {
    let mut v = json!({
        "id": u.id,
        "firstName": u.first_name,
        "lastName": u.last_name,
        "email": u.email,
        "role": u.role,
        "timezone": u.timezone,
        "photoUrl": u.photo_url,
        "createdAt": crate::clock::rfc3339(u.created_at),
        "updatedAt": crate::clock::rfc3339(u.updated_at),
        "type": "user",
        "mention": u.mention,
        "initials": u.initials(),
        "jobTitle": u.job_title,
        "phone": u.phone,
        "alternateEmails": u.alternate_emails,
    });
    if let Some(o) = origin {
        v["_links"] = json!({"self": {"href": format!("{o}/v2/users/{}", u.id)}});
    }
    v
}

/// A team as `GET /v2/teams` renders it.
pub fn render_team(t: &Team, origin: Option<&str>) -> Value {
    let initials: String = t
        .name
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect();
    let mut v = json!({
        "id": t.id,
        "name": t.name,
        "timezone": t.timezone,
        "photoUrl": photo_url_for(t.id),
        "createdAt": crate::clock::rfc3339(t.created_at),
        "updatedAt": crate::clock::rfc3339(t.updated_at),
        "mention": t.mention,
        "initials": initials,
    });
    if let Some(o) = origin {
        v["_links"] = json!({
            "self": {"href": format!("{o}/v2/teams/{}", t.id)},
            "members": {"href": format!("{o}/v2/teams/{}/members", t.id)},
        });
    }
    v
}
