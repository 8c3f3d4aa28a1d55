"""How fast the pre-commit hooks are, on a handful of flows.

    .venv/bin/python benchmarks/precommit_bench.py [--write]

A throwaway project holds five example flows and compiles them for all four
targets. Measured, each in a new process as pre-commit starts it:

- the flowc-check hook's command on the five flows (and on a commit that
  stages only other Python files),
- the flowc-compile hook's command when nothing changed (the usual commit),
  when one flow changed (it compiles that flow again, for every target), and
  after a flowc upgrade (every flow, every target);
- both hooks run by pre-commit itself (`pre-commit run`, local hooks as in
  tests/project/test_precommit.py) in a git repository, nothing changed.

Numbers are medians of CPU time (user + system of the processes), which,
unlike wall time, does not grow when other work shares the machine; wall
time is shown beside it. --write replaces benchmarks/results/precommit.md.
"""

from __future__ import annotations

import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / "benchmarks"))

from gen import linear_flow  # noqa: E402
FLOWS = ["foreach_flow.py", "nested_foreach.py", "params_flow.py", "resilient_flow.py", "switch_flow.py"]
PYPROJECT = '[project]\nname = "bench"\n\n[tool.flowc]\nflows = ["flows"]\n' \
            'targets = ["argo", "airflow", "prefect", "stepfunctions"]\n'


def measure(cmd: list[str], cwd: Path, repeat: int, before=None, env=None) -> tuple[float, float]:
    """Median (CPU seconds, wall seconds) of a command in new processes."""
    cpu, wall = [], []
    for _ in range(repeat):
        if before:
            before()
        start_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
        wall.append(time.perf_counter() - start)
        end_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(end_usage.ru_utime + end_usage.ru_stime - start_usage.ru_utime - start_usage.ru_stime)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout}{proc.stderr}")
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    flowc = [str(BIN / "flowc")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["FLOWC_CACHE_DIR"] = str(Path(tmp) / "flowc-cache")
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # as with installed packages: bytecode kept
        root = Path(tmp) / "project"
        (root / "flows").mkdir(parents=True)
        for name in FLOWS:
            shutil.copy(REPO / "examples" / name, root / "flows" / name)
        (root / "tools.py").write_text("print('not a flow')\n")
        (root / "pyproject.toml").write_text(PYPROJECT)
        subprocess.run([*flowc, "compile"], cwd=root, check=True, capture_output=True)
        files = [f"flows/{name}" for name in FLOWS]
        rows.append(("flowc-check: `flowc compile --lint` on the 5 flows", *measure(
            [*flowc, "compile", "--lint", *files], root, 7), 0.5))
        rows.append(("flowc-check: a commit staging only other Python files", *measure(
            [*flowc, "compile", "--lint", "tools.py"], root, 7), 0.5))
        hook = [*flowc, "compile", "--fail-on-change", "--quiet"]
        rows.append(("flowc-compile: nothing changed (5 flows x 4 targets)", *measure(hook, root, 7), 0.5))
        # the same command without flowc/cli.py, which imports the compiler (libcst) before any command runs
        direct = [sys.executable, "-c", "import argparse, sys\nfrom flowc.commands import compile as c\n"
                  "p = argparse.ArgumentParser(); c.configure(p)\na = p.parse_args(sys.argv[1:]); a.extra = []\n"
                  "sys.exit(c.main(a))", "--fail-on-change", "--quiet"]
        rows.append(("(the same, without flowc/cli.py)", *measure(direct, root, 7), None))
        flow = root / "flows" / "switch_flow.py"
        original = flow.read_text()
        state = {"n": 0}

        def touch_one():
            state["n"] += 1
            flow.write_text(original + f"\n# edit {state['n']}\n")

        rows.append(("flowc-compile: one flow changed (compiled again for 4 targets)",
                     *measure(hook, root, 5, before=touch_one), None))
        manifests = list(root.glob("generated/*/flowc-manifest.json"))

        def upgrade():
            for m in manifests:
                m.write_text(m.read_text().replace('"flowc_version": "', '"flowc_version": "0.0.'))

        rows.append(("flowc-compile: after a flowc upgrade (5 flows x 4 targets compiled again)",
                     *measure(hook, root, 3, before=upgrade), None))
        # both hooks through pre-commit, in a git repository
        hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
        local = [{**{k: v for k, v in h.items() if k != "minimum_pre_commit_version"}, "language": "system"}
                 for h in hooks]
        (root / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [{"repo": "local", "hooks": local}]}))
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "GIT_CONFIG_GLOBAL": os.devnull,
               "PRE_COMMIT_HOME": str(Path(tmp) / "pre-commit-home")}
        subprocess.run(["git", "init", "-q"], cwd=root, check=True, env=env)
        subprocess.run(["git", "add", "-A"], cwd=root, check=True, env=env)
        pre_commit = [str(BIN / "pre-commit"), "run", "--files", *files, "tools.py"]
        subprocess.run(pre_commit, cwd=root, env=env, capture_output=True)  # pre-commit's own first-run setup
        rows.append(("`pre-commit run` with both hooks, the 5 flows staged, nothing changed",
                     *measure(pre_commit, root, 5, env=env), 1.0))
        # a larger project: 100 flows for 4 targets, checked when nothing changed
        big = Path(tmp) / "big"
        (big / "flows").mkdir(parents=True)
        for i in range(100):
            (big / "flows" / f"flow_{i:03}.py").write_text(linear_flow(6, name=f"Flow{i:03}"))
        (big / "pyproject.toml").write_text(PYPROJECT)
        subprocess.run([*flowc, "compile"], cwd=big, check=True, capture_output=True)
        rows.append(("`flowc compile --check`, 100 flows x 4 targets, nothing changed", *measure(
            [*flowc, "compile", "--check"], big, 7), 0.3))
        start = [sys.executable, "-c", "pass"]
        rows.append(("(for scale: `python -c pass`)", *measure(start, root, 7), None))
    lines = [
        "# The pre-commit hooks: speed",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}. Median CPU time (user + system of the processes; it does not grow when other",
        "work shares the machine) and median wall time, each command in a new process as pre-commit runs it.",
        "A project of five example flows (foreach, nested foreach, parameters, retry/catch, switch) compiled",
        "for argo, airflow, prefect and stepfunctions (20 flow/target pairs, 35 generated files).",
        "",
        "Command: `.venv/bin/python benchmarks/precommit_bench.py --write`",
        "",
        "| what | CPU | wall | goal |",
        "|---|---|---|---|",
    ]
    for what, cpu, wall, goal in rows:
        verdict = "" if goal is None else f"< {goal * 1000:.0f} ms ({'ok' if cpu < goal else 'OVER'})"
        lines.append(f"| {what} | {cpu * 1000:.0f} ms | {wall * 1000:.0f} ms | {verdict} |")
    lines += [
        "",
        "The usual commit changes no flow or changes one; the hooks then cost the time to start flowc and",
        "hash a few files (flowc-compile, and `flowc compile --check`, which answers from the manifest and",
        "the hashes) or to read the staged flows' analyses from flowc's cache (flowc-check; a flow that",
        "changed is parsed). A flow that changed is compiled again for each target; an upgrade of flowc",
        "recompiles everything once. The cache folder (FLOWC_CACHE_DIR) starts empty for this run.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if "--write" in sys.argv:
        out = REPO / "benchmarks" / "results" / "precommit.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)


if __name__ == "__main__":
    main()
