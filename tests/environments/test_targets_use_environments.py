"""Every target gives each step its environment: two steps pinning two
versions of one package get two different images (image mode), or two
different bootstrap specs (bootstrap mode), and the steps without pins keep
the default image."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from flowc.compiler import load_flow
from flowc.compiler.environments import resolve
from flowc.targets import registry

FLOW = Path(__file__).parent / "flows" / "pinned_versions.py"
REGISTRY = "registry.example.com/ml"
OPTIONS = {
    "argo": {},
    "airflow": {"placement": "kubernetes"},
    "prefect": {},
    "stepfunctions": {},
}


def compiled(target: str, mode: str) -> str:
    options = {**OPTIONS[target], "environments": mode, "registry": REGISTRY}
    out = registry.get(target)(options).compile(load_flow(FLOW))
    return "\n".join(data.decode("utf-8") for data in out.files.values())


@pytest.mark.parametrize("target", sorted(OPTIONS))
def test_image_mode_references_one_image_per_environment(target: str) -> None:
    plan = resolve(load_flow(FLOW))
    old, new = plan.of("old").id, plan.of("new").id
    assert old != new
    text = compiled(target, "image")
    images = set(re.findall(rf"{re.escape(REGISTRY)}/pinnedversionsflow:([0-9a-f]{{12}})", text))
    assert images == {old, new}, f"{target} references {images}"


@pytest.mark.parametrize("target", sorted(OPTIONS))
def test_bootstrap_mode_passes_each_step_its_environment(target: str) -> None:
    plan = resolve(load_flow(FLOW))
    text = compiled(target, "bootstrap")
    assert REGISTRY not in text  # no image to build
    for step, version in (("old", "0.8.10"), ("new", "0.9.0")):
        env = plan.of(step)
        spec = {"id": env.id, "image": None, "manager": "pypi", "packages": {"tabulate": version}, "python": None}
        compact = json.dumps(spec, sort_keys=True, separators=(",", ":"))
        # the spec reaches the runtime as one argument; each target writes it its own
        # way (JSON, escaped JSON, a Python dict): compare without quoting and spacing
        plain = re.sub(r"[\s\\]", "", text).replace("None", "null")
        # Prefect's module hands the specs to flowc.engines.prefect's Runtime, which adds --environment
        passed = "--environment" in text if target != "prefect" else "bootstrap=True" in text
        assert passed and compact in plain, target
