#!/usr/bin/env bash
# Side by side: Airbyte's official Intercom source (PyPI airbyte-source-intercom 0.8.3, the
# version our drop-in promise targets) against ours, both reading the same fake workspace
# (fake-intercom): a full refresh of the `contacts` stream only.
#
#   scripts/official-vs.sh                    100,000 contacts, no latency, 10,000 requests/min
#   scripts/official-vs.sh --runs 3           three runs of each (a fresh fake every run)
#   scripts/official-vs.sh --contacts 20000 --latency-ms 50 --rpm 5000
#   scripts/official-vs.sh --ours-only | --official-only
#
# Options: --contacts N (100000), --rpm N (10000: the fake's --requests-per-minute),
# --window-ms N (10000: the fake's rate-limit window), --latency-ms N (0), --runs N (1),
# --timeout S (900: each timed read is stopped after S seconds, and reported as timed out),
# --ours-only, --official-only, --no-preflight, --build (rebuild even if the binaries exist),
# --keep (keep each read's output). Environment: OFFICIAL_PYTHON (a CPython 3.10 or 3.11;
# the package wants <3.12), CARGO_TARGET_DIR, XDG_CACHE_HOME. Both connectors run with their
# defaults: ours paces itself to its default budget of 10,000 requests/min (set
# SOURCE_INTERCOM_REQUESTS_PER_MINUTE to change it, e.g. with a larger --rpm); the official
# one sleeps after each response by the fake's X-RateLimit-Remaining / X-RateLimit-Limit.
#
# What it does:
# 1. The official connector lives in a venv at
#    ${XDG_CACHE_HOME:-$HOME/.cache}/source-intercom/official-0.8.3, created once and
#    reused while its stamp (requirement, constraints file, patch script, Python version)
#    is unchanged: pip install airbyte-source-intercom==0.8.3 with every dependency pinned by
#    scripts/official/constraints-0.8.3.txt (airbyte-cdk 4.6.2, ...).
# 2. Pointing it at the fake: 0.8.3 is a declarative (manifest.yaml) connector whose spec has
#    no base URL field; its one `url_base: "https://api.intercom.io/"` (in the shared
#    requester definition, which every stream and paginator `$ref`s) is rewritten in the
#    venv's copy of source_intercom/manifest.yaml to
#    `url_base: "{{ config.get('base_url') or 'https://api.intercom.io/' }}"` by
#    scripts/official/patch_manifest.py (sha256-checked, original kept as manifest.yaml.orig).
#    The CDK interpolates url_base with the config, and the spec allows extra keys, so both
#    connectors then take the very same config file:
#    {"access_token", "start_date": "2020-01-01T00:00:00Z", "base_url": "http://127.0.0.1:PORT"}.
#    Nothing else of the connector changes: same requests, rate limiter sleeps, retries.
# 3. Each connector's catalog is its own `discover` output (run against a closed port: it
#    sends no request) cut to `contacts` in full_refresh / overwrite.
# 4. Preflight (untimed, also warms the page cache): each connector reads a 1,000-contact
#    fake and must emit exactly 1,000 records.
# 5. Timed runs, interleaved (ours, official, ours, ...), each on a fresh fake: the read is
#    spawned by scripts/official/measure.rs (compiled with rustc; the wait4 method of
#    scripts/bench.rs): wall time from spawn to exit, the child's own peak RSS and CPU time.
#    RECORD lines are counted from its stdout (a file, as in bench.rs); requests and 429s
#    (`limiter_rejections`) come from the stats line the fake prints on SIGTERM.
# Raw numbers: target/official-vs/results.json; each run's files under
# target/official-vs/work/ (the read's stdout is deleted unless --keep).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

contacts=100000
rpm=10000
window_ms=10000
latency_ms=0
runs=1
timeout_s=900
do_ours=1
do_official=1
preflight=1
build=0
keep=0
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --contacts) contacts=$2; shift 2 ;;
    --rpm) rpm=$2; shift 2 ;;
    --window-ms) window_ms=$2; shift 2 ;;
    --latency-ms) latency_ms=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --ours-only) do_official=0; shift ;;
    --official-only) do_ours=0; shift ;;
    --no-preflight) preflight=0; shift ;;
    --build) build=1; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "official-vs: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
for v in contacts rpm window_ms latency_ms runs timeout_s; do
  case ${!v} in ''|*[!0-9]*) echo "official-vs: --${v//_/-} wants a whole number" >&2; exit 2 ;; esac
done
[ "$runs" -ge 1 ] || { echo "official-vs: --runs must be at least 1" >&2; exit 2; }
[ $((do_ours + do_official)) -ge 1 ] || { echo "official-vs: nothing to run" >&2; exit 2; }

say() { echo "official-vs: $*" >&2; }

TOKEN=official-vs-token-0123456789
START_DATE=2020-01-01T00:00:00Z
REQUIREMENT=airbyte-source-intercom==0.8.3
CONSTRAINTS=$root/scripts/official/constraints-0.8.3.txt
PATCHER=$root/scripts/official/patch_manifest.py
REPORT=$root/scripts/official/report.py
out=$root/target/official-vs
work=$out/work
bin=${CARGO_TARGET_DIR:-$root/target}/release
venv=${XDG_CACHE_HOME:-$HOME/.cache}/source-intercom/official-0.8.3

# ---- the fake, stopped whatever happens ------------------------------------------------
FAKE_PID=
MEASURE_PID=
stop_fake_now() {
  if [ -n "$MEASURE_PID" ]; then # interrupted during a read: stop the connector, then measure
    pkill -TERM -P "$MEASURE_PID" 2>/dev/null || true
    kill -TERM "$MEASURE_PID" 2>/dev/null || true
    wait "$MEASURE_PID" 2>/dev/null || true
    MEASURE_PID=
  fi
  if [ -n "$FAKE_PID" ]; then
    kill -TERM "$FAKE_PID" 2>/dev/null || true
    wait "$FAKE_PID" 2>/dev/null || true
    FAKE_PID=
  fi
}
trap stop_fake_now EXIT
trap 'stop_fake_now; exit 130' INT
trap 'stop_fake_now; exit 143' TERM

# start_fake DIR CONTACTS: sets FAKE_PID and FAKE_URL
start_fake() {
  local dir=$1 n=$2 i
  : >"$dir/fake.url"
  # No contact has more than 10 tags, companies or notes: the official connector emits
  # such lists cut at 10 where ours reads them whole, and that costs requests it doesn't make.
  "$bin/fake-intercom" --port 0 --token "$TOKEN" --contacts "$n" \
    --latency-ms "$latency_ms" --requests-per-minute "$rpm" --window-ms "$window_ms" \
    --contacts-with-long-lists 0 \
    </dev/null >"$dir/fake.url" 2>"$dir/fake.err" &
  FAKE_PID=$!
  for i in $(seq 600); do
    FAKE_URL=$(head -n1 "$dir/fake.url")
    case $FAKE_URL in http*) return 0 ;; esac
    kill -0 "$FAKE_PID" 2>/dev/null || break
    sleep 0.1
  done
  say "fake-intercom did not start: $(cat "$dir/fake.err")"
  exit 1
}

# stop_fake DIR: SIGTERM, then its stats line (the last JSON line of its stderr) to DIR/fake-stats.json
stop_fake() {
  local dir=$1
  stop_fake_now
  if ! grep '^{' "$dir/fake.err" | tail -n1 >"$dir/fake-stats.json" || [ ! -s "$dir/fake-stats.json" ]; then
    say "fake-intercom printed no stats: $(cat "$dir/fake.err")"
    exit 1
  fi
}

write_config() { # write_config FILE BASE_URL
  printf '{"access_token":"%s","start_date":"%s","base_url":"%s"}\n' "$TOKEN" "$START_DATE" "$2" >"$1"
}

# ---- binaries ----------------------------------------------------------------------------
if [ "$build" = 1 ] || [ ! -x "$bin/source-intercom" ] || [ ! -x "$bin/fake-intercom" ]; then
  say "building (release; may wait for the cargo lock)"
  cargo build --release --locked -p source-intercom --bin source-intercom \
    -p fake-intercom --bin fake-intercom
fi
mkdir -p "$out"
measure=$out/measure
if [ ! -x "$measure" ] || [ "$root/scripts/official/measure.rs" -nt "$measure" ]; then
  rustc --edition 2021 -O -o "$measure" "$root/scripts/official/measure.rs"
fi

# ---- the official connector's venv -------------------------------------------------------
pick_python() {
  local p
  for p in ${OFFICIAL_PYTHON:-} python3.11 python3.10 python3; do
    command -v "$p" >/dev/null 2>&1 || continue
    if "$p" -c 'import sys, venv; sys.exit(not ((3, 10) <= sys.version_info[:2] <= (3, 11)))' 2>/dev/null; then
      "$p" -c 'import sys; print(sys.executable)'
      return 0
    fi
  done
  return 1
}
if [ "$do_official" = 1 ]; then
  python=$(pick_python) || { say "needs CPython 3.10 or 3.11 (set OFFICIAL_PYTHON)"; exit 1; }
  stamp="$REQUIREMENT constraints=$(sha256sum "$CONSTRAINTS" | cut -c1-16) patch=$(sha256sum "$PATCHER" | cut -c1-16) python=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  if [ ! -f "$venv/.official-vs-stamp" ] || [ "$(cat "$venv/.official-vs-stamp")" != "$stamp" ]; then
    say "creating $venv ($REQUIREMENT with $python)"
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input \
      -c "$CONSTRAINTS" "$REQUIREMENT"
    manifest=$("$venv/bin/python" -c 'import os, source_intercom; print(os.path.join(os.path.dirname(source_intercom.__file__), "manifest.yaml"))')
    "$venv/bin/python" "$PATCHER" "$manifest"
    echo "$stamp" >"$venv/.official-vs-stamp"
  fi
  official_versions=$("$venv/bin/python" -c 'from importlib.metadata import version as v; print("airbyte-source-intercom %s, airbyte-cdk %s" % (v("airbyte-source-intercom"), v("airbyte-cdk")))')
  say "official: $official_versions ($venv)"
fi

cmd_of() { # the connector's command
  case $1 in
    ours) echo "$bin/source-intercom" ;;
    official) echo "$venv/bin/source-intercom" ;;
  esac
}
conns=()
[ "$do_ours" = 1 ] && conns+=(ours)
[ "$do_official" = 1 ] && conns+=(official)

rm -rf "$work"
mkdir -p "$work"

# ---- catalogs from each connector's own discover ------------------------------------------
for c in "${conns[@]}"; do
  d=$work/discover-$c
  mkdir -p "$d"
  write_config "$d/config.json" "http://127.0.0.1:9"
  if ! "$(cmd_of "$c")" discover --config "$d/config.json" >"$d/discover.out" 2>"$d/discover.err"; then
    say "$c: discover failed:"; tail -n 5 "$d/discover.out" "$d/discover.err" >&2; exit 1
  fi
  python3 "$REPORT" catalog "$d/discover.out" contacts "$work/catalog-$c.json"
done

# run_read KIND NAME CONNECTOR RUN CONTACTS TIMEOUT: one read on a fresh fake, into $work/NAME
run_read() {
  local kind=$1 name=$2 c=$3 run=$4 n=$5 limit=$6
  local d=$work/$name
  mkdir -p "$d"
  start_fake "$d" "$n"
  write_config "$d/config.json" "$FAKE_URL"
  local cmd
  cmd=$(cmd_of "$c")
  local load_before load_after
  load_before=$(cut -d' ' -f1 /proc/loadavg)
  # In the background and waited for, so that a signal to this script is handled at once.
  "$measure" "$limit" "$d/measure.json" "$d/read.out" "$d/read.err" -- \
    "$cmd" read --config "$d/config.json" --catalog "$work/catalog-$c.json" &
  MEASURE_PID=$!
  wait "$MEASURE_PID" || { say "measuring failed"; exit 1; }
  MEASURE_PID=
  load_after=$(cut -d' ' -f1 /proc/loadavg)
  stop_fake "$d"
  printf '{"kind":"%s","connector":"%s","run":%s,"contacts":%s,"stream":"contacts","command":"%s read --config config.json --catalog catalog-%s.json","loadavg_1min_before":%s,"loadavg_1min_after":%s}\n' \
    "$kind" "$c" "$run" "$n" "$cmd" "$c" "$load_before" "$load_after" >"$d/meta.json"
  python3 "$REPORT" scan "$d/read.out" "$d/scan.json"
  [ "$keep" = 1 ] || rm -f "$d/read.out"
}

if [ "$preflight" = 1 ]; then
  for c in "${conns[@]}"; do
    run_read preflight "preflight-$c" "$c" 0 1000 120
    got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"])' "$work/preflight-$c/scan.json")
    if [ "$got" != 1000 ]; then
      say "$c: preflight read $got of 1000 contacts from the fake (see $work/preflight-$c)"
      exit 1
    fi
    say "$c: preflight read 1000 of 1000 contacts from the fake"
  done
fi

commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain -- src fake-intercom Cargo.toml Cargo.lock 2>/dev/null | wc -l)
cat >"$out/setup.json" <<EOF
{"contacts": $contacts, "requests_per_minute": $rpm, "window_ms": $window_ms, "latency_ms": $latency_ms,
 "runs": $runs, "timeout_s": $timeout_s, "stream": "contacts", "sync_mode": "full_refresh",
 "start_date": "$START_DATE", "git_commit": "$commit", "uncommitted_files_in_src_fake_cargo": $dirty,
 "ours": "$bin/source-intercom", "official": "${official_versions:-not run}",
 "official_url_base_patch": "manifest.yaml url_base -> {{ config.get('base_url') or 'https://api.intercom.io/' }}",
 "ours_env_requests_per_minute": "${SOURCE_INTERCOM_REQUESTS_PER_MINUTE:-}", "cpus": $(nproc), "started_at": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"}
EOF

for run in $(seq "$runs"); do
  for c in "${conns[@]}"; do
    say "run $run/$runs: $c reading $contacts contacts (timeout ${timeout_s} s)"
    run_read timed "run$run-$c" "$c" "$run" "$contacts" "$timeout_s"
    python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); s=json.load(open(sys.argv[2])); print("official-vs:   %d records in %.2f s, exit %s%s" % (s["records"], m["wall_s"], m["exit_code"], ", TIMED OUT" if m["timed_out"] else ""), file=sys.stderr)' \
      "$work/run$run-$c/measure.json" "$work/run$run-$c/scan.json"
  done
done

python3 "$REPORT" summarize "$work" "$out/results.json"
