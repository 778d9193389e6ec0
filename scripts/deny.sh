#!/usr/bin/env bash
# The dependency policy (deny.toml): licenses, banned crates and sources, checked with
# cargo-deny. Advisories are not checked here: their database is fetched from GitHub,
# which CI machines cannot reach.
#
#   scripts/deny.sh            install cargo-deny if needed, then check
#   scripts/deny.sh --prepare  only install it (CI starts this in the background)
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.20.2
tools=target/tools
deny=$tools/bin/cargo-deny

if ! { [ -x "$deny" ] && "$deny" --version 2>/dev/null | grep -q " $version\$"; }; then
  echo "== installing cargo-deny $version (from crates.io, built here)"
  # A debug build: 1m20s instead of 3m45s on 2 cores (while CI's own builds need the
  # CPU), and the check still takes only about 3 s.
  cargo install --debug --quiet --locked --no-default-features --version "$version" \
    --root "$tools" cargo-deny
fi
[ "${1:-}" = "--prepare" ] && exit 0

echo "== cargo deny check licenses bans sources"
"$deny" --log-level warn check licenses bans sources
