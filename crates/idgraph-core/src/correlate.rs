//! Correlation: linking each account to a person of the roster, and the situation that results.
//!
//! Rules, strongest first (the first rule that finds anybody decides):
//! 1. a person's decision recorded with `idgraph correlate` (accept a link, reject a candidate,
//!    mark as a service account) — decisions persist across syncs;
//! 2. `email`: an account email equal to a person's primary email (trimmed);
//! 3. `alternate_email`: equal to one of a person's alternate emails;
//! 4. `normalised`: equal after the configured [`Normalisation`] (letter case, `+tag`
//!    plus-addressing, domain aliases), against primary and alternate emails.
//!
//! Within a rule the account's primary email is tried before its other emails. One person
//! found → a link (`linked`); several → `disputed`. Only when no email rule finds anybody is
//! the weak rule tried: 5. `name`: the account's display name equals a person's `first last`
//! and the account's email is in a company domain. Name matches are proposals, never links:
//! `unlinked` (one candidate) or `disputed` (several). Accounts that match nobody are
//! `unmatched`; accounts the vendor deleted (or that are `missing`) are `deleted` whatever
//! they matched. Disputed and weakly matched accounts become [`CorrelationCase`]s.
//!
//! Everything here is indexed (hash maps keyed by email and name), so correlating A accounts
//! against P people is O(A + P).

use crate::account::{Account, AccountKey, AccountStatus};
use crate::person::Roster;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use time::OffsetDateTime;

/// How account emails are normalised for the `normalised` rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Normalisation {
    /// Compare the local part without regard to letter case (the domain always is).
    pub case_insensitive: bool,
    /// Drop a `+tag` from the local part (`ana+helpscout@acme.example`).
    pub plus_addressing: bool,
    /// Alias domain → canonical domain (`acme.io` → `acme.example`).
    pub domain_aliases: BTreeMap<String, String>,
}

impl Default for Normalisation {
    fn default() -> Self {
        Normalisation {
            case_insensitive: true,
            plus_addressing: true,
            domain_aliases: BTreeMap::new(),
        }
    }
}

impl Normalisation {
    /// The canonical domain of `domain` (lower-cased, aliases followed once).
    pub fn domain(&self, domain: &str) -> String {
        let d = domain.trim().to_ascii_lowercase();
        match self.domain_aliases.get(&d) {
            Some(canon) => canon.trim().to_ascii_lowercase(),
            None => d,
        }
    }

    /// The normalised form of `email`.
    pub fn normalise(&self, email: &str) -> String {
        let email = email.trim();
        let Some((local, domain)) = email.rsplit_once('@') else {
            return if self.case_insensitive {
                email.to_lowercase()
            } else {
                email.to_string()
            };
        };
        let local = if self.plus_addressing {
            local.split_once('+').map_or(local, |(base, _)| base)
        } else {
            local
        };
        let local = if self.case_insensitive {
            local.to_lowercase()
        } else {
            local.to_string()
        };
        format!("{local}@{}", self.domain(domain))
    }
}

/// What correlation is configured with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorrelationConfig {
    pub normalisation: Normalisation,
    /// The company's email domains (for name proposals). Empty: the domains of the roster's
    /// primary emails.
    pub company_domains: Vec<String>,
    /// Propose owners by display name within the company domains (never links). Default on.
    pub name_proposals: bool,
}

impl Default for CorrelationConfig {
    fn default() -> Self {
        CorrelationConfig {
            normalisation: Normalisation::default(),
            company_domains: Vec::new(),
            name_proposals: true,
        }
    }
}

/// The rule that found a person, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchRule {
    /// A person's decision (`idgraph correlate`).
    Manual,
    Email,
    AlternateEmail,
    Normalised,
    /// Display name within a company domain: a proposal only.
    Name,
}

impl MatchRule {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchRule::Manual => "manual",
            MatchRule::Email => "email",
            MatchRule::AlternateEmail => "alternate_email",
            MatchRule::Normalised => "normalised",
            MatchRule::Name => "name",
        }
    }

    /// Whether a match by this rule links the account automatically.
    pub fn links(self) -> bool {
        self != MatchRule::Name
    }
}

/// An account's situation (the identity-governance vocabulary).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Situation {
    /// Linked to one person (by a rule or a decision).
    Linked,
    /// One candidate owner, not linked (a weak match waiting for a decision).
    Unlinked,
    /// Nobody matches.
    Unmatched,
    /// Several candidate owners.
    Disputed,
    /// Deleted by the vendor or no longer listed.
    Deleted,
}

impl Situation {
    pub fn as_str(self) -> &'static str {
        match self {
            Situation::Linked => "linked",
            Situation::Unlinked => "unlinked",
            Situation::Unmatched => "unmatched",
            Situation::Disputed => "disputed",
            Situation::Deleted => "deleted",
        }
    }
}

/// What kind of user an account is for, which decides the rules that apply to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountClass {
    /// An employee's working access (agents, users, members, invitations).
    Staff,
    /// Self-service access every employee may have (Freshservice requesters): owned, closed
    /// on leaving, but not expected to be used or to have a known owner.
    SelfService,
    /// Customers (Freshdesk contacts): not employees; never a problem of the review.
    Customer,
}

/// The class of an account by its app and namespace.
pub fn account_class(key: &AccountKey) -> AccountClass {
    match (key.app.as_str(), key.namespace.as_str()) {
        ("freshdesk", "contact") => AccountClass::Customer,
        ("freshservice", "requester") => AccountClass::SelfService,
        _ => AccountClass::Staff,
    }
}

/// A possible owner of an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// Index into [`Roster::people`].
    pub person: usize,
    pub rule: MatchRule,
    /// The account email (or display name, for `name`) that matched.
    pub matched: String,
}

/// The outcome of correlation for one account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountCorrelation {
    pub situation: Situation,
    /// Index into [`Roster::people`] of the linked person (also kept for `deleted` accounts
    /// that matched).
    pub owner: Option<usize>,
    /// The rule that linked the owner.
    pub rule: Option<MatchRule>,
    /// Candidates of a `disputed` or `unlinked` account.
    pub candidates: Vec<Candidate>,
    /// A person marked the account as a service account (no human owner expected).
    pub service_account: bool,
}

/// What a person decided about an account with `idgraph correlate`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// The account belongs to this person.
    Link { employee_id: String },
    /// The account does not belong to this person (removes the candidate from every rule).
    Reject { employee_id: String },
    /// The account is a service account: no human owner.
    ServiceAccount,
}

/// A recorded decision. Decisions are applied in `decided_at` order (then input order): a
/// later link or service-account verdict replaces an earlier one; a reject undoes a link to
/// the same person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub account: AccountKey,
    #[serde(flatten)]
    pub verdict: Verdict,
    pub decided_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub decided_at: OffsetDateTime,
    #[serde(default)]
    pub note: Option<String>,
}

/// Why an account needs a person's decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseReason {
    /// Several people match by the same rule.
    Disputed,
    /// Only a weak (name) match.
    WeakMatch,
}

/// A candidate as a case shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseCandidate {
    pub employee_id: String,
    pub name: String,
    pub email: String,
    pub rule: MatchRule,
    pub matched: String,
}

/// An account a person has to resolve with `idgraph correlate`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrelationCase {
    pub account: AccountKey,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub status: AccountStatus,
    pub situation: Situation,
    pub reason: CaseReason,
    pub candidates: Vec<CaseCandidate>,
}

/// Correlation of a list of accounts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correlations {
    /// One per input account, in input order.
    pub accounts: Vec<AccountCorrelation>,
    /// Disputed and weakly matched accounts (customers and deleted accounts left out), in
    /// input order.
    pub cases: Vec<CorrelationCase>,
    /// Decisions naming a person who is no longer in the roster (ignored).
    pub stale_decisions: Vec<Decision>,
}

enum Resolution {
    Link(usize),
    Service,
}

/// The roster indexed for correlation.
struct PersonIndex<'r> {
    exact: HashMap<&'r str, Vec<u32>>,
    alternate: HashMap<&'r str, Vec<u32>>,
    normalised: HashMap<String, Vec<u32>>,
    names: HashMap<String, Vec<u32>>,
    company_domains: HashSet<String>,
}

fn push_unique(v: &mut Vec<u32>, i: u32) {
    if !v.contains(&i) {
        v.push(i);
    }
}

/// `first last` lower-cased with single spaces, letters and digits only.
pub fn name_key(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for word in name
        .split(|c: char| c.is_whitespace() || c == ',' || c == '.')
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

impl<'r> PersonIndex<'r> {
    fn new(roster: &'r Roster, cfg: &CorrelationConfig) -> Self {
        let n = roster.len();
        let mut idx = PersonIndex {
            exact: HashMap::with_capacity(n),
            alternate: HashMap::new(),
            normalised: HashMap::with_capacity(n * 2),
            names: HashMap::with_capacity(n),
            company_domains: HashSet::new(),
        };
        let norm = &cfg.normalisation;
        for (i, p) in roster.people().iter().enumerate() {
            let i = i as u32;
            idx.exact.entry(p.email.trim()).or_default().push(i);
            push_unique(
                idx.normalised.entry(norm.normalise(&p.email)).or_default(),
                i,
            );
            for a in &p.alternate_emails {
                push_unique(idx.alternate.entry(a.trim()).or_default(), i);
                push_unique(idx.normalised.entry(norm.normalise(a)).or_default(), i);
            }
            let key = name_key(&format!("{} {}", p.first_name, p.last_name));
            if !key.is_empty() {
                idx.names.entry(key).or_default().push(i);
            }
            if cfg.company_domains.is_empty() {
                if let Some((_, d)) = p.email.rsplit_once('@') {
                    idx.company_domains.insert(norm.domain(d));
                }
            }
        }
        for d in &cfg.company_domains {
            idx.company_domains.insert(norm.domain(d));
        }
        idx
    }
}

/// Correlates `accounts` with `roster`, applying `decisions`.
pub fn correlate(
    roster: &Roster,
    accounts: &[Account],
    decisions: &[Decision],
    cfg: &CorrelationConfig,
) -> Correlations {
    let index = PersonIndex::new(roster, cfg);
    let norm = &cfg.normalisation;

    // Decisions, in time order, folded per account.
    let mut order: Vec<&Decision> = decisions.iter().collect();
    order.sort_by_key(|d| d.decided_at);
    let mut resolutions: HashMap<&AccountKey, Resolution> = HashMap::new();
    let mut rejected: HashMap<&AccountKey, HashSet<usize>> = HashMap::new();
    let mut stale_decisions = Vec::new();
    for d in order {
        let person = |id: &str| roster.index_of(id);
        match &d.verdict {
            Verdict::Link { employee_id } => match person(employee_id) {
                Some(p) => {
                    resolutions.insert(&d.account, Resolution::Link(p));
                    if let Some(r) = rejected.get_mut(&d.account) {
                        r.remove(&p);
                    }
                }
                None => stale_decisions.push(d.clone()),
            },
            Verdict::Reject { employee_id } => match person(employee_id) {
                Some(p) => {
                    rejected.entry(&d.account).or_default().insert(p);
                    if matches!(resolutions.get(&d.account), Some(Resolution::Link(q)) if *q == p) {
                        resolutions.remove(&d.account);
                    }
                }
                None => stale_decisions.push(d.clone()),
            },
            Verdict::ServiceAccount => {
                resolutions.insert(&d.account, Resolution::Service);
            }
        }
    }

    let no_reject = HashSet::new();
    // Most accounts have no decision: test the native id before hashing the whole key.
    let decided: HashSet<&str> = decisions
        .iter()
        .map(|d| d.account.native_id.as_str())
        .collect();
    let mut out = Vec::with_capacity(accounts.len());
    let mut cases = Vec::new();
    for a in accounts {
        let deleted = matches!(a.status, AccountStatus::Deleted | AccountStatus::Missing);
        let has_decision = !decided.is_empty() && decided.contains(a.key.native_id.as_str());
        let resolution = if has_decision {
            resolutions.get(&a.key)
        } else {
            None
        };
        let mut c = match resolution {
            Some(Resolution::Link(p)) => AccountCorrelation {
                situation: Situation::Linked,
                owner: Some(*p),
                rule: Some(MatchRule::Manual),
                candidates: Vec::new(),
                service_account: false,
            },
            Some(Resolution::Service) => AccountCorrelation {
                situation: Situation::Unmatched,
                owner: None,
                rule: None,
                candidates: Vec::new(),
                service_account: true,
            },
            None => {
                let rejected = if has_decision {
                    rejected.get(&a.key).unwrap_or(&no_reject)
                } else {
                    &no_reject
                };
                by_rules(a, &index, norm, rejected, cfg.name_proposals)
            }
        };
        if deleted {
            c.situation = Situation::Deleted;
        }
        if !deleted
            && !c.service_account
            && matches!(c.situation, Situation::Disputed | Situation::Unlinked)
            && account_class(&a.key) != AccountClass::Customer
        {
            cases.push(case_of(a, &c, roster));
        }
        out.push(c);
    }
    Correlations {
        accounts: out,
        cases,
        stale_decisions,
    }
}

fn by_rules(
    a: &Account,
    index: &PersonIndex<'_>,
    norm: &Normalisation,
    rejected: &HashSet<usize>,
    name_proposals: bool,
) -> AccountCorrelation {
    let emails = || a.emails.iter().map(|e| e.trim()).filter(|e| !e.is_empty());
    let keep = |v: &Vec<u32>| -> Vec<usize> {
        v.iter()
            .map(|&i| i as usize)
            .filter(|i| !rejected.contains(i))
            .collect()
    };
    for rule in [
        MatchRule::Email,
        MatchRule::AlternateEmail,
        MatchRule::Normalised,
    ] {
        for e in emails() {
            let hit = match rule {
                MatchRule::Email => index.exact.get(e),
                MatchRule::AlternateEmail => index.alternate.get(e),
                _ => index.normalised.get(norm.normalise(e).as_str()),
            };
            let Some(hit) = hit else { continue };
            // The common case, one person and no rejects, without allocating.
            if let [one] = hit.as_slice() {
                if !rejected.contains(&(*one as usize)) {
                    return AccountCorrelation {
                        situation: Situation::Linked,
                        owner: Some(*one as usize),
                        rule: Some(rule),
                        candidates: Vec::new(),
                        service_account: false,
                    };
                }
            }
            let found = keep(hit);
            match found.as_slice() {
                [] => continue,
                [one] => {
                    return AccountCorrelation {
                        situation: Situation::Linked,
                        owner: Some(*one),
                        rule: Some(rule),
                        candidates: Vec::new(),
                        service_account: false,
                    }
                }
                _ => {
                    return AccountCorrelation {
                        situation: Situation::Disputed,
                        owner: None,
                        rule: None,
                        candidates: found
                            .into_iter()
                            .map(|person| Candidate {
                                person,
                                rule,
                                matched: e.to_string(),
                            })
                            .collect(),
                        service_account: false,
                    }
                }
            }
        }
    }
    let unmatched = AccountCorrelation {
        situation: Situation::Unmatched,
        owner: None,
        rule: None,
        candidates: Vec::new(),
        service_account: false,
    };
    if !name_proposals {
        return unmatched;
    }
    let in_company = emails().next().is_some_and(|e| {
        e.rsplit_once('@')
            .is_some_and(|(_, d)| index.company_domains.contains(&norm.domain(d)))
    });
    let Some(name) = a.display_name.as_deref().filter(|_| in_company) else {
        return unmatched;
    };
    let key = name_key(name);
    let found = index.names.get(key.as_str()).map(keep).unwrap_or_default();
    if found.is_empty() {
        return unmatched;
    }
    AccountCorrelation {
        situation: if found.len() == 1 {
            Situation::Unlinked
        } else {
            Situation::Disputed
        },
        owner: None,
        rule: None,
        candidates: found
            .into_iter()
            .map(|person| Candidate {
                person,
                rule: MatchRule::Name,
                matched: name.to_string(),
            })
            .collect(),
        service_account: false,
    }
}

fn case_of(a: &Account, c: &AccountCorrelation, roster: &Roster) -> CorrelationCase {
    let weak = c.candidates.iter().all(|x| x.rule == MatchRule::Name);
    CorrelationCase {
        account: a.key.clone(),
        email: a.primary_email().map(str::to_string),
        display_name: a.display_name.clone(),
        status: a.status,
        situation: c.situation,
        reason: if weak && c.situation == Situation::Unlinked {
            CaseReason::WeakMatch
        } else {
            CaseReason::Disputed
        },
        candidates: c
            .candidates
            .iter()
            .map(|x| {
                let p = &roster.people()[x.person];
                CaseCandidate {
                    employee_id: p.employee_id.clone(),
                    name: p.display_name(),
                    email: p.email.clone(),
                    rule: x.rule,
                    matched: x.matched.clone(),
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::person::{HrStatus, Person};
    use time::macros::datetime;

    fn person(id: &str, first: &str, last: &str, email: &str, alts: &[&str]) -> Person {
        Person {
            employee_id: id.into(),
            email: email.into(),
            alternate_emails: alts.iter().map(|s| s.to_string()).collect(),
            first_name: first.into(),
            last_name: last.into(),
            department: None,
            title: None,
            manager_id: None,
            status: HrStatus::Active,
            hire_date: None,
            status_date: None,
        }
    }

    fn roster() -> Roster {
        Roster::new(
            "t",
            vec![
                person(
                    "E1",
                    "Ana",
                    "Lee",
                    "ana.lee@acme.example",
                    &["a.lee@acme.example"],
                ),
                person("E2", "Bo", "Chen", "bo.chen@acme.example", &[]),
                person("E3", "Bo", "Chen", "bo.chen2@acme.example", &[]),
                person("E4", "Cy", "Ng", "cy@acme.example", &["cy@acme.io"]),
            ],
        )
        .unwrap()
    }

    pub(crate) fn account(ns: &str, id: &str, email: &str, name: &str) -> Account {
        Account {
            key: AccountKey {
                app: "helpscout".into(),
                tenant: "t".into(),
                namespace: ns.into(),
                native_id: id.into(),
            },
            emails: vec![email.into()],
            display_name: Some(name.into()),
            status: AccountStatus::Active,
            seat_consuming: true,
            attributes: Default::default(),
            created_at: None,
            updated_at: None,
            last_login_at: None,
            raw: serde_json::Value::Null,
        }
    }

    fn one(r: &Roster, a: Account, decisions: &[Decision]) -> (AccountCorrelation, Correlations) {
        let c = correlate(r, &[a], decisions, &CorrelationConfig::default());
        (c.accounts[0].clone(), c)
    }

    #[test]
    fn normalisation_folds_case_plus_and_domain_aliases() {
        let mut n = Normalisation::default();
        n.domain_aliases
            .insert("acme.io".into(), "acme.example".into());
        assert_eq!(
            n.normalise(" Ana.Lee+helpscout@ACME.io "),
            "ana.lee@acme.example"
        );
        let strict = Normalisation {
            case_insensitive: false,
            plus_addressing: false,
            domain_aliases: BTreeMap::new(),
        };
        assert_eq!(strict.normalise("Ana+x@ACME.example"), "Ana+x@acme.example");
    }

    #[test]
    fn rules_link_strongest_first() {
        let r = roster();
        let (c, _) = one(&r, account("user", "1", "ana.lee@acme.example", "x"), &[]);
        assert_eq!(
            (c.situation, c.owner, c.rule),
            (Situation::Linked, Some(0), Some(MatchRule::Email))
        );
        let (c, _) = one(&r, account("user", "1", "a.lee@acme.example", "x"), &[]);
        assert_eq!(c.rule, Some(MatchRule::AlternateEmail));
        let (c, _) = one(
            &r,
            account("user", "1", "Ana.Lee+hs@Acme.Example", "x"),
            &[],
        );
        assert_eq!((c.owner, c.rule), (Some(0), Some(MatchRule::Normalised)));
        // `cy@acme.io` is E4's alternate: an alternate match, no alias needed.
        let (c, _) = one(&r, account("user", "1", "cy@acme.io", "x"), &[]);
        assert_eq!(
            (c.owner, c.rule),
            (Some(3), Some(MatchRule::AlternateEmail))
        );
    }

    #[test]
    fn name_matches_are_proposals_and_outside_the_company_nothing() {
        let r = roster();
        let (c, corr) = one(
            &r,
            account("user", "1", "ana@acme.example", "Ana  Lee"),
            &[],
        );
        assert_eq!(c.situation, Situation::Unlinked);
        assert_eq!(c.owner, None);
        assert_eq!(corr.cases.len(), 1);
        assert_eq!(corr.cases[0].reason, CaseReason::WeakMatch);
        assert_eq!(corr.cases[0].candidates[0].employee_id, "E1");
        let (c, corr) = one(&r, account("user", "1", "bo@acme.example", "bo chen"), &[]);
        assert_eq!(c.situation, Situation::Disputed);
        assert_eq!(c.candidates.len(), 2);
        assert_eq!(corr.cases[0].reason, CaseReason::Disputed);
        let (c, corr) = one(
            &r,
            account("user", "1", "ana@gmail.example", "Ana Lee"),
            &[],
        );
        assert_eq!(c.situation, Situation::Unmatched);
        assert!(corr.cases.is_empty());
    }

    #[test]
    fn plus_addressing_can_dispute_and_decisions_resolve_it() {
        let r = Roster::new(
            "t",
            vec![
                person("E1", "A", "B", "sam@acme.example", &[]),
                person("E2", "C", "D", "sam+old@acme.example", &[]),
            ],
        )
        .unwrap();
        let a = account("user", "9", "Sam+hs@acme.example", "Sam");
        let (c, corr) = one(&r, a.clone(), &[]);
        assert_eq!(c.situation, Situation::Disputed);
        assert_eq!(corr.cases.len(), 1);
        let at = datetime!(2026-01-01 00:00 UTC);
        let reject = Decision {
            account: a.key.clone(),
            verdict: Verdict::Reject {
                employee_id: "E2".into(),
            },
            decided_by: "it".into(),
            decided_at: at,
            note: None,
        };
        let (c, corr) = one(&r, a.clone(), std::slice::from_ref(&reject));
        assert_eq!((c.situation, c.owner), (Situation::Linked, Some(0)));
        assert!(corr.cases.is_empty());
        // A later link to E2 wins over the earlier reject.
        let link = Decision {
            verdict: Verdict::Link {
                employee_id: "E2".into(),
            },
            decided_at: at + time::Duration::hours(1),
            ..reject.clone()
        };
        let (c, _) = one(&r, a.clone(), &[link.clone(), reject.clone()]);
        assert_eq!((c.owner, c.rule), (Some(1), Some(MatchRule::Manual)));
        // A link to someone who left the roster is stale and ignored.
        let stale = Decision {
            verdict: Verdict::Link {
                employee_id: "E9".into(),
            },
            ..link
        };
        let (c, corr) = one(&r, a, &[stale]);
        assert_eq!(c.situation, Situation::Disputed);
        assert_eq!(corr.stale_decisions.len(), 1);
    }

    #[test]
    fn service_accounts_and_deleted_accounts() {
        let r = roster();
        let a = account("user", "5", "bot@acme.example", "Bot");
        let d = Decision {
            account: a.key.clone(),
            verdict: Verdict::ServiceAccount,
            decided_by: "it".into(),
            decided_at: datetime!(2026-01-01 00:00 UTC),
            note: Some("automation".into()),
        };
        let (c, _) = one(&r, a, &[d]);
        assert!(c.service_account);
        assert_eq!(c.situation, Situation::Unmatched);
        let mut gone = account("user", "6", "ana.lee@acme.example", "Ana Lee");
        gone.status = AccountStatus::Missing;
        let (c, corr) = one(&r, gone, &[]);
        assert_eq!((c.situation, c.owner), (Situation::Deleted, Some(0)));
        assert!(corr.cases.is_empty());
    }

    #[test]
    fn decision_json_is_flat() {
        let d = Decision {
            account: account("user", "5", "x@acme.example", "X").key,
            verdict: Verdict::Link {
                employee_id: "E1".into(),
            },
            decided_by: "it".into(),
            decided_at: datetime!(2026-01-01 00:00 UTC),
            note: None,
        };
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["verdict"], "link");
        assert_eq!(v["employee_id"], "E1");
        let back: Decision = serde_json::from_value(v).unwrap();
        assert_eq!(back, d);
    }
}
