//! The in-memory FreshBooks tenant: businesses, identities (FreshBooks user accounts, one per
//! email), business memberships, invitations and the OAuth grants, seeded from a
//! [`Company`], plus their JSON renderings as the vendor shows them.
//!
//! A membership ("member") ties an identity to one business with a role. Removing a member
//! from a business keeps the identity: FreshBooks user accounts live on.

use crate::clock::rfc3339;
use crate::common::App;
use crate::company::{AccountKind, Company, SeedStatus};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use time::OffsetDateTime;

/// Roles a member or invitation may be given (besides the owner, who is never invited).
pub(crate) const ASSIGNABLE_ROLES: [&str; 5] =
    ["admin", "manager", "employee", "contractor", "accountant"];

/// A FreshBooks business.
#[derive(Clone, Debug)]
pub(crate) struct BusinessRec {
    pub id: u64,
    pub uuid: String,
    pub name: String,
    pub account_id: String,
}

/// A FreshBooks user account (an "identity"), unique by email.
#[derive(Clone, Debug)]
pub(crate) struct Identity {
    pub id: u64,
    pub uuid: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub confirmed: bool,
    pub language: String,
    pub timezone: String,
    pub phone_numbers: Value,
    pub profession: Value,
    pub avatar: Value,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A business membership.
#[derive(Clone, Debug)]
pub(crate) struct Member {
    pub id: u64,
    pub uuid: String,
    pub business_id: u64,
    pub identity_id: u64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub job_title: Option<String>,
    pub role: String,
    pub active: bool,
    pub confirmed: bool,
    pub permissions: Value,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub invitation_date_accepted: Option<OffsetDateTime>,
    /// Set when the member was removed from the business (`DELETE …/members/{id}`).
    pub removed_at: Option<OffsetDateTime>,
}

/// State of an invitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InvStatus {
    Pending,
    Accepted,
    Revoked,
}

impl InvStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InvStatus::Pending => "pending",
            InvStatus::Accepted => "accepted",
            InvStatus::Revoked => "revoked",
        }
    }
}

/// An invitation to join a business.
#[derive(Clone, Debug)]
pub(crate) struct Invitation {
    pub id: u64,
    pub business_id: u64,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub role: String,
    pub status: InvStatus,
    pub invited_by: Option<u64>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub accepted_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
    /// The membership created when the invitation was accepted.
    pub member_id: Option<u64>,
}

/// An authorization code, single-use.
#[derive(Clone, Debug)]
pub(crate) struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub expires_at: OffsetDateTime,
    pub used: bool,
}

/// An access token.
#[derive(Clone, Debug)]
pub(crate) struct AccessToken {
    pub scopes: Vec<String>,
    pub expires_at: OffsetDateTime,
}

/// A refresh token: works once.
#[derive(Clone, Debug)]
pub(crate) struct RefreshToken {
    pub scopes: Vec<String>,
    pub spent: bool,
}

/// OAuth grants issued by the simulator.
#[derive(Debug, Default)]
pub(crate) struct OAuth {
    pub codes: HashMap<String, AuthCode>,
    pub access: HashMap<String, AccessToken>,
    pub refresh: HashMap<String, RefreshToken>,
    /// Counter feeding deterministic token strings.
    pub issued: u64,
}

/// The whole tenant.
#[derive(Debug)]
pub(crate) struct Tenant {
    pub businesses: BTreeMap<u64, BusinessRec>,
    pub identities: BTreeMap<u64, Identity>,
    /// Lower-cased email → identity id.
    pub identity_by_email: HashMap<String, u64>,
    pub members: BTreeMap<u64, Member>,
    pub invitations: BTreeMap<u64, Invitation>,
    /// The identity the OAuth tokens act as.
    pub owner_identity: u64,
    pub next_member_id: u64,
    pub next_invitation_id: u64,
    pub next_identity_id: u64,
    pub oauth: OAuth,
    pub seed: u64,
}

/// A deterministic UUID-shaped string.
pub(crate) fn uuid_like(seed: u64, purpose: &str) -> String {
    let h = crate::company::token_from_seed(seed, &format!("freshbooks-uuid:{purpose}"), 32);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn ts(t: OffsetDateTime) -> Value {
    Value::String(rfc3339(t))
}

fn opt_ts(t: Option<OffsetDateTime>) -> Value {
    t.map(ts).unwrap_or(Value::Null)
}

impl Tenant {
    /// Seeds the tenant from the FreshBooks accounts of `company`.
    pub fn seed(company: &Company, seed: u64, now: OffsetDateTime) -> Self {
        let accounts: Vec<_> = company.accounts_of(App::Freshbooks).collect();
        let max_native = accounts.iter().map(|a| a.native_id).max().unwrap_or(0);
        let mut t = Tenant {
            businesses: BTreeMap::new(),
            identities: BTreeMap::new(),
            identity_by_email: HashMap::new(),
            members: BTreeMap::new(),
            invitations: BTreeMap::new(),
            owner_identity: 0,
            next_member_id: 1,
            next_invitation_id: 1,
            // Identity ids live in their own range, far from member and invitation ids, so
            // that a client mixing them up is caught.
            next_identity_id: (max_native / 1_000_000 + 2) * 1_000_000 + 1,
            oauth: OAuth::default(),
            seed,
        };
        for b in &company.businesses {
            t.businesses.insert(
                b.id,
                BusinessRec {
                    id: b.id,
                    uuid: uuid_like(seed, &format!("business:{}", b.id)),
                    name: b.name.clone(),
                    account_id: b.account_id.clone(),
                },
            );
        }
        // The token owner's identity first: every membership of the owner belongs to it.
        let owner = company.freshbooks_owner.clone();
        let is_owner_member = |a: &&crate::company::SeedAccount| {
            a.kind == AccountKind::Member && owner.is_some() && a.owner == owner
        };
        if let Some(first) = accounts.iter().find(|a| is_owner_member(a)) {
            let id = t.new_identity(
                &first.email,
                &first.first_name,
                &first.last_name,
                first.created_at,
            );
            t.owner_identity = id;
        }
        for a in &accounts {
            match a.kind {
                AccountKind::Invitation => {
                    let status = match a.status {
                        SeedStatus::Pending => InvStatus::Pending,
                        SeedStatus::Active => InvStatus::Accepted,
                        SeedStatus::Inactive | SeedStatus::Deleted => InvStatus::Revoked,
                    };
                    let business_id = a.scope.unwrap_or(0);
                    t.invitations.insert(
                        a.native_id,
                        Invitation {
                            id: a.native_id,
                            business_id,
                            email: a.email.clone(),
                            first_name: Some(a.first_name.clone()),
                            last_name: Some(a.last_name.clone()),
                            role: a
                                .roles
                                .first()
                                .cloned()
                                .unwrap_or_else(|| "employee".into()),
                            status,
                            invited_by: None,
                            created_at: a.created_at,
                            updated_at: a.updated_at,
                            accepted_at: None,
                            revoked_at: (status == InvStatus::Revoked).then_some(a.updated_at),
                            member_id: None,
                        },
                    );
                    t.next_invitation_id = t.next_invitation_id.max(a.native_id + 1);
                }
                _ => {
                    let identity_id = if t.owner_identity != 0 && is_owner_member(a) {
                        t.owner_identity
                    } else {
                        t.identity_for(&a.email, &a.first_name, &a.last_name, a.created_at)
                    };
                    let removed = a.status == SeedStatus::Deleted;
                    t.members.insert(
                        a.native_id,
                        Member {
                            id: a.native_id,
                            uuid: uuid_like(seed, &format!("member:{}", a.native_id)),
                            business_id: a.scope.unwrap_or(0),
                            identity_id,
                            email: a.email.clone(),
                            first_name: a.first_name.clone(),
                            last_name: a.last_name.clone(),
                            job_title: a.job_title.clone(),
                            role: a
                                .roles
                                .first()
                                .cloned()
                                .unwrap_or_else(|| "employee".into()),
                            active: a.status == SeedStatus::Active,
                            confirmed: a.status != SeedStatus::Pending,
                            permissions: json!({}),
                            created_at: a.created_at,
                            updated_at: a.updated_at,
                            invitation_date_accepted: Some(a.created_at),
                            removed_at: removed.then_some(a.updated_at),
                        },
                    );
                    t.next_member_id = t.next_member_id.max(a.native_id + 1);
                }
            }
        }
        if t.owner_identity == 0 {
            // No owner in the company: an identity without memberships (every business
            // endpoint answers 403 for it).
            let id = t.new_identity("owner@freshbooks.invalid", "Token", "Owner", now);
            t.owner_identity = id;
        }
        t
    }

    fn new_identity(
        &mut self,
        email: &str,
        first: &str,
        last: &str,
        created: OffsetDateTime,
    ) -> u64 {
        let id = self.next_identity_id;
        self.next_identity_id += 1;
        self.identities.insert(
            id,
            Identity {
                id,
                uuid: uuid_like(self.seed, &format!("identity:{id}")),
                email: email.to_string(),
                first_name: first.to_string(),
                last_name: last.to_string(),
                confirmed: true,
                language: "en".to_string(),
                timezone: "America/Toronto".to_string(),
                phone_numbers: json!([]),
                profession: json!({"title": null, "company": null}),
                avatar: Value::Null,
                created_at: created,
                updated_at: created,
            },
        );
        self.identity_by_email.insert(email.to_lowercase(), id);
        id
    }

    /// The identity of `email` (case-insensitive), created when missing.
    pub fn identity_for(
        &mut self,
        email: &str,
        first: &str,
        last: &str,
        created: OffsetDateTime,
    ) -> u64 {
        match self.identity_by_email.get(&email.to_lowercase()) {
            Some(id) => *id,
            None => self.new_identity(email, first, last, created),
        }
    }

    /// Live (not removed) memberships of a business, by member id.
    pub fn live_members(&self, business_id: u64) -> impl Iterator<Item = &Member> {
        self.members
            .values()
            .filter(move |m| m.business_id == business_id && m.removed_at.is_none())
    }

    /// The token owner's live membership in a business.
    pub fn owner_membership(&self, business_id: u64) -> Option<&Member> {
        let owner = self.owner_identity;
        self.live_members(business_id)
            .find(|m| m.identity_id == owner)
    }

    // ---- renderings ----

    pub fn business_json(&self, b: &BusinessRec) -> Value {
        json!({
            "id": b.id,
            "business_uuid": b.uuid,
            "name": b.name,
            "account_id": b.account_id,
            "date_format": "mm/dd/yyyy",
            "active": true,
        })
    }

    /// A member as the members endpoints render it (the guide's fields and more).
    pub fn member_json(&self, m: &Member) -> Value {
        json!({
            "id": m.id,
            "uuid": m.uuid,
            "identity_id": m.identity_id,
            "business_id": m.business_id,
            "email": m.email,
            "first_name": m.first_name,
            "last_name": m.last_name,
            "job_title": m.job_title,
            "role": m.role,
            "business_role_name": m.role,
            "active": m.active,
            "confirmed": m.confirmed,
            "permissions": m.permissions,
            "invitation_date_accepted": opt_ts(m.invitation_date_accepted),
            "created_at": ts(m.created_at),
            "updated_at": ts(m.updated_at),
        })
    }

    /// A member as the real API's `team_members` endpoint renders it.
    pub fn team_member_json(&self, m: &Member) -> Value {
        json!({
            "uuid": m.uuid,
            "first_name": m.first_name,
            "middle_name": null,
            "last_name": m.last_name,
            "email": m.email,
            "job_title": m.job_title,
            "street_1": null,
            "street_2": null,
            "city": null,
            "province": null,
            "country": null,
            "postal_code": null,
            "phone_number": null,
            "business_id": m.business_id,
            "business_role_name": format!("business_{}", m.role),
            "active": m.active,
            "identity_id": m.identity_id,
            "invitation_date_accepted": opt_ts(m.invitation_date_accepted),
            "created_at": ts(m.created_at),
            "updated_at": ts(m.updated_at),
        })
    }

    pub fn invitation_json(&self, i: &Invitation) -> Value {
        json!({
            "id": i.id,
            "business_id": i.business_id,
            "email": i.email,
            "first_name": i.first_name,
            "last_name": i.last_name,
            "role": i.role,
            "status": i.status.as_str(),
            "invited_by": i.invited_by,
            "created_at": ts(i.created_at),
            "updated_at": ts(i.updated_at),
        })
    }

    /// An identity as `GET /auth/api/v1/users/me` renders it.
    pub fn identity_json(&self, id: &Identity) -> Value {
        let memberships: Vec<Value> = self
            .members
            .values()
            .filter(|m| m.identity_id == id.id && m.removed_at.is_none())
            .filter_map(|m| {
                let b = self.businesses.get(&m.business_id)?;
                Some(json!({
                    "id": m.id,
                    "role": m.role,
                    "business_id": b.id,
                    "unacknowledged_change": false,
                    "fasttrack_token": null,
                    "business": self.business_json(b),
                }))
            })
            .collect();
        let roles: Vec<Value> = self
            .members
            .values()
            .filter(|m| m.identity_id == id.id && m.removed_at.is_none())
            .filter_map(|m| {
                let b = self.businesses.get(&m.business_id)?;
                Some(json!({
                    "id": m.id,
                    "role": m.role,
                    "systemid": b.id,
                    "userid": id.id,
                    "accountid": b.account_id,
                }))
            })
            .collect();
        json!({
            "id": id.id,
            "identity_id": id.id,
            "identity_uuid": id.uuid,
            "email": id.email,
            "first_name": id.first_name,
            "last_name": id.last_name,
            "confirmed": id.confirmed,
            "confirmed_at": if id.confirmed { ts(id.created_at) } else { Value::Null },
            "unconfirmed_email": null,
            "setup_complete": true,
            "language": id.language,
            "timezone": id.timezone,
            "phone_numbers": id.phone_numbers,
            "addresses": [],
            "profession": id.profession,
            "avatar": id.avatar,
            "created_at": ts(id.created_at),
            "updated_at": ts(id.updated_at),
            "business_memberships": memberships,
            "roles": roles,
            "permissions": {},
            "groups": [],
            "links": {
                "me": format!("/service/auth/api/v1/users?id={}", id.id),
                "roles": format!("/service/auth/api/v1/users/role/{}", id.id),
            },
        })
    }

    /// Everything, removed and revoked records included (`GET /_sim/state`).
    pub fn state_json(&self) -> Value {
        let businesses: Vec<Value> = self
            .businesses
            .values()
            .map(|b| self.business_json(b))
            .collect();
        let users: Vec<Value> = self
            .identities
            .values()
            .map(|i| self.identity_json(i))
            .collect();
        let members: Vec<Value> = self
            .members
            .values()
            .map(|m| {
                let mut v = self.member_json(m);
                v["removed"] = Value::Bool(m.removed_at.is_some());
                v["removed_at"] = opt_ts(m.removed_at);
                v
            })
            .collect();
        let invitations: Vec<Value> = self
            .invitations
            .values()
            .map(|i| {
                let mut v = self.invitation_json(i);
                v["accepted_at"] = opt_ts(i.accepted_at);
                v["revoked_at"] = opt_ts(i.revoked_at);
                v["member_id"] = json!(i.member_id);
                v
            })
            .collect();
        json!({
            "token_owner": self.owner_identity,
            "businesses": businesses,
            "users": users,
            "members": members,
            "invitations": invitations,
        })
    }
}
