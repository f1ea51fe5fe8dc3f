//! Integration tests of idgraph-core: roster import, correlation and findings against the
//! company generator's ground truth, and the review's outputs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod findings;
mod roster_import;
mod seeds;
