//! The values of migration 0002: roster versions and their people (the source of truth),
//! correlation decisions recorded with `idgraph correlate`, and the summaries of past access
//! reviews; plus [`ReviewData`], everything a review reads out of the store in one value.
//!
//! The roster is versioned: each import that changes the people is a new version (sources,
//! content hash, row count, who imported it and when). The people of the current and the
//! previous version are kept (the previous one to tell what changed); older versions keep
//! their row in `roster_versions` only. An import is one transaction: a failure anywhere
//! leaves the previous roster exactly as it was.

use crate::{Store, StoreError};
use idgraph_core::reconcile::AppSummary;
use idgraph_core::review::ReviewTotals;
use idgraph_core::{
    Account, AccountKey, AppSync, Decision, Entitlement, Grant, Policy, ReconcileInput, Roster,
    RosterVersion,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// A roster version's id (`roster_versions.id`).
pub type RosterVersionId = i64;

/// A roster version as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRosterVersion {
    pub id: RosterVersionId,
    /// Sources, content hash and rows.
    #[serde(flatten)]
    pub version: RosterVersion,
    #[serde(with = "time::serde::rfc3339")]
    pub imported_at: OffsetDateTime,
    pub imported_by: String,
    /// Whether its people are still stored (the current and the previous version).
    pub people_kept: bool,
}

impl StoredRosterVersion {
    /// `version 3: hr.csv (200 rows, 3f2a9c1d0b7e)`.
    pub fn label(&self) -> String {
        format!("version {}: {}", self.id, self.version.label())
    }
}

/// What [`Store::import_roster`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterImport {
    /// The current version after the import: the new one, or the one that already had
    /// exactly these people.
    pub version: StoredRosterVersion,
    /// The people were the same as the current version's: nothing was written.
    pub unchanged: bool,
    /// The version that was current before (`None`: the first import).
    pub previous: Option<StoredRosterVersion>,
}

/// A correlation decision as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredDecision {
    pub id: i64,
    #[serde(flatten)]
    pub decision: Decision,
    /// Withdrawn with `idgraph correlate undo`: no longer applied.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub withdrawn_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub withdrawn_by: Option<String>,
}

/// Which decisions to list (oldest first).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecisionFilter {
    /// Decisions about this one account.
    pub account: Option<AccountKey>,
    pub app: Option<String>,
    /// Withdrawn decisions too.
    pub include_withdrawn: bool,
}

/// When an app's connector tenant last finished a sync.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastSync {
    pub app: String,
    /// The connector's tenant (`sync_runs.tenant`).
    pub tenant: String,
    /// End of the newest succeeded run, full or incremental (`None`: none succeeded).
    #[serde(with = "time::serde::rfc3339::option")]
    pub succeeded_at: Option<OffsetDateTime>,
    /// The newest run's status and start, whatever it was.
    pub latest_status: crate::RunStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub latest_started_at: OffsetDateTime,
}

/// A recorded access review: what it ran on and its counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewRecord {
    /// Assigned by the store (ignored when recording).
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    /// The app the review was limited to (`None`: all apps).
    pub scope: Option<String>,
    pub roster_version: RosterVersionId,
    pub roster_hash: String,
    /// The sync times it used.
    pub syncs: Vec<AppSync>,
    pub totals: ReviewTotals,
    pub apps: Vec<AppSummary>,
    /// The ids of its findings (`None` once pruned: only the newest reviews keep them).
    pub findings: Option<Vec<String>>,
}

/// How many recorded reviews keep their finding ids.
pub const REVIEWS_WITH_FINDINGS: i64 = 20;

/// Everything a review reads from the store, loaded by [`ReviewData::load`].
#[derive(Clone, Debug)]
pub struct ReviewData {
    pub roster_version: StoredRosterVersion,
    pub roster: Roster,
    /// Every account (tombstones included), `raw` left out.
    pub accounts: Vec<Account>,
    /// Privileged entitlements and the grants of them: all reconciliation needs to tell
    /// privileged accounts (the other grants are not loaded).
    pub entitlements: Vec<Entitlement>,
    pub grants: Vec<Grant>,
    /// Decisions in force (withdrawn ones left out).
    pub decisions: Vec<Decision>,
    /// Last successful sync per (app, tenant of the records): each record tenant gets the
    /// time of the connector tenant that reads it (`tenants.source`); a connector tenant with
    /// no records yet is listed as itself.
    pub syncs: Vec<AppSync>,
}

/// Why a review could not load its data.
#[derive(Debug, thiserror::Error)]
pub enum ReviewDataError {
    #[error("no roster has been imported into the store at {location}: import one with `idgraph roster import FILE…` (or configure [[roster]] sources and run `idgraph roster import`)")]
    NoRoster { location: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ReviewData {
    /// Loads the current roster, the accounts (of `app` only, if given), the privileged
    /// grants, the decisions and the sync times.
    pub async fn load(store: &dyn Store, app: Option<&str>) -> Result<Self, ReviewDataError> {
        let Some((roster_version, roster)) = store.current_roster().await? else {
            return Err(ReviewDataError::NoRoster {
                location: store.location(),
            });
        };
        let accounts = store.review_accounts(app).await?;
        let (entitlements, grants) = store.privileged_grants(app).await?;
        let decisions = store
            .decisions(&DecisionFilter {
                app: app.map(str::to_string),
                ..DecisionFilter::default()
            })
            .await?
            .into_iter()
            .map(|d| d.decision)
            .collect();
        let syncs = sync_times(&store.last_syncs().await?, &store.tenants().await?, app);
        Ok(ReviewData {
            roster_version,
            roster,
            accounts,
            entitlements,
            grants,
            decisions,
            syncs,
        })
    }

    /// The reconciliation input over this data.
    pub fn input<'a>(&'a self, policy: &'a Policy, now: OffsetDateTime) -> ReconcileInput<'a> {
        ReconcileInput {
            grants: &self.grants,
            entitlements: &self.entitlements,
            decisions: &self.decisions,
            syncs: &self.syncs,
            ..ReconcileInput::new(&self.roster, &self.accounts, policy, now)
        }
    }
}

/// Sync times per record tenant (see [`ReviewData::syncs`]), in (app, tenant) order.
pub fn sync_times(runs: &[LastSync], tenants: &[crate::Tenant], app: Option<&str>) -> Vec<AppSync> {
    let mut out: BTreeMap<(String, String), Option<OffsetDateTime>> = BTreeMap::new();
    for r in runs {
        if app.is_some_and(|a| a != r.app) {
            continue;
        }
        let read: Vec<&crate::Tenant> = tenants
            .iter()
            .filter(|t| t.app == r.app && t.source == r.tenant)
            .collect();
        if read.is_empty() {
            out.insert((r.app.clone(), r.tenant.clone()), r.succeeded_at);
        }
        for t in read {
            out.insert((t.app.clone(), t.tenant.clone()), r.succeeded_at);
        }
    }
    out.into_iter()
        .map(|((app, tenant), last_synced_at)| AppSync {
            app,
            tenant,
            last_synced_at,
        })
        .collect()
}
