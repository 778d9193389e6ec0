#!/usr/bin/env bash
# The demo: build, start a fake Intercom workspace, then run spec, check, discover
# and a full read of every stream against it, and print records per stream.
#
#   scripts/demo.sh [extra fake-intercom flags, e.g. --contacts 5000 --seed 7]
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== building (release)"
cargo build --release --workspace --quiet

work=$(mktemp -d)
token="demo-token-$RANDOM$RANDOM"
cleanup() { [ -n "${fake_pid:-}" ] && kill "$fake_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

mkfifo "$work/fake.out"
target/release/fake-intercom --port 0 --token "$token" "$@" >"$work/fake.out" 2>"$work/fake.err" &
fake_pid=$!
read -r base_url <"$work/fake.out"
echo "== fake Intercom workspace at $base_url"

cat >"$work/config.json" <<JSON
{"access_token": "$token", "start_date": "2020-01-01T00:00:00Z", "base_url": "$base_url"}
JSON

conn=target/release/source-intercom
echo "== spec";     "$conn" spec | cut -c1-160; echo "..."
echo "== check";    "$conn" check --config "$work/config.json"
echo "== discover"; "$conn" discover --config "$work/config.json" >"$work/catalog.out"
streams=$(grep -o '"name":"[a-z_]*","json_schema"' "$work/catalog.out" | sed 's/"name":"\([a-z_]*\)".*/\1/')
echo "$(echo "$streams" | wc -l) streams: $(echo $streams)"

# A configured catalog of every stream, full refresh.
{
  printf '{"streams":['
  sep=""
  for s in $streams; do
    printf '%s{"stream":{"name":"%s","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}' "$sep" "$s"
    sep=","
  done
  printf ']}\n'
} >"$work/catalog.json"

echo "== read (every stream)"
start=$(date +%s%N)
"$conn" read --config "$work/config.json" --catalog "$work/catalog.json" >"$work/read.out"
end=$(date +%s%N)
echo "records per stream:"
grep -o '^{"type":"RECORD","record":{"stream":"[a-z_]*"' "$work/read.out" \
  | sed 's/.*"stream":"\([a-z_]*\)"/\1/' | sort | uniq -c | awk '{printf "  %-34s %8d\n", $2, $1}'
echo "  total: $(grep -c '^{"type":"RECORD"' "$work/read.out") records, $(grep -c '^{"type":"STATE"' "$work/read.out") states, $(( (end - start) / 1000000 )) ms"
if grep -q '^{"type":"TRACE","trace":{"type":"ERROR"' "$work/read.out"; then
  echo "errors:"; grep '^{"type":"TRACE","trace":{"type":"ERROR"' "$work/read.out"; exit 1
fi
