#!/usr/bin/env bash
# The image, tested without a Docker engine: rebuild the Dockerfile's runtime stage as a
# Debian bookworm root (debootstrap minbase, the same base debian:bookworm-slim is made
# from), replay that stage's RUN, COPY, ENV, USER and ENTRYPOINT, then run the connector in
# it the way the Airbyte platform does: as uid 1000, through
# `/bin/sh -c 'eval "$AIRBYTE_ENTRYPOINT <command> <args>"'`, with the config, catalog and
# state at the paths the platform mounts, and the fake Intercom workspace as the API.
#
# Needs root (debootstrap, chroot) and the Debian package archive. Run by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

work=target/image-test
base=$work/base
root=$work/root
mkdir -p "$work"

passed=0
failed=0
ok() { echo "ok   - $1"; passed=$((passed + 1)); }
fail() { echo "FAIL - $1"; failed=$((failed + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }

echo "== building the release binaries"
cargo build --release --locked --quiet -p source-intercom --bin source-intercom -p fake-intercom --bin fake-intercom

echo "== the base root (debian bookworm, minbase)"
if ! command -v debootstrap >/dev/null; then
  apt-get update -qq && apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi
if [ ! -x "$base/bin/sh" ]; then
  rm -rf "$base"
  debootstrap --variant=minbase bookworm "$base" >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; exit 1; }
fi
rm -rf "$root"
cp -a "$base" "$root"
cp /etc/resolv.conf "$root/etc/resolv.conf"

echo "== replaying the Dockerfile's runtime stage"
# The last stage, continuation lines joined, comments dropped.
stage=$(awk '/^FROM /{buf=""} {buf = buf $0 "\n"} END {printf "%s", buf}' Dockerfile \
  | sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta' | grep -v '^\s*#' | grep -v '^\s*$')
entrypoint="" user="" workdir="/" envs=()
while IFS= read -r line; do
  instr=${line%% *}; rest=${line#* }
  case "$instr" in
    FROM) echo "base: $rest" ;;
    RUN) echo "RUN ${rest:0:100}..."; chroot "$root" /bin/sh -c "$rest" >"$work/run.log" 2>&1 || { cat "$work/run.log"; exit 1; } ;;
    COPY)
      # COPY --from=build /src/target/release/source-intercom DEST: our release binary.
      dest=${rest##* }
      mkdir -p "$root$(dirname "$dest")"
      install -m 0755 target/release/source-intercom "$root$dest"
      echo "COPY -> $dest" ;;
    ENV) for kv in $rest; do envs+=("${kv//\"/}"); done ;;
    ENTRYPOINT) entrypoint=$rest ;;
    USER) user=$rest ;;
    WORKDIR) workdir=$rest ;;
    LABEL) ;;
    *) echo "unhandled instruction: $instr"; exit 1 ;;
  esac
done <<<"$stage"

airbyte_entrypoint=""
for kv in "${envs[@]}"; do [ "${kv%%=*}" = AIRBYTE_ENTRYPOINT ] && airbyte_entrypoint=${kv#*=}; done
exec_form=$(echo "$entrypoint" | sed 's/^\[//; s/\]$//; s/", *"/ /g; s/"//g')
check "ENV AIRBYTE_ENTRYPOINT ($airbyte_entrypoint) equals the exec-form ENTRYPOINT ($exec_form)" test "$airbyte_entrypoint" = "$exec_form"
check "AIRBYTE_ENTRYPOINT is an absolute path" test "${airbyte_entrypoint:0:1}" = /
uid=$(chroot "$root" id -u "$user")
check "USER $user has uid 1000" test "$uid" = 1000
check "the image has /bin/sh" test -x "$root/bin/sh"
check "the image has CA certificates" test -s "$root/etc/ssl/certs/ca-certificates.crt"
size=$(du -sm --exclude=proc "$root" | cut -f1)
echo "runtime root: ${size} MiB uncompressed (debootstrap minbase, larger than bookworm-slim)"

# The platform mounts these: written by an init container, read-only to the connector,
# in directories the pod's group (fsGroup 1000) can write to.
mkdir -p "$root/config" "$root/source"
chown root:1000 "$root/config" "$root/source"
chmod 0775 "$root/config" "$root/source"

echo "== the fake Intercom workspace"
mkfifo "$work/fake.out" 2>/dev/null || true
token="image-test-$RANDOM$RANDOM"
target/release/fake-intercom --port 0 --token "$token" >"$work/fake.out" 2>"$work/fake.err" &
fake_pid=$!
trap 'kill $fake_pid 2>/dev/null || true' EXIT
read -r base_url <"$work/fake.out"
config="{\"access_token\":\"$token\",\"start_date\":\"2020-01-01T00:00:00Z\",\"base_url\":\"$base_url\"}"
printf '%s\n' "$config" >"$root/config/connectionConfiguration.json"
printf '%s\n' "$config" >"$root/source/connectorConfig.json"
cat >"$root/source/catalog.json" <<'JSON'
{"streams":[
 {"stream":{"name":"admins","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"},
 {"stream":{"name":"conversations","json_schema":{},"supported_sync_modes":["full_refresh","incremental"]},"sync_mode":"incremental","destination_sync_mode":"append"},
 {"stream":{"name":"companies","json_schema":{},"supported_sync_modes":["full_refresh","incremental"]},"sync_mode":"incremental","destination_sync_mode":"append"}
]}
JSON
cat >"$root/source/inputState.json" <<'JSON'
[{"type":"STREAM","stream":{"stream_descriptor":{"name":"conversations"},"stream_state":{"updated_at":1700000000}}}]
JSON
chmod 0644 "$root"/config/*.json "$root"/source/*.json

# As the platform: uid 1000, the image's environment only, `sh -c` with eval.
in_image() { # dir, command line, stdout file
  local dir=$1 cmd=$2 out=$3
  chroot --userspec=1000:1000 "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin "${envs[@]}" \
    /bin/sh -c "cd $dir && eval \"\$AIRBYTE_ENTRYPOINT $cmd\" > $out" 2>"$work/stderr"
}
only_protocol() { ! grep -qv '^{"type":"' "$1"; }

echo "== spec, check, read inside the image as uid 1000"
code=0; in_image /config "spec" /config/jobOutput.json || code=$?
check "spec exits 0" test $code = 0
check "spec prints one SPEC message" test "$(grep -c '^{"type":"SPEC"' "$root/config/jobOutput.json")" = 1
check "spec prints only protocol messages" only_protocol "$root/config/jobOutput.json"

code=0; in_image /config "check --config /config/connectionConfiguration.json" /config/jobOutput.json || code=$?
check "check exits 0" test $code = 0
check "check SUCCEEDED against the fake workspace" grep -q '"connectionStatus":{"status":"SUCCEEDED"}' "$root/config/jobOutput.json"

code=0; in_image /config "discover --config /config/connectionConfiguration.json" /config/jobOutput.json || code=$?
check "discover exits 0 with a CATALOG" test $code = 0 -a "$(grep -c '^{"type":"CATALOG"' "$root/config/jobOutput.json")" = 1

code=0; in_image /source "read --config /source/connectorConfig.json --catalog /source/catalog.json --state /source/inputState.json" /source/stdout || code=$?
out="$root/source/stdout"
check "read exits 0" test $code = 0
check "read prints only protocol messages" only_protocol "$out"
check "read emits records" test "$(grep -c '^{"type":"RECORD"' "$out")" -gt 0
for s in admins conversations companies; do
  check "read emits a STATE for $s" grep -q "\"stream_descriptor\":{\"name\":\"$s\"},\"stream_state\"" "$out"
  check "read completes $s" grep -q "\"stream_descriptor\":{\"name\":\"$s\"},\"status\":\"COMPLETE\"" "$out"
done
check "read resumed conversations from the state" grep -q 'resuming from updated_at = 1700000000' "$out"
check "no ERROR trace" bash -c "! grep -q '^{\"type\":\"TRACE\",\"trace\":{\"type\":\"ERROR\"' '$out'"
check "nothing on stderr" test ! -s "$work/stderr"
check "the token appears nowhere" bash -c "! grep -rq '$token' '$root/source/stdout' '$root/config/jobOutput.json' '$work/stderr'"

printf '{"streams":[{"stream":{"name":"nope","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"INVALID","destination_sync_mode":"overwrite"}]}\n' >"$root/source/catalog.json"
code=0; in_image /source "read --config /source/connectorConfig.json --catalog /source/catalog.json" /source/stdout || code=$?
check "a bad catalog exits non-zero" test $code -ne 0
check "a bad catalog gives a config_error TRACE" grep -q '"failure_type":"config_error"' "$out"

check "HOME is writable by uid 1000" chroot --userspec=1000:1000 "$root" /bin/sh -c 'touch "$0/probe"' "$(printf '%s\n' "${envs[@]}" | sed -n 's/^HOME=//p')"
check "/airbyte is writable by uid 1000" chroot --userspec=1000:1000 "$root" /bin/sh -c 'touch /airbyte/probe'

echo "$passed passed, $failed failed"
test "$failed" = 0
