#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 20) each: a smoke run for CI. Needs cargo-fuzz
# (`cargo install cargo-fuzz`); libFuzzer needs nightly flags, which the stable toolchain
# accepts with RUSTC_BOOTSTRAP=1. Crashes land in fuzz/artifacts/TARGET/ and fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O
for t in $(cargo fuzz list); do
  echo "== fuzz $t (${secs} s)"
  cargo fuzz run -O "$t" -- -max_total_time="$secs" -print_final_stats=1 2>&1 \
    | grep -E '^(stat::number_of_executed_units|==[0-9]+==|SUMMARY|.*panicked)' || true
  if ls fuzz/artifacts/"$t"/crash-* >/dev/null 2>&1; then echo "fuzz $t: crash found"; exit 1; fi
done
