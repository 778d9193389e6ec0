#!/usr/bin/env bash
# Airbyte's standard connector tests (airbyte-cdk's `standard_tests`, pinned in
# scripts/airbyte/requirements-standard-tests.txt, in a venv this script makes with pip) against a
# fake Intercom workspace, with the scenarios of acceptance-test-config.yml:
#
#   scripts/standard-tests.sh            the binary: every test that runs the connector in-process,
#                                        through the adapter scripts/airbyte/binary_source.py
#   scripts/standard-tests.sh --image    then the image: the tests that run it with `docker`
#                                        (--connector-image), through the container engine of
#                                        scripts/container-engine.sh; the image is built, or reused
#                                        from this run's build by scripts/image-test.sh
#   scripts/standard-tests.sh --prepare  only make the venv
#
# Run by .ci/run. Exits non-zero if a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

python_venv standard-tests scripts/airbyte/requirements-standard-tests.txt
[ "${1:-}" = --prepare ] && exit 0
build_binaries

work=$TARGET_DIR/standard-tests
mkdir -p "$work"
trap stop_fakes EXIT
token="standard-tests-$RANDOM$RANDOM"
start_fake "$work" "$token"
write_secrets "$FAKE_URL" "$token"

pytest_run() { # name, extra pytest arguments...
  local name=$1
  shift
  echo "== Airbyte's standard tests against the $name"
  "$VENV/bin/python" -m pytest scripts/airbyte/test_standard.py \
    -p airbyte_cdk.test.standard_tests.pytest_hooks -p no:cacheprovider \
    -q -rfEs --junitxml="$work/$name.xml" "$@"
}

SOURCE_INTERCOM_BIN=$CONNECTOR pytest_run binary -m "not image_tests"

if [ "${1:-}" = --image ]; then
  source scripts/container-engine.sh
  engine_setup
  build_image
  # test_docker_image_spec_backward_compatibility compares the spec with the latest published
  # version, fetched from Airbyte's public connector registry: this connector is not published
  # there, and CI has no network beyond the package registries, so it is deselected.
  pytest_run image -m image_tests --connector-image "$IMAGE" --read-from-streams=all \
    --deselect scripts/airbyte/test_standard.py::TestSourceIntercom::test_docker_image_spec_backward_compatibility
fi
