//! Integration tests of the `idgraph` binary, run as a child process against simulators
//! started in the test: the commands end to end (`commands`), the process-level
//! SIGKILL/resume test of `idgraph sync` (`kill`), roster / correlate / review as a person
//! uses them (`review`) and the whole pipeline scored against the generator's ground truth
//! on seeds 1–20 (`ground_truth`). One test binary for the crate (house style); shared
//! pieces in `support`.

// Test helpers outside #[test] functions may unwrap too (clippy.toml allows it in tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod commands;
mod demo;
mod ground_truth;
mod kill;
mod review;
mod support;
