"""The default runtime image (the one compiled steps reference) is buildable from a generated context."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

FLOW = REPO / "tests" / "environments" / "flows" / "pinned_versions.py"
TARGETS = ("argo", "airflow", "prefect", "stepfunctions")


def flowc(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "flowc", *args], capture_output=True, text=True, cwd=cwd, timeout=120)
    assert r.returncode == 0, r.stderr
    return r


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The default image's context, written by `flowc environments` with no flow, and the name it builds."""
    out = tmp_path_factory.mktemp("ctx")
    r = flowc("environments", "--build-context", str(out))
    built = re.findall(r"wrote .*/default/\s+->\s+(\S+)", r.stderr)
    assert len(built) == 1, r.stderr
    return out / "default", built[0]


def test_every_target_references_the_image_the_context_builds(context: tuple[Path, str], tmp_path: Path) -> None:
    _, name = context
    repo = name.split(":")[0]
    for target in TARGETS:
        out = tmp_path / target
        out.mkdir()  # a folder: the target names its own files in it
        flowc("compile", str(FLOW), "-t", target, "-o", str(out))
        text = "".join(p.read_text() for p in ([out] if out.is_file() else sorted(out.rglob("*"))) if p.is_file())
        referenced = set(re.findall(rf"(?<![\w/.-]){re.escape(repo)}:[\w.+-]+", text))
        assert referenced == {name}, (target, referenced)


def test_the_flow_build_context_includes_the_default_image(context: tuple[Path, str], tmp_path: Path) -> None:
    r = flowc("environments", str(FLOW), "--build-context", str(tmp_path))
    assert f"/default/  ->  {context[1]}" in r.stderr
    assert (tmp_path / "default" / "Dockerfile").read_bytes() == (context[0] / "Dockerfile").read_bytes()


def test_the_dockerfile_passes_hadolint_and_pins_everything(context: tuple[Path, str]) -> None:
    folder, _ = context
    hadolint = Path(sys.executable).with_name("hadolint")
    lint = subprocess.run([str(hadolint), "--failure-threshold", "info", str(folder / "Dockerfile")],
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
    reqs = (folder / "requirements.txt").read_text().splitlines()
    assert reqs and all(re.fullmatch(r"[\w.-]+==[\w.+-]+", r) for r in reqs), reqs
    pinned = {r.split("==")[0].lower().replace("_", "-") for r in reqs}
    assert {"fsspec", "libcst", "jinja2"} <= pinned
    from importlib import metadata

    from flowc.build_context import _name

    for name in list(pinned):  # every dependency installed here is pinned too, transitively
        for req in metadata.requires(name) or []:
            dep = _name(req)
            installed = next(iter(metadata.distributions(name=dep)), None)
            if "extra ==" not in req and installed is not None:
                assert dep.lower().replace("_", "-") in pinned, (name, req)
    text = (folder / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+-slim$", text, re.M)


def test_the_wheel_is_this_flowc_and_installs(context: tuple[Path, str], tmp_path: Path) -> None:
    """The context's wheel holds every installed file of flowc, and a fresh venv runs flowc from it."""
    import flowc as pkg
    from flowc import __version__

    folder, _ = context
    wheels = list(folder.glob("*.whl"))
    assert [w.name for w in wheels] == [f"flowc-{__version__}-py3-none-any.whl"]
    names = set(zipfile.ZipFile(wheels[0]).namelist())
    for rel in ("flowc/cli.py", "flowc/commands/compile.py", "flowc/runtime/task.py", "flowc/compiler/ir.py"):
        assert rel in names
    assert zipfile.ZipFile(wheels[0]).read("flowc/__init__.py") == Path(pkg.__file__).read_bytes()
    uv = Path(sys.executable).with_name("uv")
    venv = tmp_path / "venv"
    subprocess.run([str(uv), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    subprocess.run([str(uv), "pip", "install", "--quiet", "--offline", "--python", str(venv / "bin" / "python"),
                    str(wheels[0])], check=True)
    r = subprocess.run([str(venv / "bin" / "flowc"), "compile", str(FLOW), "-t", "argo"], capture_output=True,
                       text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "kind: Workflow" in r.stdout
