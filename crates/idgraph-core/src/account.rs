//! Accounts, entitlements and grants, normalised across apps, each keeping the vendor's raw
//! record.
//!
//! An account is identified by `(app, tenant, namespace, native_id)`: the namespace separates
//! object kinds with their own id spaces (Freshdesk agents vs contacts, Freshsales REST vs SCIM
//! ids, FreshBooks members vs invitations).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Lifecycle status of an account, across apps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// Can sign in and act.
    Active,
    /// Deactivated / suspended; the record exists.
    Inactive,
    /// Invited or created but not yet confirmed or accepted.
    Pending,
    /// Soft-deleted by the vendor (e.g. Freshdesk `deleted=true` contacts).
    Deleted,
    /// No longer in the app's listing (set by the sync engine; connectors never produce it).
    Missing,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Inactive => "inactive",
            AccountStatus::Pending => "pending",
            AccountStatus::Deleted => "deleted",
            AccountStatus::Missing => "missing",
        }
    }
}

impl std::str::FromStr for AccountStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(Self::Active),
            "inactive" => Ok(Self::Inactive),
            "pending" => Ok(Self::Pending),
            "deleted" => Ok(Self::Deleted),
            "missing" => Ok(Self::Missing),
            other => Err(format!(
                "unknown account status `{other}` (expected active, inactive, pending, deleted or missing)"
            )),
        }
    }
}

/// The identity of an account in its app.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AccountKey {
    /// `freshservice`, `freshdesk`, `freshsales`, `freshbooks`, `helpscout`, …
    pub app: String,
    /// The vendor account (domain, business group, mailbox account…).
    pub tenant: String,
    /// Object kind with its own id space: `agent`, `requester`, `contact`, `user`, `scim_user`,
    /// `member`, `invitation`.
    pub namespace: String,
    pub native_id: String,
}

/// An account as the app holds it, normalised.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub key: AccountKey,
    /// Emails, primary first, as the vendor spells them.
    pub emails: Vec<String>,
    pub display_name: Option<String>,
    pub status: AccountStatus,
    /// Whether the account takes a paid seat while active or pending.
    pub seat_consuming: bool,
    /// Extra attributes worth a column (job title, type, occasional, role names…).
    #[serde(default)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub created_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub updated_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_login_at: Option<OffsetDateTime>,
    /// The vendor's record, unchanged.
    pub raw: serde_json::Value,
}

impl Account {
    pub fn primary_email(&self) -> Option<&str> {
        self.emails.first().map(String::as_str)
    }
}

/// The identity of an entitlement in its app.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EntitlementKey {
    pub app: String,
    pub tenant: String,
    /// `role`, `group`, `department`, `team`, `business`, `territory`, `scim_group`, …
    pub kind: String,
    pub native_id: String,
}

/// Something an account can hold: a role, a group, a team, a business membership.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entitlement {
    pub key: EntitlementKey,
    pub name: String,
    /// Whether holding it grants admin-level power (reported with more severity).
    pub privileged: bool,
    pub raw: serde_json::Value,
}

/// An account holding an entitlement, with the grant's own attributes (e.g. Freshservice
/// `assignment_scope` and scoped groups).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    pub account: AccountKey,
    pub entitlement: EntitlementKey,
    #[serde(default)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// One item a connector reads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    Account(Account),
    Entitlement(Entitlement),
    Grant(Grant),
}

/// The canonical form of an email for matching: trimmed and lower-cased. (Plus-addressing and
/// domain aliases are correlation rules, applied where configured, not here.)
pub fn normalize_email(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips_through_text() {
        for s in [
            AccountStatus::Active,
            AccountStatus::Inactive,
            AccountStatus::Pending,
            AccountStatus::Deleted,
            AccountStatus::Missing,
        ] {
            assert_eq!(s.as_str().parse::<AccountStatus>(), Ok(s));
        }
        assert!("enabled"
            .parse::<AccountStatus>()
            .unwrap_err()
            .contains("enabled"));
    }

    #[test]
    fn emails_normalise() {
        assert_eq!(
            normalize_email("  Jane.Doe@Acme.Example "),
            "jane.doe@acme.example"
        );
    }
}
