"""Shared test helpers: the corpus of flows every target is tested against."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((REPO / "examples").glob("*.py"))
FIXTURES = sorted((REPO / "tests" / "flows").glob("*.py"))
# flows written as Metaflow users write them (configs, included files, base
# classes in sibling modules): the files at its top are flows, its packages
# hold the modules they import
COMPAT = sorted((REPO / "tests" / "flows" / "metaflow_compat").glob("*.py"))
FIXTURES = FIXTURES + COMPAT
ALL_FLOWS = EXAMPLES + FIXTURES
GOLDEN = REPO / "tests" / "golden"

# flowc's cache (analyses, compiled templates) goes to a folder of this test
# session, not the user's cache folder; every process a test starts inherits it
if "FLOWC_CACHE_DIR" not in os.environ:
    import atexit
    import shutil
    import tempfile

    os.environ["FLOWC_CACHE_DIR"] = tempfile.mkdtemp(prefix="flowc-test-cache-")
    atexit.register(shutil.rmtree, os.environ["FLOWC_CACHE_DIR"], True)


# a @project flow without a branch deploys as PROJECT.user.NAME (targets/naming.py):
# the same NAME for every test run, whoever runs them
os.environ.setdefault("METAFLOW_USER", "flowc")


def flow_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--regen-golden", action="store_true",
                     help="rewrite golden files from the current output (read every diff before committing)")


@pytest.fixture
def regen(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--regen-golden"))


@functools.lru_cache(maxsize=None)
def load_ir(path: Path):
    """The IR of a corpus flow, compiled from the repository root (paths relative to it)."""
    from flowc.compiler import load_flow

    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        return load_flow(path)
    finally:
        os.chdir(cwd)


def check_golden(path: Path, actual: bytes, regen: bool) -> None:
    """Compare with a golden file; rewrite it only with --regen-golden."""
    if regen:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual)
        return
    if not path.exists():
        pytest.fail(f"missing golden file {path.relative_to(REPO)}; create it with --regen-golden and read it")
    expected = path.read_bytes()
    if expected != actual:
        import difflib

        diff = "".join(difflib.unified_diff(
            expected.decode("utf-8", "replace").splitlines(True), actual.decode("utf-8", "replace").splitlines(True),
            "golden", "actual", n=2))
        pytest.fail(f"{path.relative_to(REPO)} differs from the output:\n{diff[:6000]}")


@pytest.fixture(autouse=True)
def _fresh_fsspec_clients():
    """fsspec keeps one S3 client per set of arguments for the whole process;
    the endpoint of a test's S3 server (moto) comes from the environment, so a
    client kept from an earlier test would still point at a stopped server."""
    yield
    import sys

    s3fs = sys.modules.get("s3fs")
    if s3fs is not None:
        s3fs.S3FileSystem.clear_instance_cache()


@pytest.fixture(scope="session", autouse=True)
def _engine_services():
    """The engines' services (tests/support/engines.py) start on first use and stop with the session."""
    yield
    import sys

    engines = sys.modules.get("tests.support.engines")
    if engines is not None:
        engines.close_all()
