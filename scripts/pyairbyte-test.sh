#!/usr/bin/env bash
# PyAirbyte (pinned in scripts/airbyte/requirements-pyairbyte.txt, in its own venv) reads every
# stream of a fake Intercom workspace into its default cache, then reads again with the state it
# saved; scripts/airbyte/pyairbyte_check.py says what it checks.
#
#   scripts/pyairbyte-test.sh            the binary, as PyAirbyte's local executable
#   scripts/pyairbyte-test.sh --image    then the image, as PyAirbyte's docker image (built, or
#                                        reused from this run's build by scripts/image-test.sh)
#   scripts/pyairbyte-test.sh --prepare  only make the venv
#
# Run by .ci/run. Exits non-zero if a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

python_venv pyairbyte scripts/airbyte/requirements-pyairbyte.txt
[ "${1:-}" = --prepare ] && exit 0
build_binaries
work=$TARGET_DIR/pyairbyte
rm -rf "$work"

echo "== PyAirbyte with the binary (local_executable)"
"$VENV/bin/python" scripts/airbyte/pyairbyte_check.py \
  --connector "$CONNECTOR" --fake "$FAKE" --work "$work/executable"

if [ "${1:-}" = --image ]; then
  source scripts/container-engine.sh
  engine_setup
  build_image
  echo "== PyAirbyte with the image (docker_image)"
  "$VENV/bin/python" scripts/airbyte/pyairbyte_check.py \
    --connector "$CONNECTOR" --fake "$FAKE" --work "$work/image" --image "$IMAGE"
fi
