//! The company generator: N people spread over the five apps with known drift, the matching
//! HR roster (the source of truth) and the ground truth of every injected drift.
//!
//! Generation is a pure function of [`CompanyConfig`] (seed, size, coverage, anchor time): the
//! same config gives the same company, byte for byte. Vendor simulators seed their tenants from
//! [`Company::accounts`]; native ids are assigned here so the ground truth can name them.

use crate::common::App;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use time::{Date, OffsetDateTime};

/// An invitation or unconfirmed agent older than this many days is drift.
pub const PENDING_DAYS: i64 = 14;
/// A seat-consuming account with no login for this many days is a dormant (wasted) seat.
pub const DORMANT_DAYS: i64 = 90;

/// Which apps a person gets accounts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Coverage {
    /// A realistic company: everyone is a Freshservice requester, IT staff are agents, support
    /// staff are Freshdesk agents and Help Scout users, sales staff are Freshsales users,
    /// finance staff are FreshBooks members; Freshdesk also holds customer contacts.
    #[default]
    Realistic,
    /// Everyone has an account in every app (Freshservice and Freshdesk agents): N people give
    /// N accounts per app. For benchmarks.
    Full,
}

impl std::str::FromStr for Coverage {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "realistic" => Ok(Coverage::Realistic),
            "full" => Ok(Coverage::Full),
            other => Err(format!(
                "unknown coverage `{other}` (expected realistic or full)"
            )),
        }
    }
}

/// What to generate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompanyConfig {
    pub seed: u64,
    pub people: usize,
    pub coverage: Coverage,
    /// "Now" of the generated data: hire dates, logins and invitations are placed before it.
    #[serde(with = "time::serde::rfc3339")]
    pub anchor: OffsetDateTime,
    /// The company's email domain.
    pub domain: String,
}

impl CompanyConfig {
    pub fn new(seed: u64, people: usize, anchor: OffsetDateTime) -> Self {
        Self {
            seed,
            people,
            coverage: Coverage::Realistic,
            anchor,
            domain: "acme.example".to_string(),
        }
    }
}

/// Employment status in the HR roster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HrStatus {
    Active,
    OnLeave,
    Terminated,
}

/// One row of the HR roster.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub employee_id: String,
    pub first_name: String,
    pub last_name: String,
    /// Primary work email.
    pub email: String,
    /// Alternate emails (aliases, and the old address of a person whose email changed).
    pub alternate_emails: Vec<String>,
    pub department: String,
    pub title: String,
    pub manager_id: Option<String>,
    pub status: HrStatus,
    pub hire_date: Date,
    /// Set for terminated people (and the start of leave for people on leave).
    pub status_date: Option<Date>,
}

/// The kind of account object in its app.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// Freshservice or Freshdesk agent (consumes a seat).
    Agent,
    /// Freshservice requester.
    Requester,
    /// Freshdesk contact (usually a customer).
    Contact,
    /// Freshsales user (REST owner and/or SCIM user), Help Scout user.
    User,
    /// FreshBooks business member.
    Member,
    /// FreshBooks pending invitation.
    Invitation,
}

/// The account's state in its app, before vendor-specific rendering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeedStatus {
    Active,
    /// Deactivated (Freshservice/Freshdesk agents, Freshsales users, Help Scout users: hidden).
    Inactive,
    /// Invited or created but not confirmed (Freshdesk agents, FreshBooks invitations).
    Pending,
    /// Soft-deleted (Freshdesk contacts; `deleted=true`).
    Deleted,
}

/// How an account's email relates to its owner's roster entry (ground truth for correlation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailVariant {
    /// The person's primary email.
    Primary,
    /// One of the person's alternate emails (an alias).
    Alternate,
    /// The person's old email (they changed it; the roster keeps it as an alternate).
    OldEmail,
    /// The primary email in other letter case.
    Case,
    /// The primary email with a `+tag`.
    PlusAddress,
    /// Not a person's email: a customer, a shared mailbox, a contractor.
    NotAPerson,
}

/// Freshsales keeps two user id namespaces: REST (CRM ids) and SCIM (Freshworks ids).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespaces {
    pub rest: bool,
    pub scim: bool,
}

/// One account to seed into a simulated app.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedAccount {
    pub app: App,
    pub kind: AccountKind,
    /// The vendor's numeric id (CRM id for Freshsales; invitation id for invitations).
    pub native_id: u64,
    /// Freshsales SCIM id (a string in its own namespace); `None` elsewhere.
    pub scim_id: Option<String>,
    /// FreshBooks business id the member or invitation belongs to.
    pub scope: Option<u64>,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub job_title: Option<String>,
    pub department: Option<String>,
    pub status: SeedStatus,
    /// Role names from the app's [`Catalog`].
    pub roles: Vec<String>,
    /// Group or team names from the app's [`Catalog`].
    pub groups: Vec<String>,
    /// Freshservice/Freshdesk occasional (part-time) agent.
    pub occasional: bool,
    /// Freshsales only: which namespaces hold the user.
    pub namespaces: Namespaces,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_login_at: Option<OffsetDateTime>,
    /// Ground truth: the employee id of the owner (`None` for customers, shared mailboxes and
    /// contractors absent from the roster).
    pub owner: Option<String>,
    /// Ground truth: how the email relates to the owner's roster entry.
    pub email_variant: EmailVariant,
}

/// Roles and groups that exist in an app.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    pub roles: Vec<String>,
    pub groups: Vec<String>,
    pub departments: Vec<String>,
}

/// A FreshBooks business.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Business {
    pub id: u64,
    pub name: String,
    pub account_id: String,
}

/// Kinds of injected drift: what a correct review must report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// A terminated person's account is still active.
    LeaverActive,
    /// A FreshBooks invitation pending for more than [`PENDING_DAYS`].
    PendingInvitation,
    /// A Freshdesk agent unconfirmed for more than [`PENDING_DAYS`].
    UnconfirmedAgent,
    /// A terminated person has a pending invitation or unconfirmed agent.
    TerminatedPending,
    /// A person's second account in the same app.
    DuplicateAccount,
    /// A Freshservice person who is both agent and requester (two records, two emails).
    AgentAlsoRequester,
    /// An active Freshsales user present only in the REST namespace.
    FreshsalesRestOnly,
    /// An active Freshsales user present only in the SCIM namespace.
    FreshsalesScimOnly,
    /// An active account whose email belongs to nobody in the roster.
    Unowned,
    /// An active seat-consuming account with no login for more than [`DORMANT_DAYS`].
    DormantSeat,
}

/// One injected drift, naming the account by app, kind and native id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    pub kind: DriftKind,
    pub app: App,
    pub account_kind: AccountKind,
    pub native_id: u64,
    pub email: String,
    /// The person concerned (`None` for [`DriftKind::Unowned`]).
    pub person: Option<String>,
    pub detail: String,
}

/// A generated company.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Company {
    pub config: CompanyConfig,
    pub people: Vec<Person>,
    pub accounts: Vec<SeedAccount>,
    pub catalogs: BTreeMap<App, Catalog>,
    pub businesses: Vec<Business>,
    /// The FreshBooks OAuth token owner (an admin of every business): employee id.
    pub freshbooks_owner: Option<String>,
    pub drifts: Vec<Drift>,
}

impl Company {
    /// The accounts of one app, in generation order.
    pub fn accounts_of(&self, app: App) -> impl Iterator<Item = &SeedAccount> {
        self.accounts.iter().filter(move |a| a.app == app)
    }

    pub fn catalog(&self, app: App) -> Catalog {
        self.catalogs.get(&app).cloned().unwrap_or_default()
    }
}

/// A deterministic token-like string (lowercase hex) from a seed and a purpose.
pub fn token_from_seed(seed: u64, purpose: &str, len: usize) -> String {
    // FNV-1a over the purpose, mixed with the seed, feeds a ChaCha stream.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in purpose.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(h);
    (0..len)
        .map(|_| char::from(b"0123456789abcdef"[rng.gen_range(0..16)]))
        .collect()
}

mod generate;
mod output;

pub use generate::generate;
pub use output::{write_ground_truth, write_roster_csv, GroundTruth, TruthAccount, ROSTER_COLUMNS};
