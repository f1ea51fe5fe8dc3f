//! Seeds 1 to 20: every injected drift is found (recall 1.0) and nothing else is reported
//! (precision 1.0), the roster going through the CSV importer and the accounts through the
//! connector-contract adapter in `idgraph_sim::truth`.

use idgraph_core::score::{score, Score};
use idgraph_core::{reconcile, AppSync, Policy, ReconcileInput};
use idgraph_sim::company::{
    generate, write_roster_csv, CompanyConfig, GroundTruth, DORMANT_DAYS, PENDING_DAYS,
};
use idgraph_sim::truth::{adapt, expected, tenant_of};
use std::collections::BTreeSet;
use time::macros::datetime;

/// Reconciles the generated company of `seed` and scores it against its ground truth.
pub fn score_seed(seed: u64, people: usize) -> (Score, idgraph_core::Reconciliation) {
    let anchor = datetime!(2026-06-01 00:00 UTC);
    let company = generate(&CompanyConfig::new(seed, people, anchor));
    let mut csv = Vec::new();
    write_roster_csv(&company, &mut csv).unwrap();
    let roster = idgraph_core::import_csv("roster.csv", csv.as_slice()).unwrap();
    assert_eq!(roster.len(), people);
    let accounts = adapt(&company);
    let syncs: Vec<AppSync> = accounts
        .iter()
        .map(|a| (a.key.app.clone(), a.key.tenant.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|(app, tenant)| AppSync {
            app,
            tenant,
            last_synced_at: Some(anchor - time::Duration::hours(1)),
        })
        .collect();
    let policy = Policy {
        pending_days: PENDING_DAYS,
        dormant_days: DORMANT_DAYS,
        ..Policy::default()
    };
    let input = ReconcileInput {
        syncs: &syncs,
        ..ReconcileInput::new(&roster, &accounts, &policy, anchor)
    };
    let rec = reconcile(&input);
    let truth = GroundTruth::of(&company);
    (score(&expected(&truth, &tenant_of), &rec.findings), rec)
}

#[test]
fn seeds_1_to_20_every_drift_found_and_nothing_else() {
    let mut failures = Vec::new();
    let (mut expected, mut findings) = (0, 0);
    for seed in 1..=20 {
        let (s, _) = score_seed(seed, 200);
        expected += s.expected;
        findings += s.findings;
        if s.recall() < 1.0 || s.precision() < 1.0 {
            failures.push(format!(
                "seed {seed}: recall {:.3} precision {:.3}\n  missed: {:#?}\n  unexpected: {:#?}",
                s.recall(),
                s.precision(),
                s.missed.iter().map(|m| &m.label).collect::<Vec<_>>(),
                s.unexpected
                    .iter()
                    .map(|f| format!("{} {}", f.kind, f.evidence))
                    .collect::<Vec<_>>()
            ));
        }
    }
    eprintln!("seeds 1-20: {expected} drifts, {findings} findings");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Sanity: the generator injected drift and the review reported it.
    assert!(expected >= 20 * 10, "{expected} drifts");
    assert!(
        findings >= expected,
        "{findings} findings for {expected} drifts"
    );
}
