"""Airbyte's standard tests (airbyte-cdk) for source-intercom, run by scripts/standard-tests.sh.

The scenarios come from acceptance-test-config.yml at the repository root. The in-process tests
run the binary through the adapter `BinarySource`; the tests marked `image_tests` run the image
given by `--connector-image` with `docker`.
"""

from pathlib import Path

from airbyte_cdk.test.standard_tests import SourceTestSuiteBase

from binary_source import REPO, BinarySource


class TestSourceIntercom(SourceTestSuiteBase):
    connector = BinarySource

    @classmethod
    def get_connector_root_dir(cls) -> Path:
        return REPO
