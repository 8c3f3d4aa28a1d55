"""Shared helpers of the Argo target's tests: the corpus, compiling as the CLI does."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

from tests.targets.argo.argo_checks import SCHEMAS

REPO = Path(__file__).resolve().parents[3]
GOLDEN_ARGO = REPO / "tests" / "golden" / "argo"

SCHEMA_FILES = ("workflow.schema.strict.json", "workflow.schema.crd-strict.json")


def requires_schemas(test):
    """Marks a test that validates against Argo's schemas. They are part of the
    repository (tests/data/argo), so a missing file fails the test: never a skip."""

    @functools.wraps(test)
    def checked(*args, **kwargs):
        missing = [name for name in SCHEMA_FILES if not (SCHEMAS / name).is_file()]
        if missing:
            pytest.fail(f"Argo's JSON schemas {missing} are missing from {SCHEMAS} (see its README)")
        return test(*args, **kwargs)

    return checked


def compile_argo(path: Path, options: dict | None = None, *, package: bool = True, unsupported: str = "error"):
    """Compile a corpus flow as `flowc compile --target argo` does: the IR
    read from the repository root, and tasks pointed at the code package
    (computed, not uploaded) unless ``package`` is false or an option names one."""
    from flowc.targets.argo import ArgoTarget
    from tests.conftest import load_ir

    flow = load_ir(path)
    target = ArgoTarget(options or {}, unsupported_level="warning" if unsupported == "warn" else "error")
    if package and not target.option("code_package"):
        from flowc.packaging import code_package

        cwd = os.getcwd()
        os.chdir(REPO)
        try:
            _, target.package_sha = code_package(flow, path.relative_to(REPO) if path.is_relative_to(REPO) else path)
        finally:
            os.chdir(cwd)
    return target.compile(flow)


def single_file(output) -> bytes:
    assert len(output.files) == 1, sorted(output.files)
    return next(iter(output.files.values()))
