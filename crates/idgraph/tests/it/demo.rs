//! `idgraph demo`: the README's first command works on a fresh directory, finds every
//! injected problem and nothing else, and leaves a config and store the other commands read.

use crate::support;
use idgraph_core::Review;

#[tokio::test]
async fn demo_runs_end_to_end_and_leaves_data_the_other_commands_read() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let demo_arg = demo.to_str().unwrap();
    // --config points nowhere: the demo needs no configuration of its own.
    let nowhere = dir.path().join("absent.toml");
    let out = support::run(
        &nowhere,
        &[
            "demo", "--people", "80", "--seed", "5", "--dir", demo_arg, "--format", "json",
        ],
    )
    .await;
    assert!(out.success, "{}", out.stderr);
    let review: Review = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(review.totals.people, 80);
    assert!(!review.findings.is_empty());
    assert!(
        out.stderr.contains("recall 1.00, precision 1.00"),
        "{}",
        out.stderr
    );
    for f in [
        "idgraph.toml",
        "idgraph.db",
        "roster.csv",
        "ground-truth.json",
    ] {
        assert!(demo.join(f).exists(), "{f}");
    }

    // The other commands read the demo's store through the config it wrote.
    let config = demo.join("idgraph.toml");
    let out = support::run(
        &config,
        &["accounts", "--app", "freshbooks", "--format", "json"],
    )
    .await;
    assert!(out.success, "{}", out.stderr);
    let accounts: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(
        accounts.as_array().is_some_and(|a| !a.is_empty()),
        "{accounts}"
    );

    // Run again in the same directory: a fresh store, the same findings.
    let again = support::run(
        &nowhere,
        &[
            "demo", "--people", "80", "--seed", "5", "--dir", demo_arg, "--format", "json",
            "--quiet",
        ],
    )
    .await;
    assert!(again.success, "{}", again.stderr);
    let second: Review = serde_json::from_str(&again.stdout).unwrap();
    let ids = |r: &Review| {
        let mut v: Vec<(String, String)> = r
            .findings
            .iter()
            .map(|f| (f.kind.to_string(), format!("{:?}", f.account)))
            .collect();
        v.sort();
        v
    };
    assert_eq!(ids(&review), ids(&second));
}
