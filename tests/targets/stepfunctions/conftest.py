"""Fixtures of the Step Functions target's tests: one moto server per session
(Step Functions' interpreter, SQS, S3, Secrets Manager), and the harness
that runs compiled flows in it with a real `flowc worker`. Both are the
engines' (tests/support/engines.py), shared with the conformance matrix."""

from __future__ import annotations

import pytest

from tests.support import engines
from tests.targets.stepfunctions.sfn_harness import Harness


@pytest.fixture(scope="session")
def moto_server():
    return engines.moto_server()


@pytest.fixture(scope="session")
def harness(moto_server) -> Harness:
    return engines.sfn_harness()
