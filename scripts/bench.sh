#!/usr/bin/env bash
# Benchmark: a full read of every stream against a large fake workspace with network-like
# latency, measuring wall time, records per second and the connector's peak memory.
#
#   scripts/bench.sh [fake-intercom flags]     default: --contacts 50000 --companies 5000
#       --conversations 5000 --parts-per-conversation 10 --latency-ms 20
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --workspace --quiet

flags=("$@")
[ ${#flags[@]} -eq 0 ] && flags=(--contacts 50000 --companies 5000 --conversations 5000 --parts-per-conversation 10 --latency-ms 20)

work=$(mktemp -d)
cleanup() { [ -n "${fake_pid:-}" ] && kill "$fake_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
mkfifo "$work/fake.out"
target/release/fake-intercom --port 0 --token bench-token --requests-per-minute 1000000 "${flags[@]}" >"$work/fake.out" 2>"$work/fake.err" &
fake_pid=$!
read -r base_url <"$work/fake.out"
echo "{\"access_token\":\"bench-token\",\"start_date\":\"2020-01-01T00:00:00Z\",\"base_url\":\"$base_url\"}" >"$work/config.json"

conn=target/release/source-intercom
streams=$("$conn" discover --config "$work/config.json" | grep -o '"name":"[a-z_]*","json_schema"' | sed 's/"name":"\([a-z_]*\)".*/\1/')
{
  printf '{"streams":['; sep=""
  for s in $streams; do
    printf '%s{"stream":{"name":"%s","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}' "$sep" "$s"; sep=","
  done
  printf ']}\n'
} >"$work/catalog.json"

echo "workspace: ${flags[*]}"
/usr/bin/time -f "%e %M" -o "$work/time" "$conn" read --config "$work/config.json" --catalog "$work/catalog.json" >"$work/read.out"
read -r secs rss_kb <"$work/time"
records=$(grep -c '^{"type":"RECORD"' "$work/read.out")
bytes=$(wc -c <"$work/read.out")
errors=$(grep -c '^{"type":"TRACE","trace":{"type":"ERROR"' "$work/read.out" || true)
echo "records: $records   output: $((bytes / 1048576)) MiB   errors: $errors"
echo "wall: ${secs}s   records/s: $(awk -v r="$records" -v s="$secs" 'BEGIN{printf "%d", r/s}')   peak RSS: $((rss_kb / 1024)) MiB"
