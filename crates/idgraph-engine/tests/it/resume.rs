//! Kill and resume at 20 random points. Three syncs (version 1 in full, version 2
//! incrementally, version 2 in full) run once uninterrupted; then, for each of 20 seeded
//! random points, the same syncs run on a fresh store with one of them killed — either at a
//! random fetch (which never returns: killed mid-page, after the pages before it committed)
//! or after a random number of polls of the sync future (anywhere: mid-transaction, between
//! a commit and the next fetch, inside the run's finish) — and resumed through a new store
//! handle and a new engine, as a new process would. Each final store must equal the
//! uninterrupted one: accounts, entitlements, grants, events, runs, checkpoints, tenants
//! (event ids aside; run ids compared by rank, since PostgreSQL sequences skip the ids of
//! rolled-back inserts).
//!
//! `IDGRAPH_KILL_SEED` picks another seed.

use crate::fake::FakeConnector;
use crate::scenario::*;
use crate::support::*;
use idgraph_engine::{RunReport, SyncEngine, SyncError};
use idgraph_store::testing::TestStore;
use idgraph_store::*;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use time::OffsetDateTime;

const APP: &str = "freshdesk";
const POINTS: usize = 20;

/// The syncs of the story: (data version, clock, mode).
const PHASES: [(u8, OffsetDateTime, SyncMode); 3] = [
    (1, T1, SyncMode::Full),
    (2, T2, SyncMode::Incremental),
    (2, T3, SyncMode::Full),
];

/// Polls a future at most `left` times, then gives up on it (`None`), as a kill would.
struct Budget<F> {
    fut: Pin<Box<F>>,
    left: u64,
    polls: u64,
}

impl<F: Future> Future for Budget<F> {
    type Output = Option<F::Output>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        self.left -= 1;
        self.polls += 1;
        match self.fut.as_mut().poll(cx) {
            Poll::Ready(v) => Poll::Ready(Some(v)),
            Poll::Pending => Poll::Pending,
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Kill {
    /// The n-th fetch of the sync never returns.
    AtFetch(u64),
    /// The sync future is dropped after n polls.
    AfterPolls(u64),
}

fn engine_at(store: &Arc<dyn Store>, at: OffsetDateTime) -> SyncEngine {
    engine(store, at)
}

async fn run_phase(
    store: &Arc<dyn Store>,
    fake: &FakeConnector,
    phase: usize,
) -> (Result<RunReport, SyncError>, u64) {
    let (_, at, mode) = PHASES[phase];
    let eng = engine_at(store, at);
    let mut b = Budget {
        fut: Box::pin(eng.sync(fake, mode)),
        left: u64::MAX,
        polls: 0,
    };
    let r = (&mut b).await.unwrap();
    (r, b.polls)
}

/// Rewrites run ids as their rank (1, 2, 3…) so stores whose sequences differ compare.
fn by_rank(mut d: Dump) -> Dump {
    let mut ids: Vec<RunId> = d.runs.iter().map(|r| r.id).collect();
    ids.sort();
    let rank: HashMap<RunId, RunId> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, i as RunId + 1))
        .collect();
    let r = |id: RunId| rank.get(&id).copied().unwrap_or(-id);
    for x in &mut d.runs {
        x.id = r(x.id);
    }
    for x in &mut d.accounts {
        x.last_seen_run = r(x.last_seen_run);
    }
    for x in &mut d.entitlements {
        x.last_seen_run = r(x.last_seen_run);
    }
    for x in &mut d.grants {
        x.last_seen_run = r(x.last_seen_run);
    }
    for x in &mut d.events {
        x.1 = x.1.map(r);
    }
    for x in &mut d.checkpoints {
        x.run_id = r(x.run_id);
    }
    d
}

#[tokio::test]
async fn a_sync_killed_at_20_random_points_resumes_to_the_same_store() {
    let seed: u64 = std::env::var("IDGRAPH_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_241_129);
    let mut backends = vec![false];
    if std::env::var(testing::PG_URL_VAR).is_ok() {
        backends.push(true);
    }
    for pg in backends {
        let fresh = || async move {
            if pg {
                TestStore::postgres().await.unwrap().unwrap()
            } else {
                TestStore::sqlite().await.unwrap()
            }
        };

        // Uninterrupted.
        let reference = fresh().await;
        let fake = FakeConnector::new(APP, TENANT, dataset(APP, 1));
        let mut fetches = Vec::new();
        let mut polls = Vec::new();
        for (phase, (version, ..)) in PHASES.iter().enumerate() {
            fake.set_resources(dataset(APP, *version));
            let before = fake.fetches();
            let (r, p) = run_phase(&reference.store, &fake, phase).await;
            assert!(r.unwrap().succeeded());
            fetches.push(fake.fetches() - before);
            polls.push(p);
        }
        let expected = by_rank(dump(&*reference.store).await);
        assert_eq!(expected.runs.len(), 3);
        assert!(expected.events.len() > 50, "a story worth killing");
        reference.cleanup().await.unwrap();

        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut kills = 0;
        let mut survived = Vec::new();
        for point in 0..POINTS {
            let phase = rng.gen_range(0..PHASES.len());
            let kill = if point % 2 == 0 {
                Kill::AtFetch(rng.gen_range(1..=fetches[phase]))
            } else {
                Kill::AfterPolls(rng.gen_range(1..polls[phase]))
            };
            let what = format!("seed {seed}, point {point}: {kill:?} in sync {phase}, pg={pg}");

            let db = fresh().await;
            let mut store = db.store.clone();
            let fake = FakeConnector::new(APP, TENANT, dataset(APP, 1));
            for (p, &(version, at, mode)) in PHASES.iter().enumerate() {
                fake.set_resources(dataset(APP, version));
                if p == phase {
                    let eng = engine_at(&store, at);
                    let killed = match kill {
                        Kill::AtFetch(n) => {
                            fake.hang_at(Some(n));
                            tokio::select! {
                                r = eng.sync(&fake, mode) => panic!("{what}: finished despite the hang: {r:?}"),
                                _ = fake.hung.notified() => true,
                            }
                        }
                        Kill::AfterPolls(n) => {
                            let b = Budget {
                                fut: Box::pin(eng.sync(&fake, mode)),
                                left: n,
                                polls: 0,
                            };
                            match b.await {
                                None => true,
                                Some(r) => {
                                    assert!(r.unwrap().succeeded(), "{what}");
                                    false
                                }
                            }
                        }
                    };
                    fake.hang_at(None);
                    if killed {
                        kills += 1;
                        // A new process: close, open a new handle, resume.
                        store.close().await;
                        store = db.reopen().await.unwrap();
                        let (r, _) = run_phase(&store, &fake, p).await;
                        let r = r.unwrap_or_else(|e| panic!("{what}: resume failed: {e}"));
                        assert!(r.succeeded(), "{what}: {:?}", r.errors);
                    } else {
                        survived.push(what.clone());
                    }
                } else {
                    let (r, _) = run_phase(&store, &fake, p).await;
                    assert!(r.unwrap().succeeded(), "{what}");
                }
            }
            let got = by_rank(dump(&*store).await);
            if got != expected {
                for (name, a, b) in [
                    (
                        "accounts",
                        format!("{:#?}", got.accounts),
                        format!("{:#?}", expected.accounts),
                    ),
                    (
                        "grants",
                        format!("{:#?}", got.grants),
                        format!("{:#?}", expected.grants),
                    ),
                    (
                        "entitlements",
                        format!("{:#?}", got.entitlements),
                        format!("{:#?}", expected.entitlements),
                    ),
                    (
                        "events",
                        format!("{:#?}", got.events),
                        format!("{:#?}", expected.events),
                    ),
                    (
                        "runs",
                        format!("{:#?}", got.runs),
                        format!("{:#?}", expected.runs),
                    ),
                    (
                        "checkpoints",
                        format!("{:#?}", got.checkpoints),
                        format!("{:#?}", expected.checkpoints),
                    ),
                ] {
                    if a != b {
                        eprintln!("{what}: {name} differ:\n--- got\n{a}\n--- expected\n{b}");
                    }
                }
                panic!("{what}: the resumed store differs from the uninterrupted one");
            }
            store.close().await;
            db.cleanup().await.unwrap();
        }
        eprintln!(
            "pg={pg}: {kills} of {POINTS} points killed a sync (fetches per sync {fetches:?}, polls {polls:?}); finished before the kill: {survived:?}"
        );
        // Every fetch kill is a kill; a poll budget may outlast a quicker run, rarely.
        assert!(kills >= POINTS / 2 + POINTS / 4, "too few kills: {kills}");
    }
}
