#!/usr/bin/env bash
# The benchmark (issue 8): build in release mode, then run each scenario against the fake
# Intercom workspace (fake-intercom) and print a markdown table, one row per scenario.
#
#   scripts/bench.sh                  every scenario: a b c d e f g h i
#   scripts/bench.sh b                one scenario (or several: scripts/bench.sh a e)
#   BENCH_SCALE=0.1 scripts/bench.sh  a quick smoke run: workspace sizes times 0.1
#
#   (a) contacts, full refresh, 100,000 contacts, no latency, no rate limit (the fake's nor
#       the connector's), the connector on one core and the fake on the other
#   (b) contacts, 50,000, 100 ms latency, 10,000 requests/min
#   (c) conversations + conversation_parts, 2,000 x 5 parts, 50 ms latency, 10,000/min
#   (d) every stream of discover, full refresh: 20,000 contacts, 2,000 companies,
#       2,000 conversations x 5 parts, 1,000 tickets, 200 articles, 2,000 activity logs,
#       100 ms latency, 10,000/min
#   (e) spec and discover start-up: median wall time of BENCH_RUNS (default 20) runs each
#   (i) as (a), the catalog selecting half of contacts' columns (every other top-level
#       property of the schema, sorted by name, and the keys)
#
# Raw numbers go to target/bench/results.json (BENCH_OUT sets another directory);
# BENCH_KEEP=1 keeps each read's output under target/bench/work/. Needs only the Rust
# toolchain and Linux (/proc); the runner is scripts/bench.rs, compiled here with rustc.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --workspace --quiet
out=${BENCH_OUT:-target/bench}
mkdir -p "$out"
runner=$out/bench-runner
if [ ! -x "$runner" ] || [ scripts/bench.rs -nt "$runner" ]; then
  rustc --edition 2021 -O -o "$runner" scripts/bench.rs
fi
exec "$runner" "${CARGO_TARGET_DIR:-target}/release" "$out" "$@"
