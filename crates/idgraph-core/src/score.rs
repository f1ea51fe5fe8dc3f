//! Scoring findings against problems known in advance (a generated company's ground truth):
//! recall (how many known problems were reported) and precision (how many findings are known
//! problems). Used by the seeds test, the end-to-end test and `idgraph demo`.
//!
//! A finding *matches* an expected problem when its kind is one the problem accepts and its
//! account (not merely a related one) is one of the problem's accounts: a duplicate finding
//! must name the extra account, not the one to keep.

use crate::account::AccountKey;
use crate::reconcile::{Finding, FindingKind};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// A problem the review must report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expected {
    /// What the problem is called where it comes from (e.g. the drift kind).
    pub label: String,
    /// Finding kinds that report it.
    pub kinds: Vec<FindingKind>,
    /// The account(s) it is about (every record of the identity).
    pub accounts: Vec<AccountKey>,
}

/// Recall and precision of a set of findings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    pub expected: usize,
    /// Expected problems matched by at least one finding.
    pub found: usize,
    pub findings: usize,
    /// Findings matching at least one expected problem.
    pub matching_findings: usize,
    pub missed: Vec<Expected>,
    pub unexpected: Vec<Finding>,
}

impl Score {
    /// Found / expected (1.0 when nothing was expected).
    pub fn recall(&self) -> f64 {
        if self.expected == 0 {
            1.0
        } else {
            self.found as f64 / self.expected as f64
        }
    }

    /// Matching findings / findings (1.0 when nothing was reported).
    pub fn precision(&self) -> f64 {
        if self.findings == 0 {
            1.0
        } else {
            self.matching_findings as f64 / self.findings as f64
        }
    }
}

/// Scores `findings` against `expected`.
pub fn score(expected: &[Expected], findings: &[Finding]) -> Score {
    let matches = |e: &Expected, f: &Finding| {
        e.kinds.contains(&f.kind) && f.account.as_ref().is_some_and(|k| e.accounts.contains(k))
    };
    // Index expected problems by account so scoring stays linear.
    let mut by_account: std::collections::HashMap<&AccountKey, Vec<usize>> =
        std::collections::HashMap::new();
    for (i, e) in expected.iter().enumerate() {
        for k in &e.accounts {
            by_account.entry(k).or_default().push(i);
        }
    }
    let mut found: HashSet<usize> = HashSet::new();
    let mut unexpected = Vec::new();
    let mut matching = 0;
    for f in findings {
        let hits: Vec<usize> = f
            .account
            .iter()
            .flat_map(|k| by_account.get(k).into_iter().flatten().copied())
            .filter(|&i| matches(&expected[i], f))
            .collect();
        if hits.is_empty() {
            unexpected.push(f.clone());
        } else {
            matching += 1;
            found.extend(hits);
        }
    }
    Score {
        expected: expected.len(),
        found: found.len(),
        findings: findings.len(),
        matching_findings: matching,
        missed: expected
            .iter()
            .enumerate()
            .filter(|(i, _)| !found.contains(i))
            .map(|(_, e)| e.clone())
            .collect(),
        unexpected,
    }
}
