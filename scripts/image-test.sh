#!/usr/bin/env bash
# The image, built with a real container engine from the project's Dockerfile as it is, and run
# the way the Airbyte platform runs it: as uid 1000 with a read-only root filesystem (the
# connector writes nothing but stdout, so nothing else is writable), all capabilities dropped,
# the config, catalog and state at the platform's paths (/config, /source), each command through
# `sh -c 'eval "$AIRBYTE_ENTRYPOINT <command> <args>"'`, and a fake Intercom workspace on the
# host network as the API. Checks that the image's records equal the binary's, for a full
# refresh of every stream and for an incremental read with state, and reports the image size.
#
# The engine is `docker` where a Docker engine answers, otherwise podman, installed and
# configured by scripts/container-engine.sh (which also makes local stand-ins for the base
# images, since they cannot be pulled here). Needs root and Debian's package archive.
# Run by .ci/run; the image it builds is reused by scripts/standard-tests.sh --image.
# `--prepare` only installs and configures the engine and makes the stand-ins.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
source scripts/container-engine.sh

# The image must stay small: a slim Debian base, CA certificates and the binary.
MAX_IMAGE_MB=${MAX_IMAGE_MB:-120}

passed=0
failed=0
ok() { echo "ok   - $1"; passed=$((passed + 1)); }
fail() { echo "FAIL - $1"; failed=$((failed + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
py() { python3 scripts/airbyte/messages.py "$@"; }

engine_setup
echo "== container engine: $ENGINE"
if [ "${1:-}" = --prepare ]; then
  # Only what needs no compiling: the engine and, for podman, the base images' stand-ins.
  [ "$ENGINE" = podman ] && { make_runtime_base; make_build_base; }
  exit 0
fi
echo "== the binaries ($PROFILE; the image's records are compared with the binary's)"
build_binaries
build_image

work=$IMAGE_WORK/run
rm -rf "$work"
mkdir -p "$work"

echo "== the image's configuration"
engine image inspect "$IMAGE" >"$work/inspect.json"
python3 - "$work/inspect.json" >"$work/image.env" <<'PY'
import json, shlex, sys
c = json.load(open(sys.argv[1]))[0]["Config"]
env = dict(e.split("=", 1) for e in c.get("Env") or [])
labels = c.get("Labels") or {}
for k, v in {
    "entrypoint": " ".join(c.get("Entrypoint") or []),
    "airbyte_entrypoint": env.get("AIRBYTE_ENTRYPOINT", ""),
    "user": c.get("User", ""),
    "home": env.get("HOME", ""),
    "label_name": labels.get("io.airbyte.name", ""),
    "label_version": labels.get("io.airbyte.version", ""),
}.items():
    print(f"{k}={shlex.quote(v)}")
PY
source "$work/image.env"
meta() { sed -n "s/^  $1: *//p" metadata.yaml; }
check "AIRBYTE_ENTRYPOINT ($airbyte_entrypoint) equals the ENTRYPOINT ($entrypoint)" test -n "$entrypoint" -a "$airbyte_entrypoint" = "$entrypoint"
check "AIRBYTE_ENTRYPOINT is an absolute path" test "${airbyte_entrypoint:0:1}" = /
check "label io.airbyte.name ($label_name) is metadata.yaml's dockerRepository" test "$label_name" = "$(meta dockerRepository)"
check "label io.airbyte.version ($label_version) is metadata.yaml's dockerImageTag" test "$label_version" = "$(meta dockerImageTag)"
uid=$(engine run --rm --entrypoint id "$IMAGE" -u)
check "the image's user ($user) has uid 1000" test "$uid" = 1000
check "the image has /bin/sh and CA certificates" engine run --rm --entrypoint sh "$IMAGE" -c 'test -s /etc/ssl/certs/ca-certificates.crt'
size_bytes=$(engine image inspect --format '{{.Size}}' "$IMAGE")
size_mb=$((size_bytes / 1000000))
echo "image size: $size_mb MB ($size_bytes bytes, uncompressed)"
check "the image is at most $MAX_IMAGE_MB MB" test "$size_mb" -le "$MAX_IMAGE_MB"
check "\$HOME ($home) is writable by uid 1000 when the root is writable" \
  engine run --rm --entrypoint sh "$IMAGE" -c 'touch "$HOME/probe"'

echo "== the fake Intercom workspace"
trap stop_fakes EXIT
token="image-test-$RANDOM$RANDOM"
start_fake "$work" "$token"
config="{\"access_token\":\"$token\",\"start_date\":\"2020-01-01T00:00:00Z\",\"base_url\":\"$FAKE_URL\"}"

# What the platform mounts: directories the pod's group (fsGroup 1000) can write to, holding
# files written by an init container.
mkdir -p "$work/config" "$work/source"
chown root:1000 "$work/config" "$work/source"
chmod 0775 "$work/config" "$work/source"
printf '%s\n' "$config" >"$work/config/connectionConfiguration.json"
printf '%s\n' "$config" >"$work/source/connectorConfig.json"
chmod 0644 "$work"/config/*.json "$work"/source/*.json

read_only=(--read-only)
[ "$ENGINE" = podman ] && read_only+=(--read-only-tmpfs=false)
# as_airbyte DIR COMMAND: run COMMAND in the image as the platform does, with DIR (config or
# source) as the working directory; its stdout goes to DIR/out.jsonl, as the platform's does.
as_airbyte() {
  local dir=$1 cmd=$2
  engine run --rm --user 1000:1000 "${read_only[@]}" --cap-drop ALL \
    --security-opt no-new-privileges --network host \
    -v "$work/config:/config" -v "$work/source:/source" -w "/$dir" \
    --entrypoint sh "$IMAGE" -c "eval \"\$AIRBYTE_ENTRYPOINT $cmd\" > /$dir/out.jsonl" \
    2>>"$work/stderr"
}
only_protocol() { ! grep -qv '^{"type":"' "$1"; }
no_error_trace() { ! grep -q '^{"type":"TRACE","trace":{"type":"ERROR"' "$1"; }
out_config=$work/config/out.jsonl
out=$work/source/out.jsonl

echo "== spec, check, discover, read in the image (uid 1000, read-only root)"
code=0; as_airbyte config "spec" || code=$?
check "spec exits 0" test $code = 0
check "spec prints one SPEC message" test "$(grep -c '^{"type":"SPEC"' "$out_config")" = 1
check "spec prints only protocol messages" only_protocol "$out_config"

code=0; as_airbyte config "check --config /config/connectionConfiguration.json" || code=$?
check "check exits 0" test $code = 0
check "check SUCCEEDED against the fake workspace" grep -q '"connectionStatus":{"status":"SUCCEEDED"}' "$out_config"

code=0; as_airbyte config "discover --config /config/connectionConfiguration.json" || code=$?
check "discover exits 0 with one CATALOG" test $code = 0 -a "$(grep -c '^{"type":"CATALOG"' "$out_config")" = 1
cp "$out_config" "$work/discover.jsonl"
py catalog "$work/discover.jsonl" full_refresh >"$work/source/catalog.json"
py catalog "$work/discover.jsonl" incremental >"$work/incremental.json"
chmod 0644 "$work/source/catalog.json"

# The binary, on the host, with the same files: the reference.
binary_read() { # catalog, [state]
  "$CONNECTOR" read --config "$work/source/connectorConfig.json" --catalog "$1" ${2:+--state "$2"}
}

code=0; as_airbyte source "read --config /source/connectorConfig.json --catalog /source/catalog.json" || code=$?
cp "$out" "$work/full.image.jsonl"
binary_read "$work/source/catalog.json" >"$work/full.binary.jsonl"
streams=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["streams"]))' "$work/source/catalog.json")
check "a full refresh of all $streams streams exits 0" test $code = 0
check "it prints only protocol messages, and no ERROR trace" bash -c "$(declare -f only_protocol no_error_trace); only_protocol '$out' && no_error_trace '$out'"
check "every stream COMPLETEs" test "$(grep -c '"status":"COMPLETE"' "$out")" = "$streams"
py records "$work/full.image.jsonl" >"$work/full.image.records"
py records "$work/full.binary.jsonl" >"$work/full.binary.records"
check "its $(wc -l <"$work/full.image.records") records equal the binary's" cmp -s "$work/full.image.records" "$work/full.binary.records"

echo "== incremental reads, the second with the first's state"
cp "$work/incremental.json" "$work/source/catalog.json"
code=0; as_airbyte source "read --config /source/connectorConfig.json --catalog /source/catalog.json" || code=$?
check "an incremental read without state exits 0" test $code = 0
cp "$out" "$work/first.image.jsonl"
py state "$work/first.image.jsonl" >"$work/source/inputState.json"
chmod 0644 "$work/source/inputState.json"
check "it saves a state for every incremental stream" test "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$work/source/inputState.json")" = \
  "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["streams"]))' "$work/incremental.json")"

code=0; as_airbyte source "read --config /source/connectorConfig.json --catalog /source/catalog.json --state /source/inputState.json" || code=$?
cp "$out" "$work/second.image.jsonl"
binary_read "$work/incremental.json" "$work/source/inputState.json" >"$work/second.binary.jsonl"
check "the read with state exits 0, with no ERROR trace" bash -c "test $code = 0 && $(declare -f no_error_trace); no_error_trace '$out'"
check "it resumes from the saved cursors" grep -q 'resuming from' "$out"
check "it reads no record from before its saved cursor" py after-state "$work/incremental.json" "$work/source/inputState.json" "$work/second.image.jsonl"
first=$(grep -c '^{"type":"RECORD"' "$work/first.image.jsonl")
second=$(grep -c '^{"type":"RECORD"' "$work/second.image.jsonl" || true)
check "it reads fewer records ($second) than the read without state ($first)" test "$second" -lt "$first"
py records "$work/second.image.jsonl" >"$work/second.image.records"
py records "$work/second.binary.jsonl" >"$work/second.binary.records"
check "its records equal the binary's with the same state" cmp -s "$work/second.image.records" "$work/second.binary.records"

echo "== failures"
printf '{"streams":[{"stream":{"name":"nope","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"INVALID","destination_sync_mode":"overwrite"}]}\n' >"$work/source/catalog.json"
code=0; as_airbyte source "read --config /source/connectorConfig.json --catalog /source/catalog.json" || code=$?
check "a bad catalog exits non-zero" test $code -ne 0
check "a bad catalog gives a config_error TRACE" grep -q '"failure_type":"config_error"' "$out"

# The same container setup leaves nothing else writable (so the connector wrote nowhere else).
writable() {
  engine run --rm --user 1000:1000 "${read_only[@]}" --network host --entrypoint sh "$IMAGE" \
    -c 'for d in "$HOME" /tmp /airbyte /; do touch "$d/probe" 2>/dev/null && echo "$d"; done; true'
}
check "the root filesystem is read-only: \$HOME, /tmp, /airbyte, / not writable" test -z "$(writable)"
check "nothing on stderr" test ! -s "$work/stderr"
check "the token appears in no output" bash -c "! grep -rq '$token' '$work/config/out.jsonl' '$work'/*.image.jsonl '$work/stderr'"

echo "image: $IMAGE, $size_mb MB"
echo "$passed passed, $failed failed"
test "$failed" = 0
