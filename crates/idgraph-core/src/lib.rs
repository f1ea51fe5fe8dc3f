//! Domain types of the identity graph, shared by connectors, the store, the sync engine and
//! reconciliation: accounts as an app holds them, entitlements (roles, groups, teams,
//! businesses) and grants (who holds which entitlement). No I/O, no async, no SQL here.

pub mod account;
pub mod clock;
pub mod correlate;
pub mod diff;
pub mod person;
pub mod reconcile;
pub mod review;
pub mod roster;
pub mod score;

pub use account::{
    normalize_email, Account, AccountKey, AccountStatus, Entitlement, EntitlementKey, Grant, Record,
};
pub use clock::{Clock, FixedClock};
pub use correlate::{
    correlate, AccountClass, AccountCorrelation, CorrelationCase, CorrelationConfig, Correlations,
    Decision, MatchRule, Normalisation, Situation, Verdict,
};
pub use person::{HrStatus, Person, Roster, RosterVersion};
pub use reconcile::{
    reconcile, AppSync, Finding, FindingKind, Policy, ReconcileInput, Reconciliation, Severity,
};
pub use review::{review, Review};
pub use roster::{import_csv, import_json, RosterError, RosterImportError};
