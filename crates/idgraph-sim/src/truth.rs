//! The generated company as a connector would see it, and its ground truth as expected
//! problems, in idgraph-core's types: [`adapt`] turns each `SeedAccount` into the core
//! `Account`(s) the connector contract (docs/design/002) describes, [`expected`] turns the
//! injected drift into [`Expected`] problems for `idgraph_core::score::score`.
//!
//! `expected` only needs the `GroundTruth` and a tenant naming function, so the end-to-end
//! test through the real connectors reuses it with the simulators' tenant names; the core's
//! seeds test and the reconciliation benchmarks use [`adapt`] with [`tenant_of`].

use crate::common::App;
use crate::company::{
    AccountKind, Company, DriftKind, GroundTruth, SeedAccount, SeedStatus, TruthAccount,
};
use idgraph_core::score::Expected;
use idgraph_core::{Account, AccountKey, AccountStatus, FindingKind};
use serde_json::{json, Map, Value};

/// Tenant names used by [`adapt`]: the account domains, the FreshBooks business id, the Help
/// Scout account name.
pub fn tenant_of(app: App, scope: Option<u64>) -> String {
    match app {
        App::Freshservice => "acme.freshservice.com".into(),
        App::Freshdesk => "acme.freshdesk.com".into(),
        App::Freshsales => "acme.myfreshworks.com".into(),
        App::Freshbooks => scope.map(|s| s.to_string()).unwrap_or_default(),
        App::Helpscout => "api.helpscout.net".into(),
    }
}

/// The finding kinds that report a drift kind.
pub fn finding_kinds(kind: DriftKind) -> Vec<FindingKind> {
    match kind {
        DriftKind::LeaverActive => vec![FindingKind::OrphanAccount],
        DriftKind::PendingInvitation | DriftKind::UnconfirmedAgent => {
            vec![FindingKind::StalePending]
        }
        DriftKind::TerminatedPending => vec![FindingKind::TerminatedPending],
        DriftKind::DuplicateAccount => vec![FindingKind::DuplicateAccount],
        DriftKind::AgentAlsoRequester => vec![FindingKind::AgentAlsoRequester],
        DriftKind::FreshsalesRestOnly | DriftKind::FreshsalesScimOnly => {
            vec![FindingKind::OneNamespace]
        }
        DriftKind::Unowned => vec![FindingKind::NoOwner],
        DriftKind::DormantSeat => vec![FindingKind::DormantAccount],
    }
}

fn key(app: App, tenant: String, namespace: &str, native_id: String) -> AccountKey {
    AccountKey {
        app: app.as_str().to_string(),
        tenant,
        namespace: namespace.to_string(),
        native_id,
    }
}

/// Every key a connector may give the account (a Freshsales user: its REST and SCIM ids).
pub fn keys_of(
    app: App,
    kind: AccountKind,
    native_id: u64,
    scim_id: Option<&str>,
    scope: Option<u64>,
    tenant_of: &dyn Fn(App, Option<u64>) -> String,
) -> Vec<AccountKey> {
    let t = tenant_of(app, scope);
    let id = native_id.to_string();
    match (app, kind) {
        (App::Freshsales, _) => {
            let mut v = vec![key(app, t.clone(), "user", id)];
            if let Some(s) = scim_id {
                v.push(key(app, t, "scim_user", s.to_string()));
            }
            v
        }
        (_, AccountKind::Agent) => vec![key(app, t, "agent", id)],
        (_, AccountKind::Requester) => vec![key(app, t, "requester", id)],
        (_, AccountKind::Contact) => vec![key(app, t, "contact", id)],
        (_, AccountKind::Member) => vec![key(app, t, "member", id)],
        (_, AccountKind::Invitation) => vec![key(app, t, "invitation", id)],
        (_, AccountKind::User) => vec![key(app, t, "user", id)],
    }
}

/// The ground truth's drift as expected problems.
pub fn expected(
    truth: &GroundTruth,
    tenant_of: &dyn Fn(App, Option<u64>) -> String,
) -> Vec<Expected> {
    let by_id: std::collections::HashMap<(App, AccountKind, u64), &TruthAccount> = truth
        .accounts
        .iter()
        .map(|a| ((a.app, a.kind, a.native_id), a))
        .collect();
    truth
        .drifts
        .iter()
        .map(|d| {
            let t = by_id.get(&(d.app, d.account_kind, d.native_id));
            Expected {
                label: format!(
                    "{:?} {} {:?} {} ({})",
                    d.kind, d.app, d.account_kind, d.native_id, d.detail
                ),
                kinds: finding_kinds(d.kind),
                accounts: keys_of(
                    d.app,
                    d.account_kind,
                    d.native_id,
                    t.and_then(|t| t.scim_id.as_deref()),
                    t.and_then(|t| t.scope),
                    tenant_of,
                ),
            }
        })
        .collect()
}

fn status(s: SeedStatus) -> AccountStatus {
    match s {
        SeedStatus::Active => AccountStatus::Active,
        SeedStatus::Inactive => AccountStatus::Inactive,
        SeedStatus::Pending => AccountStatus::Pending,
        SeedStatus::Deleted => AccountStatus::Deleted,
    }
}

fn base(s: &SeedAccount, k: AccountKey, st: AccountStatus, seat: bool) -> Account {
    let mut attributes = Map::new();
    if let Some(r) = s.roles.first() {
        attributes.insert("role".into(), json!(r));
    }
    if let Some(t) = &s.job_title {
        attributes.insert("job_title".into(), json!(t));
    }
    if let Some(d) = &s.department {
        attributes.insert("department".into(), json!(d));
    }
    Account {
        key: k,
        emails: vec![s.email.clone()],
        display_name: Some(format!("{} {}", s.first_name, s.last_name)),
        status: st,
        seat_consuming: seat,
        attributes,
        created_at: Some(s.created_at),
        updated_at: Some(s.updated_at),
        last_login_at: None,
        raw: Value::Null,
    }
}

/// The records a connector would produce for one seeded account (none when the vendor's API
/// does not show it).
pub fn accounts_of(s: &SeedAccount) -> Vec<Account> {
    let keys = keys_of(
        s.app,
        s.kind,
        s.native_id,
        s.scim_id.as_deref(),
        s.scope,
        &tenant_of,
    );
    let st = status(s.status);
    match (s.app, s.kind) {
        (App::Freshservice, kind) => {
            // Freshservice has no pending state: seeded pending users render active.
            let st = match s.status {
                SeedStatus::Active | SeedStatus::Pending => AccountStatus::Active,
                _ => AccountStatus::Inactive,
            };
            let agent = kind == AccountKind::Agent;
            let mut a = base(s, keys[0].clone(), st, agent && !s.occasional);
            a.last_login_at = s.last_login_at;
            if agent {
                a.attributes
                    .insert("occasional".into(), json!(s.occasional));
            }
            vec![a]
        }
        (App::Freshdesk, AccountKind::Contact) => {
            let mut a = base(s, keys[0].clone(), st, false);
            a.display_name = Some(format!("{} {}", s.first_name, s.last_name));
            vec![a]
        }
        (App::Freshdesk, _) => {
            let st = match s.status {
                SeedStatus::Deleted => AccountStatus::Inactive,
                _ => st,
            };
            let mut a = base(s, keys[0].clone(), st, !s.occasional);
            a.last_login_at = s.last_login_at;
            a.attributes
                .insert("occasional".into(), json!(s.occasional));
            a.attributes.insert("type".into(), json!("support_agent"));
            vec![a]
        }
        (App::Freshsales, _) => {
            // REST owners list active users only; SCIM lists every state (invited = pending).
            let rest = s.namespaces.rest && s.status == SeedStatus::Active;
            let scim = s.namespaces.scim;
            let st = match s.status {
                SeedStatus::Deleted => AccountStatus::Inactive,
                _ => st,
            };
            let mut out = Vec::new();
            if rest {
                let mut a = base(s, keys[0].clone(), st, true);
                if scim {
                    a.attributes
                        .insert("scim_id".into(), json!(s.scim_id.clone()));
                }
                out.push(a);
            }
            if scim {
                if let Some(k) = keys.get(1) {
                    let mut a = base(s, k.clone(), st, true);
                    if rest {
                        a.attributes
                            .insert("crm_id".into(), json!(s.native_id.to_string()));
                    }
                    out.push(a);
                }
            }
            out
        }
        (App::Freshbooks, _) => vec![base(s, keys[0].clone(), st, true)],
        (App::Helpscout, _) => {
            // Deleted users are gone; deactivated ones are seen through SCIM as inactive.
            if s.status == SeedStatus::Deleted {
                return vec![];
            }
            let mut a = base(s, keys[0].clone(), st, true);
            a.attributes.insert("type".into(), json!("team"));
            vec![a]
        }
    }
}

/// Every account of the company, as connectors would produce them.
pub fn adapt(company: &Company) -> Vec<Account> {
    company.accounts.iter().flat_map(accounts_of).collect()
}
