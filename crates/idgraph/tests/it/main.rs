//! Integration tests of the `idgraph` binary, run as a child process against simulators
//! started in the test: the commands end to end (`commands`), and the process-level
//! SIGKILL/resume test of `idgraph sync` (`kill`). One test binary for the crate (house
//! style); shared pieces in `support`.

// Test helpers outside #[test] functions may unwrap too (clippy.toml allows it in tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod commands;
mod kill;
mod support;
