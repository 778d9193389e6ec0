"""An airbyte-cdk `Source` that runs the connector's binary for every command.

Airbyte's standard tests (airbyte_cdk.test.standard_tests) run a Python `Source` in-process
through the CDK's entrypoint. This adapter hands each command to the real connector: it writes
the config, catalog and state it is given to files, runs

    source-intercom <command> --config ... [--catalog ...] [--state ...]

and turns the connector's stdout back into messages. The catalog and the state are passed on
exactly as the test wrote them (not parsed first), so that a deliberately invalid catalog reaches
the connector.

The binary is $SOURCE_INTERCOM_BIN (scripts/standard-tests.sh sets it), by default
target/release/source-intercom in the repository.
(The image is tested by the standard tests' own image tests, with `--connector-image`.)
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Iterator, Mapping

from airbyte_cdk.models import (
    AirbyteCatalog,
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteMessageSerializer,
    ConnectorSpecification,
    FailureType,
    Type,
)
from airbyte_cdk.sources import Source
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

REPO = Path(__file__).resolve().parents[2]


class ConnectorFailed(Exception):
    """The connector failed: it exited non-zero, or printed not the message its command must."""


class BinarySource(Source):
    """The Rust connector, seen by the CDK as a Python source."""

    # The connector validates its own config; let every config reach it.
    check_config_against_spec = False

    @staticmethod
    def _binary() -> str:
        return os.environ.get("SOURCE_INTERCOM_BIN") or str(
            REPO / "target" / "release" / "source-intercom"
        )

    def _run(
        self, args: list[str], inputs: Mapping[str, Any]
    ) -> tuple[list[AirbyteMessage], int, str]:
        """Run the connector with `inputs` written to files (`--name path`).

        Returns its messages (every stdout line), its exit code and its stderr.
        """
        files = Path(tempfile.mkdtemp(prefix="source-intercom-"))
        try:
            for name, value in inputs.items():
                path = files / f"{name}.json"
                path.write_text(json.dumps(value))
                args = args + [f"--{name}", str(path)]
            proc = subprocess.run(
                [self._binary(), *args],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                check=False,
            )
        finally:
            shutil.rmtree(files, ignore_errors=True)
        messages = [
            AirbyteMessageSerializer.load(json.loads(line)) for line in proc.stdout.splitlines()
        ]
        return messages, proc.returncode, proc.stderr

    @staticmethod
    def _fail(args: list[str], code: int, stderr: str, messages: list[AirbyteMessage]) -> None:
        """Raise the connector's own error (its TRACE ERROR) if it printed one, else a plain failure."""
        for m in messages:
            if m.type == Type.TRACE and m.trace.error is not None:
                error = m.trace.error
                raise AirbyteTracedException(
                    message=error.message,
                    internal_message=error.internal_message,
                    failure_type=error.failure_type or FailureType.system_error,
                )
        if code != 0:
            raise ConnectorFailed(f"`{args[0]}` exited with code {code}; stderr: {stderr[-2000:]}")

    def _single(self, args: list[str], inputs: Mapping[str, Any], kind: Type) -> Any:
        """The one message of `kind` a spec, check or discover prints, or the connector's error."""
        messages, code, stderr = self._run(args, inputs)
        self._fail(args, code, stderr, messages)
        found = [m for m in messages if m.type == kind]
        if len(found) != 1:
            raise ConnectorFailed(f"`{args[0]}` printed {len(found)} {kind.value} messages")
        return found[0]

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        return self._single(["spec"], {}, Type.SPEC).spec

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        return self._single(["check"], {"config": config}, Type.CONNECTION_STATUS).connectionStatus

    def discover(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteCatalog:
        return self._single(["discover"], {"config": config}, Type.CATALOG).catalog

    # The catalog and state files go to the connector as the test wrote them.
    @classmethod
    def read_catalog(cls, catalog_path: str) -> Any:
        return json.loads(Path(catalog_path).read_text())

    @classmethod
    def read_state(cls, state_path: str) -> Any:
        return json.loads(Path(state_path).read_text()) if state_path else None

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: Any,
        state: Any = None,
    ) -> Iterator[AirbyteMessage]:
        inputs: dict[str, Any] = {"config": config, "catalog": catalog}
        if state is not None:
            inputs["state"] = state
        messages, code, stderr = self._run(["read"], inputs)
        # Every message goes through, the connector's TRACE ERROR included; a non-zero exit
        # then fails the read as it fails a sync.
        yield from messages
        if code != 0:
            raise ConnectorFailed(f"`read` exited with code {code}; stderr: {stderr[-2000:]}")
