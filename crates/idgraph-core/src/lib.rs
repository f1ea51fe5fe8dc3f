//! Domain types of the identity graph, shared by connectors, the store, the sync engine and
//! reconciliation: accounts as an app holds them, entitlements (roles, groups, teams,
//! businesses) and grants (who holds which entitlement). No I/O, no async, no SQL here.

pub mod account;
pub mod clock;
pub mod diff;

pub use account::{
    normalize_email, Account, AccountKey, AccountStatus, Entitlement, EntitlementKey, Grant, Record,
};
pub use clock::{Clock, FixedClock};
