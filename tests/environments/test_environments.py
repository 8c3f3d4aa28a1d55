"""Per-step environments: ids, local venvs, bootstrap, build contexts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flowc.compiler import analyze_source, load_flow
from flowc.compiler.environments import resolve
from flowc.runtime.client import Run
from flowc.runtime.environment import find_python
from tests.conftest import REPO

FLOWS = Path(__file__).parent / "flows"


@pytest.fixture(scope="session")
def env_cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("envs"))


def flowc(*args: str, env_cache: str, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "FLOWC_ENV_CACHE": env_cache, **(extra_env or {})}
    return subprocess.run([sys.executable, "-m", "flowc", *args], capture_output=True, text=True, cwd=REPO, env=env,
                          timeout=600)


def plan_of(decorators: str):
    src = textwrap.dedent(f'''
        from flowc import FlowSpec, pypi, step

        class EnvFlow(FlowSpec):
            {decorators}
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
    ''')
    analysis = analyze_source(src, "env_flow.py")
    assert analysis.ok, [d.message for d in analysis.diagnostics]
    return resolve(analysis.flows[0])


def test_environment_ids_are_stable_and_shared() -> None:
    a = plan_of('@pypi(packages={"tabulate": "0.9.0", "six": "1.16.0"}, python="3.11")')
    b = plan_of('@pypi(python="3.11", packages={"six": "1.16.0", "tabulate": "0.9.0"})')
    c = plan_of('@pypi(packages={"tabulate": "0.9.0", "six": "1.15.0"}, python="3.11")')
    d = plan_of('@pypi(packages={"Tabulate": "0.9.0", "six": "1.16.0"}, python="3.11")')
    assert a.by_step["start"] == b.by_step["start"] == d.by_step["start"]
    assert a.by_step["start"] != c.by_step["start"]
    assert a.by_step["end"] == "default"


def test_steps_with_the_same_needs_share_an_environment() -> None:
    flow = load_flow(FLOWS / "pinned_versions.py")
    plan = resolve(flow)
    assert [e.steps for e in plan.environments] == [("start", "join", "end"), ("old",), ("new",)]
    assert len({e.id for e in plan.environments}) == 3


def test_flowc_run_gives_each_step_its_own_versions(env_cache: str, tmp_path: Path) -> None:
    ds = str(tmp_path / "ds")
    r = flowc("run", str(FLOWS / "pinned_versions.py"), "--datastore", ds, "-q", env_cache=env_cache)
    assert r.returncode == 0, r.stderr
    assert Run("PinnedVersionsFlow/1", ds)["join"].task.data.versions == ["0.8.10", "0.9.0"]
    again = flowc("run", str(FLOWS / "pinned_versions.py"), "--datastore", ds, "-q", env_cache=env_cache)
    assert again.returncode == 0 and again.stderr.count("(cached)") == 2


@pytest.mark.skipif(find_python("3.12") is None, reason="no Python 3.12 interpreter on this machine")
def test_a_step_can_pin_another_python(env_cache: str, tmp_path: Path) -> None:
    ds = str(tmp_path / "ds")
    r = flowc("run", str(FLOWS / "python_pin.py"), "--datastore", ds, "-q", env_cache=env_cache)
    assert r.returncode == 0, r.stderr
    run = Run("PythonPinFlow/1", ds)
    assert run["other"].task.data.inner == [3, 12] and run["other"].task.data.tab == "0.9.0"
    assert run["start"].task.data.outer == list(sys.version_info[:2])


def test_no_environments_warns_for_each_unmet_pin(env_cache: str, tmp_path: Path) -> None:
    flow = tmp_path / "one_step_pins.py"
    flow.write_text((FLOWS / "pinned_versions.py").read_text().replace(
        'assert tabulate.__version__ == "0.8.10", tabulate.__version__', "").replace(
        'assert tabulate.__version__ == "0.9.0", tabulate.__version__', ""))
    r = flowc("run", str(flow), "--datastore", str(tmp_path / "ds"), "--no-environments", "-q", env_cache=env_cache)
    assert r.returncode == 0, r.stderr
    from importlib import metadata

    here = metadata.version("tabulate")
    warnings = [line for line in r.stderr.splitlines() if line.startswith("warning: --no-environments")]
    assert warnings == [
        f"warning: --no-environments: old runs here without tabulate==0.8.10 (here: {here})",
        f"warning: --no-environments: new runs here without tabulate==0.9.0 (here: {here})",
    ]


def test_conda_without_conda_is_one_clear_message_before_any_step(env_cache: str, tmp_path: Path) -> None:
    flow = tmp_path / "conda_flow.py"
    flow.write_text(textwrap.dedent('''
        from flowc import FlowSpec, conda, step

        class CondaFlow(FlowSpec):
            @conda(packages={"numpy": "1.26.4"})
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
    '''))
    ds = tmp_path / "ds"
    r = flowc("run", str(flow), "--datastore", str(ds), env_cache=env_cache, extra_env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 2
    assert "@conda on start needs conda, mamba or micromamba, and none is installed" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (ds / "CondaFlow" / "runs").exists()


def test_bootstrap_builds_the_environment_in_the_container(env_cache: str, tmp_path: Path) -> None:
    """What a container does with --environment: build (or reuse) and run in it."""
    flow = load_flow(FLOWS / "pinned_versions.py")
    from flowc.compiler import ir

    ir_path = tmp_path / "PinnedVersionsFlow.ir.json"
    ir_path.write_text(ir.dump(flow))
    env = resolve(flow).of("old").to_json()
    env.pop("steps")
    common = ["--flow", str(FLOWS / "pinned_versions.py"), "--ir", str(ir_path), "--run-id", "b1", "--attempt", "0",
              "--datastore", str(tmp_path / "ds"), "--index", "0"]
    base = {**os.environ, "FLOWC_ENV_CACHE": env_cache}
    subprocess.run([sys.executable, "-m", "flowc.runtime", "step", "--step", "start", *common], check=True, env=base,
                   cwd=tmp_path, capture_output=True)
    r = subprocess.run([sys.executable, "-m", "flowc.runtime", "step", "--step", "old", *common,
                        "--environment", json.dumps(env), "--env-cache", str(tmp_path / "volume")],
                       capture_output=True, text=True, env=base, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert Run("PinnedVersionsFlow/b1", str(tmp_path / "ds"))["old"].task.data.version == "0.8.10"
    built = list((tmp_path / "volume").glob(f"{env['id']}-*/.flowc-complete"))
    assert len(built) == 1, built


def test_build_contexts_are_valid_dockerfiles_with_exactly_the_pins(tmp_path: Path) -> None:
    out = tmp_path / "ctx"
    r = subprocess.run([sys.executable, "-m", "flowc", "environments", str(FLOWS / "pinned_versions.py"),
                        "--registry", "registry.example.com/ml", "--build-context", str(out)],
                       capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stderr
    plan = resolve(load_flow(FLOWS / "pinned_versions.py"))
    hadolint = Path(sys.executable).with_name("hadolint")
    for env in plan.custom:
        folder = out / env.id
        assert f"registry.example.com/ml/pinnedversionsflow:{env.id}" in r.stdout
        lint = subprocess.run([str(hadolint), "--failure-threshold", "info", str(folder / "Dockerfile")],
                              capture_output=True, text=True)
        assert lint.returncode == 0, lint.stdout
        reqs = (folder / "requirements.txt").read_text().splitlines()
        user_pins = [r for r in reqs if r.split("==")[0] not in ("fsspec", "s3fs")]
        assert user_pins == env.requirements()
        assert all("==" in r for r in reqs)
        assert (folder / "flowc" / "runtime" / "task.py").is_file()
        assert (folder / "Dockerfile").read_text().startswith(f"# Environment {env.id} of PinnedVersionsFlow")
    again = tmp_path / "ctx2"
    subprocess.run([sys.executable, "-m", "flowc", "environments", str(FLOWS / "pinned_versions.py"),
                    "--build-context", str(again)], check=True, capture_output=True, cwd=REPO)
    for env in plan.custom:
        assert (again / env.id / "Dockerfile").read_bytes() == (out / env.id / "Dockerfile").read_bytes()


def test_build_says_clearly_when_it_cannot(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "flowc", "environments", str(FLOWS / "pinned_versions.py"), "--build",
                        "--build-context", str(tmp_path / "ctx")], capture_output=True, text=True, cwd=REPO,
                       env={**os.environ, "PATH": "/nonexistent"})
    assert r.returncode == 1
    assert "cannot build images: neither docker nor buildah is installed" in r.stderr
