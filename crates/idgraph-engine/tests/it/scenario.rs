//! A small app in two versions, the second with every kind of change the engine must notice:
//! a deactivation (the agent moves to the deactivated listing), a rename, a role change, an
//! agent deleted outright (vanishes), a new agent, a reactivation, a role deleted, team
//! memberships added and removed, a requester vanished and one new.

use crate::fake::FakeResource;
use idgraph_connectors::{GrantScope, ResourceSpec};
use idgraph_core::{
    Account, AccountKey, AccountStatus, Entitlement, EntitlementKey, Grant, Record,
};
use serde_json::{json, Map};
use time::macros::datetime;
use time::OffsetDateTime;

pub const TENANT: &str = "acme.example.com";
/// When version 1's records were last updated, and when version 2's changes were made.
pub const V1_UPDATED: OffsetDateTime = datetime!(2024-02-01 00:00 UTC);
pub const V2_UPDATED: OffsetDateTime = datetime!(2024-03-02 09:00 UTC);
/// When the runs of the stories start.
pub const T1: OffsetDateTime = datetime!(2024-03-01 10:00 UTC);
pub const T2: OffsetDateTime = datetime!(2024-03-02 10:00 UTC);
pub const T3: OffsetDateTime = datetime!(2024-03-03 10:00 UTC);

pub fn akey(app: &str, ns: &str, id: u32) -> AccountKey {
    AccountKey {
        app: app.into(),
        tenant: TENANT.into(),
        namespace: ns.into(),
        native_id: id.to_string(),
    }
}

pub fn ekey(app: &str, kind: &str, id: u32) -> EntitlementKey {
    EntitlementKey {
        app: app.into(),
        tenant: TENANT.into(),
        kind: kind.into(),
        native_id: id.to_string(),
    }
}

fn account(
    app: &str,
    ns: &str,
    id: u32,
    status: AccountStatus,
    name: &str,
    updated: OffsetDateTime,
) -> Record {
    Record::Account(Account {
        key: akey(app, ns, id),
        emails: vec![format!("{ns}{id}@Acme.Example")],
        display_name: Some(name.to_string()),
        status,
        seat_consuming: ns == "agent",
        attributes: Map::new(),
        created_at: Some(datetime!(2023-01-01 00:00 UTC)),
        updated_at: Some(updated),
        last_login_at: None,
        raw: json!({"id": id, "name": name, "active": status == AccountStatus::Active}),
    })
}

fn entitlement(app: &str, kind: &str, id: u32, name: &str) -> Record {
    Record::Entitlement(Entitlement {
        key: ekey(app, kind, id),
        name: name.into(),
        privileged: name.contains("Admin"),
        raw: json!({"id": id, "name": name}),
    })
}

fn grant(app: &str, agent: u32, kind: &str, ent: u32) -> Record {
    Record::Grant(Grant {
        account: akey(app, "agent", agent),
        entitlement: ekey(app, kind, ent),
        attributes: Map::new(),
    })
}

/// One agent as a version lists it: (id, active, name, role, updated).
type Agent = (u32, bool, String, u32, OffsetDateTime);

/// The app `app` as version `v` (1 or 2) shows it.
pub fn dataset(app: &'static str, v: u8) -> Vec<FakeResource> {
    let mut agents: Vec<Agent> = (1..=10)
        .map(|i| (i, true, format!("Agent {i}"), i % 3 + 1, V1_UPDATED))
        .chain((11..=12).map(|i| (i, false, format!("Agent {i}"), 1, V1_UPDATED)))
        .collect();
    let mut roles = vec![(1, "Account Admin"), (2, "Agent"), (3, "Supervisor")];
    let mut members = vec![(1, 1), (1, 2), (2, 3), (2, 4), (2, 7)];
    let mut requesters: Vec<u32> = (1..=5).collect();
    if v == 2 {
        for a in agents.iter_mut() {
            match a.0 {
                2 => {
                    a.1 = false;
                    a.4 = V2_UPDATED;
                }
                3 => {
                    a.2 = "Agent Three".into();
                    a.4 = V2_UPDATED;
                }
                4 => {
                    a.3 = 1;
                    a.4 = V2_UPDATED;
                }
                11 => {
                    a.1 = true;
                    a.4 = V2_UPDATED;
                }
                _ => {}
            }
        }
        agents.retain(|a| a.0 != 5);
        agents.push((13, true, "Agent 13".into(), 2, V2_UPDATED));
        // Nobody holds role 3 any more (agents 2, 5 and 8 had it).
        for a in agents.iter_mut().filter(|a| a.3 == 3) {
            a.3 = 2;
            a.4 = V2_UPDATED;
        }
        roles.retain(|r| r.0 != 3);
        members.retain(|m| *m != (1, 1));
        members.push((1, 6));
        requesters.retain(|r| *r != 2);
        requesters.push(6);
    }
    let listing = |active: bool| -> Vec<Record> {
        agents
            .iter()
            .filter(|a| a.1 == active)
            .flat_map(|a| {
                let status = if a.1 {
                    AccountStatus::Active
                } else {
                    AccountStatus::Inactive
                };
                [
                    account(app, "agent", a.0, status, &a.2, a.4),
                    grant(app, a.0, "role", a.3),
                ]
            })
            .collect()
    };
    vec![
        FakeResource {
            spec: ResourceSpec::entitlements("roles", &["role"]),
            records: roles
                .iter()
                .map(|(id, name)| entitlement(app, "role", *id, name))
                .collect(),
            page_size: 2,
        },
        FakeResource {
            spec: ResourceSpec::accounts("agents", &["agent"], true)
                .with_grants(GrantScope::WithAccounts),
            records: listing(true),
            page_size: 4,
        },
        FakeResource {
            spec: ResourceSpec::accounts("agents_deactivated", &["agent"], true)
                .with_grants(GrantScope::WithAccounts),
            records: listing(false),
            page_size: 4,
        },
        FakeResource {
            spec: ResourceSpec::entitlements("teams", &["team"])
                .with_grants(GrantScope::Memberships),
            records: [
                entitlement(app, "team", 1, "Tier 1"),
                entitlement(app, "team", 2, "Tier 2"),
            ]
            .into_iter()
            .chain(
                members
                    .iter()
                    .map(|(team, agent)| grant(app, *agent, "team", *team)),
            )
            .collect(),
            page_size: 3,
        },
        FakeResource {
            spec: ResourceSpec::accounts("requesters", &["requester"], false),
            records: requesters
                .iter()
                .map(|id| {
                    account(
                        app,
                        "requester",
                        *id,
                        AccountStatus::Active,
                        &format!("Requester {id}"),
                        V1_UPDATED,
                    )
                })
                .collect(),
            page_size: 2,
        },
    ]
}
