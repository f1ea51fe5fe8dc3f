//! Records to feed the store: accounts, roles and grants of a small Freshservice-like app.

use idgraph_core::{
    Account, AccountKey, AccountStatus, Entitlement, EntitlementKey, Grant, Record,
};
use idgraph_store::{GrantPolicy, PageCommit, RunId};
use serde_json::{json, Map};
use time::macros::datetime;
use time::OffsetDateTime;

pub const APP: &str = "freshservice";
pub const TENANT: &str = "acme.freshservice.com";

pub fn t(hour: u8) -> OffsetDateTime {
    datetime!(2024-03-01 00:00 UTC) + time::Duration::hours(hour as i64)
}

pub fn key(id: u32) -> AccountKey {
    AccountKey {
        app: APP.into(),
        tenant: TENANT.into(),
        namespace: "agent".into(),
        native_id: id.to_string(),
    }
}

pub fn agent(id: u32, status: AccountStatus) -> Account {
    Account {
        key: key(id),
        emails: vec![format!("Agent{id}@Acme.Example")],
        display_name: Some(format!("Agent {id}")),
        status,
        seat_consuming: true,
        attributes: Map::new(),
        created_at: Some(datetime!(2023-01-01 00:00:00.123456789 UTC)),
        updated_at: Some(datetime!(2024-01-01 00:00 UTC)),
        last_login_at: None,
        raw: json!({"id": id, "email": format!("Agent{id}@Acme.Example"), "active": status == AccountStatus::Active}),
    }
}

pub fn role_key(id: u32) -> EntitlementKey {
    EntitlementKey {
        app: APP.into(),
        tenant: TENANT.into(),
        kind: "role".into(),
        native_id: id.to_string(),
    }
}

pub fn role(id: u32, name: &str) -> Entitlement {
    Entitlement {
        key: role_key(id),
        name: name.into(),
        privileged: name.contains("Admin"),
        raw: json!({"id": id, "name": name}),
    }
}

pub fn grant(account: u32, role: u32) -> Grant {
    Grant {
        account: key(account),
        entitlement: role_key(role),
        attributes: Map::new(),
    }
}

pub fn page(
    run_id: RunId,
    resource: &str,
    grants: GrantPolicy,
    records: Vec<Record>,
    next: Option<serde_json::Value>,
    at: OffsetDateTime,
) -> PageCommit {
    PageCommit {
        run_id,
        resource: resource.into(),
        grants,
        records,
        next,
        requests: 1,
        at,
    }
}

pub fn with_accounts() -> GrantPolicy {
    GrantPolicy::WithAccounts {
        resources: vec!["agents".into()],
    }
}

pub fn acc(a: Account) -> Record {
    Record::Account(a)
}
