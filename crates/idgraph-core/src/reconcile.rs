//! Reconciliation: from accounts, the roster, decisions and sync times to findings — what is
//! wrong, about whom, the evidence and what to do. A pure function of its input and `now`.
//!
//! Accounts are first grouped into *identities*: a Freshsales user's REST record (`user`)
//! and SCIM record (`scim_user`) are one identity and one seat (paired by the `scim_id` /
//! `crm_id` attributes, else by email within the tenant); every other account is its own
//! identity. Findings are about identities and name every record of one.
//!
//! Rules (customers — Freshdesk contacts — are never a problem; only live identities, i.e.
//! `active` or `pending`, are looked at; see `docs/reconciliation.md` for the full table):
//!
//! | kind | when | severity |
//! |---|---|---|
//! | `orphan_account` | active, owner terminated (with days since termination) | high; critical when privileged |
//! | `terminated_pending` | pending (invitation, unconfirmed agent), owner terminated | high |
//! | `no_owner` | staff account linked to nobody (unmatched, or only a proposal / a dispute) and not a service account | medium; high when privileged |
//! | `duplicate_account` | an owner's second identity in the same app, tenant and namespace | medium |
//! | `agent_also_requester` | a Freshservice owner with a live agent and a live requester | low |
//! | `one_namespace` | an active Freshsales user in only one of `user` / `scim_user` (only for tenants where both namespaces were read) | medium |
//! | `stale_pending` | pending for more than `pending_days` (owner not terminated) | low |
//! | `dormant_account` | active staff account of an active (not on-leave) owner, or of a service account, whose last login is more than `dormant_days` ago | low; medium when privileged |
//! | `stale_sync` | an (app, tenant) not synced within `stale_sync_hours` | medium |
//!
//! A terminated owner's identity gets only its `orphan_account` / `terminated_pending`
//! finding (closing it settles the rest); an identity without an owner only `no_owner`.
//! A seat is *wasted* when a live seat-consuming identity has an orphan, terminated-pending,
//! no-owner, stale-pending or dormant finding, or is the extra one of a duplicate.

use crate::account::{Account, AccountKey, AccountStatus, Entitlement, EntitlementKey, Grant};
use crate::correlate::{
    account_class, correlate, AccountClass, CorrelationConfig, Correlations, Decision, MatchRule,
    Situation,
};
use crate::person::{HrStatus, Person, Roster};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use time::{Date, OffsetDateTime};

/// Thresholds and correlation settings of a review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// An invitation or unconfirmed account pending longer than this is reported.
    pub pending_days: i64,
    /// An active account with no login for longer than this is dormant.
    pub dormant_days: i64,
    /// An app not synced for longer than this has stale data.
    pub stale_sync_hours: i64,
    pub correlation: CorrelationConfig,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            pending_days: 14,
            dormant_days: 90,
            stale_sync_hours: 24,
            correlation: CorrelationConfig::default(),
        }
    }
}

/// When an (app, tenant) was last synced in full.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSync {
    pub app: String,
    pub tenant: String,
    /// `None`: never synced.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_synced_at: Option<OffsetDateTime>,
}

/// How much a finding matters; `--fail-on` compares against it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity `{other}` (expected low, medium, high or critical)"
            )),
        }
    }
}

/// What a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    OrphanAccount,
    TerminatedPending,
    NoOwner,
    DuplicateAccount,
    AgentAlsoRequester,
    OneNamespace,
    StalePending,
    DormantAccount,
    StaleSync,
}

impl FindingKind {
    pub const ALL: [FindingKind; 9] = [
        FindingKind::OrphanAccount,
        FindingKind::TerminatedPending,
        FindingKind::NoOwner,
        FindingKind::DuplicateAccount,
        FindingKind::AgentAlsoRequester,
        FindingKind::OneNamespace,
        FindingKind::StalePending,
        FindingKind::DormantAccount,
        FindingKind::StaleSync,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::OrphanAccount => "orphan_account",
            FindingKind::TerminatedPending => "terminated_pending",
            FindingKind::NoOwner => "no_owner",
            FindingKind::DuplicateAccount => "duplicate_account",
            FindingKind::AgentAlsoRequester => "agent_also_requester",
            FindingKind::OneNamespace => "one_namespace",
            FindingKind::StalePending => "stale_pending",
            FindingKind::DormantAccount => "dormant_account",
            FindingKind::StaleSync => "stale_sync",
        }
    }
}

impl std::fmt::Display for FindingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The person a finding is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingPerson {
    pub employee_id: String,
    pub name: String,
    pub email: String,
    pub status: HrStatus,
    #[serde(with = "crate::person::ymd::option", default)]
    pub status_date: Option<Date>,
}

impl FindingPerson {
    fn of(p: &Person) -> Self {
        FindingPerson {
            employee_id: p.employee_id.clone(),
            name: p.display_name(),
            email: p.email.clone(),
            status: p.status,
            status_date: p.status_date,
        }
    }
}

/// One problem: who, which account, the evidence, what to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable across runs: `kind:app:tenant:namespace:native_id` (`kind:app:tenant` for
    /// `stale_sync`).
    pub id: String,
    pub kind: FindingKind,
    pub severity: Severity,
    pub app: String,
    pub tenant: String,
    /// The account the finding is about (`None` for `stale_sync`).
    pub account: Option<AccountKey>,
    /// Other records involved: the identity's twin record, the other accounts of a duplicate,
    /// the agent of an agent-also-requester.
    pub related: Vec<AccountKey>,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub account_status: Option<AccountStatus>,
    pub person: Option<FindingPerson>,
    /// What was seen, in words.
    pub evidence: String,
    /// What to do about it.
    pub action: String,
    /// Numbers behind the evidence (`days_since_termination`, `pending_days`,
    /// `days_since_login`, `hours_since_sync`).
    pub metrics: BTreeMap<String, i64>,
    pub seat_consuming: bool,
    /// The identity holds a paid seat for nothing (see the module doc).
    pub wasted_seat: bool,
    pub privileged: bool,
}

impl Finding {
    /// Every account the finding names: its account, then the related ones.
    pub fn accounts(&self) -> impl Iterator<Item = &AccountKey> {
        self.account.iter().chain(self.related.iter())
    }
}

/// Counts per app for the review's summary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSummary {
    pub app: String,
    pub tenants: Vec<String>,
    /// Records (a Freshsales user in both namespaces counts twice here).
    pub accounts: usize,
    /// Identities (a Freshsales user counts once).
    pub identities: usize,
    pub by_status: BTreeMap<AccountStatus, usize>,
    pub by_situation: BTreeMap<Situation, usize>,
    /// Live seat-consuming identities.
    pub seats_used: usize,
    pub wasted_seats: usize,
    pub findings: usize,
    pub findings_by_severity: BTreeMap<Severity, usize>,
    /// The oldest last full sync among the app's tenants (`None` if one never synced or no
    /// sync times were given).
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_synced_at: Option<OffsetDateTime>,
}

/// Everything reconciliation looks at.
#[derive(Clone, Copy, Debug)]
pub struct ReconcileInput<'a> {
    pub roster: &'a Roster,
    pub accounts: &'a [Account],
    /// Used to tell privileged accounts (raises severity); may be empty.
    pub grants: &'a [Grant],
    pub entitlements: &'a [Entitlement],
    pub decisions: &'a [Decision],
    /// Last full sync per (app, tenant); may be empty (then no `stale_sync` findings).
    pub syncs: &'a [AppSync],
    pub policy: &'a Policy,
    pub now: OffsetDateTime,
}

impl<'a> ReconcileInput<'a> {
    /// An input with no grants, decisions or sync times.
    pub fn new(
        roster: &'a Roster,
        accounts: &'a [Account],
        policy: &'a Policy,
        now: OffsetDateTime,
    ) -> Self {
        ReconcileInput {
            roster,
            accounts,
            grants: &[],
            entitlements: &[],
            decisions: &[],
            syncs: &[],
            policy,
            now,
        }
    }
}

/// The result of reconciliation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciliation {
    /// Situation and owner of every input account, the correlation cases, stale decisions.
    pub correlations: Correlations,
    /// Findings, most severe first (then kind, app, tenant, id).
    pub findings: Vec<Finding>,
    /// One per app, in app name order.
    pub apps: Vec<AppSummary>,
}

/// Namespace pairs that hold the same users under two id spaces: (app, primary namespace,
/// twin namespace, attribute on the primary naming the twin's id, attribute on the twin
/// naming the primary's id).
const TWINS: &[(&str, &str, &str, &str, &str)] =
    &[("freshsales", "user", "scim_user", "scim_id", "crm_id")];

/// Freshservice keeps agents and requesters apart; a person in both is its own finding.
const AGENT_REQUESTER: (&str, &str, &str) = ("freshservice", "agent", "requester");

/// One identity: one or two records (indices into the accounts).
struct Unit {
    records: [usize; 2],
    len: u8,
}

impl Unit {
    fn records(&self) -> &[usize] {
        &self.records[..usize::from(self.len)]
    }
    fn primary(&self) -> usize {
        self.records[0]
    }
}

fn liveness(s: AccountStatus) -> u8 {
    match s {
        AccountStatus::Active => 4,
        AccountStatus::Pending => 3,
        AccountStatus::Inactive => 2,
        AccountStatus::Deleted => 1,
        AccountStatus::Missing => 0,
    }
}

fn attr_str<'a>(a: &'a Account, key: &str) -> Option<std::borrow::Cow<'a, str>> {
    match a.attributes.get(key)? {
        serde_json::Value::String(s) => Some(std::borrow::Cow::Borrowed(s.as_str())),
        serde_json::Value::Number(n) => Some(std::borrow::Cow::Owned(n.to_string())),
        _ => None,
    }
}

/// Small interner for app / tenant / namespace strings.
#[derive(Default)]
struct Interner<'a> {
    ids: HashMap<&'a str, u32>,
    names: Vec<&'a str>,
}

impl<'a> Interner<'a> {
    fn id(&mut self, s: &'a str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(s, id);
        self.names.push(s);
        id
    }

    fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }
}

/// The (app, tenant, namespace) of every account as interned numbers, so that the passes over
/// a million accounts compare numbers instead of following three string pointers each.
struct Keys<'a> {
    strings: Interner<'a>,
    /// `[app, tenant, namespace]` per account.
    meta: Vec<[u32; 3]>,
    /// `TWINS` entries present: (index in TWINS, app, primary namespace, twin namespace).
    twins: Vec<(usize, u32, u32, u32)>,
}

impl<'a> Keys<'a> {
    fn new(accounts: &'a [Account]) -> Self {
        let mut strings = Interner::default();
        let meta = accounts
            .iter()
            .map(|a| {
                [
                    strings.id(&a.key.app),
                    strings.id(&a.key.tenant),
                    strings.id(&a.key.namespace),
                ]
            })
            .collect();
        let twins = TWINS
            .iter()
            .enumerate()
            .filter_map(|(k, t)| Some((k, strings.get(t.0)?, strings.get(t.1)?, strings.get(t.2)?)))
            .collect();
        Keys {
            strings,
            meta,
            twins,
        }
    }

    /// The namespace an identity is grouped under (a twin namespace counts as its primary).
    fn group_namespace(&self, i: usize) -> u32 {
        let m = self.meta[i];
        self.twins
            .iter()
            .find(|t| t.1 == m[0] && t.3 == m[2])
            .map_or(m[2], |t| t.2)
    }
}

/// Groups records into identities (pairs twin namespaces).
fn units(accounts: &[Account], keys: &Keys<'_>) -> Vec<Unit> {
    let mut paired = vec![false; accounts.len()];
    let mut out = Vec::with_capacity(accounts.len());
    for &(k, app, ns_a, ns_b) in &keys.twins {
        let (_, _, _, attr_a, attr_b) = TWINS[k];
        // Twins by (tenant, native id), by (tenant, attribute id) and by (tenant, email).
        let mut by_id: HashMap<(u32, &str), usize> = HashMap::new();
        let mut by_back: HashMap<(u32, String), usize> = HashMap::new();
        let mut by_email: HashMap<(u32, String), Vec<usize>> = HashMap::new();
        for (i, m) in keys.meta.iter().enumerate() {
            if m[0] != app || m[2] != ns_b {
                continue;
            }
            let a = &accounts[i];
            by_id.insert((m[1], a.key.native_id.as_str()), i);
            if let Some(back) = attr_str(a, attr_b) {
                by_back.insert((m[1], back.into_owned()), i);
            }
            if let Some(e) = a.primary_email() {
                by_email
                    .entry((m[1], crate::account::normalize_email(e)))
                    .or_default()
                    .push(i);
            }
        }
        let mut pending_email: Vec<usize> = Vec::new();
        for (i, m) in keys.meta.iter().enumerate() {
            if m[0] != app || m[2] != ns_a {
                continue;
            }
            let a = &accounts[i];
            let twin = attr_str(a, attr_a)
                .and_then(|id| by_id.get(&(m[1], id.as_ref())).copied())
                .or_else(|| by_back.get(&(m[1], a.key.native_id.clone())).copied())
                .filter(|&j| !paired[j]);
            match twin {
                Some(j) => {
                    paired[i] = true;
                    paired[j] = true;
                    out.push(Unit {
                        records: [i, j],
                        len: 2,
                    });
                }
                None => pending_email.push(i),
            }
        }
        // By email only when both sides are unpaired and the email is unambiguous.
        for i in pending_email {
            let a = &accounts[i];
            let twin = a.primary_email().and_then(|e| {
                let c = by_email.get(&(keys.meta[i][1], crate::account::normalize_email(e)))?;
                let free: Vec<usize> = c.iter().copied().filter(|&j| !paired[j]).collect();
                (free.len() == 1).then(|| free[0])
            });
            paired[i] = true;
            match twin {
                Some(j) => {
                    paired[j] = true;
                    out.push(Unit {
                        records: [i, j],
                        len: 2,
                    });
                }
                None => out.push(Unit {
                    records: [i, 0],
                    len: 1,
                }),
            }
        }
    }
    for (i, done) in paired.iter().enumerate() {
        if !done {
            out.push(Unit {
                records: [i, 0],
                len: 1,
            });
        }
    }
    out
}

struct Ctx<'a> {
    input: &'a ReconcileInput<'a>,
    corr: &'a Correlations,
    privileged: HashSet<&'a AccountKey>,
    findings: Vec<Finding>,
    wasted: Vec<bool>,
}

impl<'a> Ctx<'a> {
    fn accounts(&self) -> &'a [Account] {
        self.input.accounts
    }

    fn unit_status(&self, u: &Unit) -> AccountStatus {
        u.records()
            .iter()
            .map(|&i| self.accounts()[i].status)
            .max_by_key(|s| liveness(*s))
            .unwrap_or(AccountStatus::Missing)
    }

    fn owner(&self, u: &Unit) -> Option<usize> {
        u.records()
            .iter()
            .find_map(|&i| self.corr.accounts[i].owner)
    }

    fn rule(&self, u: &Unit) -> Option<MatchRule> {
        u.records()
            .iter()
            .filter_map(|&i| self.corr.accounts[i].rule)
            .min()
    }

    /// How close the identity's address is to its owner's: 0 the primary email (any letter
    /// case), 1 an alternate email, 2 anything else.
    fn closeness(&self, u: &Unit) -> u8 {
        let Some(p) = self.owner(u).map(|p| &self.input.roster.people()[p]) else {
            return 2;
        };
        let emails = || {
            u.records()
                .iter()
                .flat_map(|&i| self.accounts()[i].emails.iter())
                .map(|e| e.trim())
        };
        if emails().any(|e| e.eq_ignore_ascii_case(p.email.trim())) {
            0
        } else if emails().any(|e| {
            p.alternate_emails
                .iter()
                .any(|x| e.eq_ignore_ascii_case(x.trim()))
        }) {
            1
        } else {
            2
        }
    }

    fn is_service(&self, u: &Unit) -> bool {
        u.records()
            .iter()
            .any(|&i| self.corr.accounts[i].service_account)
    }

    fn seat(&self, u: &Unit) -> bool {
        u.records()
            .iter()
            .any(|&i| self.accounts()[i].seat_consuming)
    }

    fn privileged(&self, u: &Unit) -> bool {
        u.records().iter().any(|&i| {
            let a = &self.accounts()[i];
            self.privileged.contains(&a.key)
                || attr_str(a, "role").is_some_and(|r| {
                    let r = r.to_ascii_lowercase();
                    r.contains("admin") || r.contains("owner")
                })
        })
    }

    fn last_login(&self, u: &Unit) -> Option<OffsetDateTime> {
        u.records()
            .iter()
            .filter_map(|&i| self.accounts()[i].last_login_at)
            .max()
    }

    fn created(&self, u: &Unit) -> Option<OffsetDateTime> {
        u.records()
            .iter()
            .filter_map(|&i| {
                let a = &self.accounts()[i];
                a.created_at.or(a.updated_at)
            })
            .min()
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        ui: usize,
        u: &Unit,
        kind: FindingKind,
        severity: Severity,
        evidence: String,
        action: String,
        metrics: &[(&str, i64)],
        extra_related: Vec<AccountKey>,
        wastes: bool,
    ) {
        let a = &self.accounts()[u.primary()];
        let seat = self.seat(u);
        let wasted = wastes && seat;
        if wasted {
            self.wasted[ui] = true;
        }
        let mut related: Vec<AccountKey> = u.records()[1..]
            .iter()
            .map(|&i| self.accounts()[i].key.clone())
            .collect();
        related.extend(extra_related);
        let person = self
            .owner(u)
            .map(|p| FindingPerson::of(&self.input.roster.people()[p]));
        self.findings.push(Finding {
            id: format!(
                "{}:{}:{}:{}:{}",
                kind, a.key.app, a.key.tenant, a.key.namespace, a.key.native_id
            ),
            kind,
            severity,
            app: a.key.app.clone(),
            tenant: a.key.tenant.clone(),
            account: Some(a.key.clone()),
            related,
            email: a.primary_email().map(str::to_string),
            display_name: a.display_name.clone(),
            account_status: Some(self.unit_status(u)),
            person,
            evidence,
            action,
            metrics: metrics
                .iter()
                .map(|(k, v)| ((*k).to_string(), *v))
                .collect(),
            seat_consuming: seat,
            wasted_seat: wasted,
            privileged: self.privileged(u),
        });
    }
}

fn describe(a: &Account) -> String {
    let who = a
        .primary_email()
        .map(str::to_string)
        .or_else(|| a.display_name.clone())
        .unwrap_or_default();
    format!(
        "{} {} {} ({who})",
        a.key.app, a.key.namespace, a.key.native_id
    )
}

/// Reconciles: correlation, then findings and per-app counts.
pub fn reconcile(input: &ReconcileInput<'_>) -> Reconciliation {
    let corr = correlate(
        input.roster,
        input.accounts,
        input.decisions,
        &input.policy.correlation,
    );
    let keys = Keys::new(input.accounts);
    let units = units(input.accounts, &keys);
    let privileged_ents: HashSet<&EntitlementKey> = input
        .entitlements
        .iter()
        .filter(|e| e.privileged)
        .map(|e| &e.key)
        .collect();
    let privileged: HashSet<&AccountKey> = input
        .grants
        .iter()
        .filter(|g| privileged_ents.contains(&g.entitlement))
        .map(|g| &g.account)
        .collect();
    let mut ctx = Ctx {
        input,
        corr: &corr,
        privileged,
        findings: Vec::new(),
        wasted: vec![false; units.len()],
    };
    let policy = input.policy;
    let now = input.now;
    let people = input.roster.people();

    // Tenants where both twin namespaces were read.
    let mut twin_seen: HashMap<(u32, u32), (bool, bool)> = HashMap::new();
    for m in &keys.meta {
        for &(_, app, ns_a, ns_b) in &keys.twins {
            if m[0] == app {
                let e = twin_seen.entry((app, m[1])).or_default();
                e.0 |= m[2] == ns_a;
                e.1 |= m[2] == ns_b;
            }
        }
    }

    // (owner, app, tenant, namespace, unit) of live owned identities, for duplicates.
    let mut groups: Vec<(u32, u32, u32, u32, u32)> = Vec::new();
    let mut classes: HashMap<(u32, u32), AccountClass> = HashMap::new();

    for (ui, u) in units.iter().enumerate() {
        let a = &input.accounts[u.primary()];
        let m = keys.meta[u.primary()];
        let class = *classes
            .entry((m[0], m[2]))
            .or_insert_with(|| account_class(&a.key));
        if class == AccountClass::Customer {
            continue;
        }
        let status = ctx.unit_status(u);
        if !matches!(status, AccountStatus::Active | AccountStatus::Pending) {
            continue;
        }
        let owner = ctx.owner(u).map(|p| (p, &people[p]));
        let service = ctx.is_service(u);

        if let Some((_, p)) = owner.filter(|(_, p)| p.status == HrStatus::Terminated) {
            let what = describe(a);
            let days = p.days_since_termination(now);
            let when = match (p.status_date, days) {
                (Some(d), Some(n)) => format!("on {d}, {n} days ago"),
                _ => "(no date)".to_string(),
            };
            let metrics: Vec<(&str, i64)> = days
                .map(|n| vec![("days_since_termination", n)])
                .unwrap_or_default();
            if status == AccountStatus::Active {
                ctx.push(
                    ui,
                    u,
                    FindingKind::OrphanAccount,
                    if ctx.privileged(u) {
                        Severity::Critical
                    } else {
                        Severity::High
                    },
                    format!(
                        "{what} is active; its owner {} ({}) was terminated {when}",
                        p.display_name(),
                        p.employee_id
                    ),
                    "Deactivate the account and revoke its sessions and API keys".into(),
                    &metrics,
                    Vec::new(),
                    true,
                );
            } else {
                ctx.push(
                    ui,
                    u,
                    FindingKind::TerminatedPending,
                    Severity::High,
                    format!(
                        "{what} is pending (invited, not yet accepted); its person {} ({}) \
                         was terminated {when}",
                        p.display_name(),
                        p.employee_id
                    ),
                    "Revoke the invitation (or delete the unconfirmed account) before it is \
                     accepted"
                        .into(),
                    &metrics,
                    Vec::new(),
                    true,
                );
            }
            continue;
        }

        if owner.is_none() && !service {
            if class == AccountClass::Staff {
                let what = describe(a);
                let c = &corr.accounts[u.primary()];
                let names: Vec<String> = u
                    .records()
                    .iter()
                    .flat_map(|&i| corr.accounts[i].candidates.iter())
                    .map(|x| {
                        let p = &people[x.person];
                        format!(
                            "{} ({}, by {})",
                            p.display_name(),
                            p.employee_id,
                            x.rule.as_str()
                        )
                    })
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                let (evidence, action) =
                    if names.is_empty() {
                        (
                        format!("{what} is {} and matches nobody in the roster", status.as_str()),
                        "Find its owner: link it with `idgraph correlate`, mark it as a service \
                         account, or deactivate it"
                            .to_string(),
                    )
                    } else {
                        (
                        format!(
                            "{what} is {} with no confirmed owner ({}: {})",
                            status.as_str(),
                            c.situation.as_str(),
                            names.join(", ")
                        ),
                        "Resolve its correlation case with `idgraph correlate` (accept, reject \
                         or mark as a service account)"
                            .to_string(),
                    )
                    };
                ctx.push(
                    ui,
                    u,
                    FindingKind::NoOwner,
                    if ctx.privileged(u) {
                        Severity::High
                    } else {
                        Severity::Medium
                    },
                    evidence,
                    action,
                    &[],
                    Vec::new(),
                    true,
                );
            }
            continue;
        }

        // Owned by someone employed (or a service account).
        if status == AccountStatus::Pending && class == AccountClass::Staff {
            if let Some(age) = ctx.created(u).map(|c| (now - c).whole_days()) {
                if age > policy.pending_days {
                    let what = describe(a);
                    ctx.push(
                        ui,
                        u,
                        FindingKind::StalePending,
                        Severity::Low,
                        format!(
                            "{what} has been pending (invited or unconfirmed) for {age} days \
                             (policy: {})",
                            policy.pending_days
                        ),
                        "Ask the person to accept, or resend or revoke the invitation".into(),
                        &[("pending_days", age)],
                        Vec::new(),
                        true,
                    );
                }
            }
        }
        let owner_active = owner.is_some_and(|(_, p)| p.status == HrStatus::Active);
        if status == AccountStatus::Active
            && class == AccountClass::Staff
            && (owner_active || service)
        {
            if let Some(login) = ctx.last_login(u) {
                let idle = (now - login).whole_days();
                if idle > policy.dormant_days {
                    let what = describe(a);
                    ctx.push(
                        ui,
                        u,
                        FindingKind::DormantAccount,
                        if ctx.privileged(u) {
                            Severity::Medium
                        } else {
                            Severity::Low
                        },
                        format!(
                            "{what} has not been used for {idle} days (last login {}; policy: {})",
                            login.date(),
                            policy.dormant_days
                        ),
                        "Confirm the person still needs it; otherwise deactivate it and free \
                         the seat"
                            .into(),
                        &[("days_since_login", idle)],
                        Vec::new(),
                        true,
                    );
                }
            }
        }
        if status == AccountStatus::Active && u.len == 1 {
            for &(k, app, ns_a_id, ns_b_id) in &keys.twins {
                if m[0] != app || (m[2] != ns_a_id && m[2] != ns_b_id) {
                    continue;
                }
                if twin_seen.get(&(app, m[1])) != Some(&(true, true)) {
                    continue;
                }
                let (_, ns_a, ns_b, _, _) = TWINS[k];
                let what = describe(a);
                let (here, missing, action) = if m[2] == ns_a_id {
                    (
                        ns_a,
                        ns_b,
                        "Provision the user through SCIM (the identity provider) so that \
                         deprovisioning reaches it, or deactivate it",
                    )
                } else {
                    (
                        ns_b,
                        ns_a,
                        "The user exists in SCIM but has no CRM user: complete or revoke it in \
                         the app",
                    )
                };
                ctx.push(
                    ui,
                    u,
                    FindingKind::OneNamespace,
                    Severity::Medium,
                    format!("{what} is active in `{here}` but absent from `{missing}`"),
                    action.into(),
                    &[],
                    Vec::new(),
                    false,
                );
            }
        }
        if let Some((p, _)) = owner {
            groups.push((
                p as u32,
                m[0],
                m[1],
                keys.group_namespace(u.primary()),
                ui as u32,
            ));
        }
    }

    // Several identities of one owner in one app, tenant and namespace.
    groups.sort_unstable();
    let (fs_app, fs_agent, fs_req) = AGENT_REQUESTER;
    let fs = (
        keys.strings.get(fs_app),
        keys.strings.get(fs_agent),
        keys.strings.get(fs_req),
    );
    let mut i = 0;
    while i < groups.len() {
        let (p, app, tenant, _, _) = groups[i];
        let mut j = i;
        while j < groups.len() && groups[j].0 == p && groups[j].1 == app && groups[j].2 == tenant {
            j += 1;
        }
        // groups[i..j]: one owner in one (app, tenant); split by namespace.
        let mut k = i;
        while k < j {
            let mut l = k;
            while l < j && groups[l].3 == groups[k].3 {
                l += 1;
            }
            if l - k > 1 {
                duplicates(&mut ctx, &units, groups[k..l].iter().map(|g| g.4 as usize));
            }
            k = l;
        }
        if let (Some(fs_app), Some(agent_ns), Some(req_ns)) = fs {
            let agents: Vec<usize> = groups[i..j]
                .iter()
                .filter(|g| g.1 == fs_app && g.3 == agent_ns)
                .map(|g| g.4 as usize)
                .collect();
            let requesters = groups[i..j]
                .iter()
                .filter(|g| g.1 == fs_app && g.3 == req_ns)
                .map(|g| g.4 as usize);
            if !agents.is_empty() {
                for r in requesters {
                    let u = &units[r];
                    let agent_keys: Vec<AccountKey> = agents
                        .iter()
                        .flat_map(|&x| units[x].records().to_vec())
                        .map(|x| input.accounts[x].key.clone())
                        .collect();
                    let agent_desc = agents
                        .iter()
                        .map(|&x| describe(&input.accounts[units[x].primary()]))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let what = describe(&input.accounts[u.primary()]);
                    ctx.push(
                        r,
                        u,
                        FindingKind::AgentAlsoRequester,
                        Severity::Low,
                        format!("{what} is a requester record of a person who is also agent {agent_desc}"),
                        "Remove the requester record (an agent can already raise requests) or \
                         merge it into the agent"
                            .into(),
                        &[],
                        agent_keys,
                        false,
                    );
                }
            }
        }
        i = j;
    }

    // Stale data.
    for s in input.syncs {
        let hours = s.last_synced_at.map(|t| (now - t).whole_hours());
        if hours.is_some_and(|h| h <= policy.stale_sync_hours) {
            continue;
        }
        let (evidence, metrics) = match (s.last_synced_at, hours) {
            (Some(t), Some(h)) => (
                format!(
                    "{} {} was last synced {h} hours ago ({t}; policy: {} hours)",
                    s.app, s.tenant, policy.stale_sync_hours
                ),
                BTreeMap::from([("hours_since_sync".to_string(), h)]),
            ),
            _ => (
                format!("{} {} has never been synced in full", s.app, s.tenant),
                BTreeMap::new(),
            ),
        };
        ctx.findings.push(Finding {
            id: format!("{}:{}:{}", FindingKind::StaleSync, s.app, s.tenant),
            kind: FindingKind::StaleSync,
            severity: Severity::Medium,
            app: s.app.clone(),
            tenant: s.tenant.clone(),
            account: None,
            related: Vec::new(),
            email: None,
            display_name: None,
            account_status: None,
            person: None,
            evidence,
            action: format!(
                "Run `idgraph sync {}`; findings for it are based on old data",
                s.app
            ),
            metrics,
            seat_consuming: false,
            wasted_seat: false,
            privileged: false,
        });
    }

    let mut findings = std::mem::take(&mut ctx.findings);
    findings.sort_by(|a, b| {
        (b.severity, a.kind, &a.app, &a.tenant, &a.id)
            .cmp(&(a.severity, b.kind, &b.app, &b.tenant, &b.id))
    });
    let apps = summaries(input, &corr, &keys, &units, &ctx, &findings);
    Reconciliation {
        correlations: corr,
        findings,
        apps,
    }
}

/// Reports the extra identities of one owner in one (app, tenant, namespace).
fn duplicates(ctx: &mut Ctx<'_>, units: &[Unit], members: impl Iterator<Item = usize>) {
    let mut members: Vec<usize> = members.collect();
    // The keeper: the account on the person's primary address (letter case aside), then on an
    // alternate address, then the rest (plus-addressed, aliased domain, linked by hand); then
    // active before pending, the oldest, the lowest id.
    members.sort_by_key(|&m| {
        let u = &units[m];
        let a = &ctx.accounts()[u.primary()];
        (
            ctx.closeness(u),
            std::cmp::Reverse(liveness(ctx.unit_status(u))),
            ctx.created(u),
            a.key.native_id.len(),
            a.key.native_id.clone(),
        )
    });
    let keeper = &units[members[0]];
    let keeper_keys: Vec<AccountKey> = keeper
        .records()
        .iter()
        .map(|&i| ctx.accounts()[i].key.clone())
        .collect();
    let keeper_desc = describe(&ctx.accounts()[keeper.primary()]);
    let n = members.len();
    for &m in &members[1..] {
        let u = &units[m];
        let what = describe(&ctx.accounts()[u.primary()]);
        let rule = ctx.rule(u).map_or("?", MatchRule::as_str);
        let person = ctx
            .owner(u)
            .map(|p| ctx.input.roster.people()[p].display_name())
            .unwrap_or_default();
        ctx.push(
            m,
            u,
            FindingKind::DuplicateAccount,
            Severity::Medium,
            format!(
                "{person} has {n} accounts here: {what} (matched by {rule}) besides {keeper_desc}"
            ),
            format!("Keep {keeper_desc}; deactivate or merge {what}"),
            &[("accounts_in_app", n as i64)],
            keeper_keys.clone(),
            true,
        );
    }
}

fn summaries(
    input: &ReconcileInput<'_>,
    corr: &Correlations,
    keys: &Keys<'_>,
    units: &[Unit],
    ctx: &Ctx<'_>,
    findings: &[Finding],
) -> Vec<AppSummary> {
    const STATUSES: [AccountStatus; 5] = [
        AccountStatus::Missing,
        AccountStatus::Deleted,
        AccountStatus::Inactive,
        AccountStatus::Pending,
        AccountStatus::Active,
    ];
    const SITUATIONS: [Situation; 5] = [
        Situation::Linked,
        Situation::Unlinked,
        Situation::Unmatched,
        Situation::Disputed,
        Situation::Deleted,
    ];
    #[derive(Default)]
    struct Counts {
        accounts: usize,
        identities: usize,
        by_status: [usize; 5],
        by_situation: [usize; 5],
        seats_used: usize,
        wasted_seats: usize,
        tenants: BTreeSet<u32>,
    }
    // Counted by interned app id: no string work per account.
    let mut counts: HashMap<u32, Counts> = HashMap::new();
    for ((a, c), m) in input.accounts.iter().zip(&corr.accounts).zip(&keys.meta) {
        let x = counts.entry(m[0]).or_default();
        x.accounts += 1;
        x.by_status[usize::from(liveness(a.status))] += 1;
        x.by_situation[SITUATIONS
            .iter()
            .position(|s| *s == c.situation)
            .unwrap_or(0)] += 1;
        x.tenants.insert(m[1]);
    }
    for (ui, u) in units.iter().enumerate() {
        let x = counts.entry(keys.meta[u.primary()][0]).or_default();
        x.identities += 1;
        let live = matches!(
            ctx.unit_status(u),
            AccountStatus::Active | AccountStatus::Pending
        );
        if live && ctx.seat(u) {
            x.seats_used += 1;
            if ctx.wasted[ui] {
                x.wasted_seats += 1;
            }
        }
    }
    let mut apps: BTreeMap<&str, AppSummary> = BTreeMap::new();
    let mut tenants: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (app, x) in counts {
        let name = keys.strings.names[app as usize];
        tenants
            .entry(name)
            .or_default()
            .extend(x.tenants.iter().map(|&t| keys.strings.names[t as usize]));
        let s = apps.entry(name).or_default();
        s.accounts = x.accounts;
        s.identities = x.identities;
        s.seats_used = x.seats_used;
        s.wasted_seats = x.wasted_seats;
        s.by_status = STATUSES
            .iter()
            .zip(x.by_status)
            .filter(|(_, n)| *n > 0)
            .map(|(st, n)| (*st, n))
            .collect();
        s.by_situation = SITUATIONS
            .iter()
            .zip(x.by_situation)
            .filter(|(_, n)| *n > 0)
            .map(|(st, n)| (*st, n))
            .collect();
    }
    for f in findings {
        let s = apps.entry(f.app.as_str()).or_default();
        s.findings += 1;
        *s.findings_by_severity.entry(f.severity).or_default() += 1;
    }
    for s in input.syncs {
        apps.entry(s.app.as_str()).or_default();
        tenants
            .entry(s.app.as_str())
            .or_default()
            .insert(s.tenant.as_str());
    }
    apps.into_iter()
        .map(|(app, mut s)| {
            s.app = app.to_string();
            s.tenants = tenants
                .get(app)
                .map(|t| t.iter().map(|x| x.to_string()).collect())
                .unwrap_or_default();
            let syncs: Vec<Option<OffsetDateTime>> = input
                .syncs
                .iter()
                .filter(|x| x.app == app)
                .map(|x| x.last_synced_at)
                .collect();
            s.last_synced_at = if syncs.is_empty() || syncs.iter().any(Option::is_none) {
                None
            } else {
                syncs.into_iter().flatten().min()
            };
            s
        })
        .collect()
}
