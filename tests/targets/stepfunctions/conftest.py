"""Fixtures of the Step Functions target's tests: one moto server per session
(Step Functions' interpreter, SQS, S3, Secrets Manager), and the harness
that runs compiled flows in it with a real `flowc worker`."""

from __future__ import annotations

import pytest

from tests.targets.stepfunctions.sfn_harness import Harness, MotoServer


@pytest.fixture(scope="session")
def moto_server():
    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def harness(moto_server, tmp_path_factory) -> Harness:
    return Harness(moto_server, tmp_path_factory.mktemp("sfn"))
