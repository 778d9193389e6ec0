# Sourced by the scripts under scripts/: the release binaries, a fake Intercom workspace,
# configs for it, and Python virtual environments.

TARGET_DIR=${CARGO_TARGET_DIR:-target}
# The binaries' cargo profile: release (the default), or debug where `cargo test` built them already.
PROFILE=${SOURCE_INTERCOM_PROFILE:-release}
CONNECTOR=$TARGET_DIR/$PROFILE/source-intercom
FAKE=$TARGET_DIR/$PROFILE/fake-intercom
# No __pycache__ in the work tree.
export PYTHONDONTWRITEBYTECODE=1
# Virtual environments live outside the clone and are reused while their requirements stay the same.
VENV_CACHE=${SOURCE_INTERCOM_VENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/source-intercom}

build_binaries() {
  local release=()
  [ "$PROFILE" = release ] && release=(--release)
  cargo build "${release[@]}" --locked --quiet -p source-intercom --bin source-intercom -p fake-intercom --bin fake-intercom
}

FAKE_PIDS=()
stop_fakes() {
  local pid
  for pid in "${FAKE_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  FAKE_PIDS=()
}

# start_fake DIR TOKEN [fake-intercom flags...]: serve a fake workspace; sets FAKE_URL.
# Its reporting export jobs are complete at the first status poll: the suites read every
# report stream several times, and `cargo test` covers jobs that take polls.
start_fake() {
  local dir=$1 token=$2
  shift 2
  mkdir -p "$dir"
  rm -f "$dir/fake.out"
  mkfifo "$dir/fake.out"
  "$FAKE" --port 0 --token "$token" --report-job-polls 0 "$@" >"$dir/fake.out" 2>"$dir/fake.err" &
  FAKE_PIDS+=($!)
  read -r FAKE_URL <"$dir/fake.out"
}

# write_secrets URL TOKEN: secrets/config.json (integration_tests/sample_config.json with this
# token) and secrets/invalid_config.json (integration_tests/invalid_config.json), both pointed at
# the fake. secrets/ ignores itself in git.
write_secrets() {
  local url=$1 token=$2
  mkdir -p secrets
  printf '*\n' >secrets/.gitignore
  python3 - "$url" "$token" <<'PY'
import json, sys
url, token = sys.argv[1:]
good = json.load(open("integration_tests/sample_config.json"))
good.update(access_token=token, base_url=url)
bad = json.load(open("integration_tests/invalid_config.json"))
bad["base_url"] = url
json.dump(good, open("secrets/config.json", "w"), indent=2)
json.dump(bad, open("secrets/invalid_config.json", "w"), indent=2)
PY
}

# python_venv NAME REQUIREMENTS: a venv with these pinned requirements; sets VENV to its path.
python_venv() {
  local name=$1 req=$2 hash
  hash=$(sha256sum "$req" | cut -c1-12)
  VENV=$VENV_CACHE/venv-$name-$hash
  if [ ! -e "$VENV/.complete" ]; then
    echo "== creating $VENV (pip install -r $req)"
    rm -rf "$VENV"
    mkdir -p "$VENV_CACHE"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$req"
    touch "$VENV/.complete"
  fi
}
