"""One command, one flow, a new process: flowc beside its peers, CPU time.

    .venv/bin/python benchmarks/cli_bench.py [--write] [--repeat N]

The flow is a generated 10-step linear flow (benchmarks/gen.py). Each pair
runs in fresh processes, alternating flowc and the peer, N times (median):

- `flowc compile --target argo` against Metaflow's
  `python flow.py argo-workflows create --only-json` (its package upload goes
  to moto's S3 on 127.0.0.1) and against a hand-written hera script
  (benchmarks/hera_linear.py) that builds the same DAG and prints its YAML,
  and against a hand-written kfp DSL script (benchmarks/kfp_linear.py, run
  with kfp 2 from .venv-kfp) that compiles the same 10-step pipeline;
- `flowc compile --target kubeflow` against that kfp script;
- `flowc check` against Metaflow's `python flow.py check`;
- `flowc compile` for Airflow, Prefect and Step Functions (no peer here;
  see their own benchmarks).

flowc runs twice per row: with its cache warm (the analysis and the
compiled templates of an earlier process, as on every run after the first),
and cold (an empty cache folder for each run: it parses the flow and
compiles the templates, and writes the cache). Python's bytecode cache is
on for every command (PYTHONDONTWRITEBYTECODE is dropped; one untimed run of
each first), as with installed packages. kfp 2 cannot install beside the
pinned packages, so it runs from its own environment, .venv-kfp (mk/kubeflow.mk);
without it the kfp rows say why they are missing. CPU time is user + system
of the command and its children, which other work on the machine inflates
much less than wall time.
--write replaces benchmarks/results/cli.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from gen import linear_flow  # noqa: E402

PY = sys.executable
KFP_PY = REPO / ".venv-kfp" / "bin" / "python"
GOALS = {"compile": 0.12, "check": 0.08}  # seconds of CPU, a warm cache


KFP_PEER = "hand-written kfp DSL script (benchmarks/kfp_linear.py)"
KFP_SKIP = ".venv-kfp is missing (`make test` builds it: mk/kubeflow.mk)"


def kfp_version() -> str:
    if not KFP_PY.exists():
        return "(absent)"
    out = subprocess.run([str(KFP_PY), "-c", "import importlib.metadata as m; print(m.version('kfp'))"],
                         capture_output=True, text=True)
    return out.stdout.strip() or "(unknown version)"


def cpu_of(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def paired(commands: dict[str, tuple[list[str], dict[str, str], Path | None]], cwd: Path,
           repeat: int) -> dict[str, float]:
    """Median CPU seconds of each command, run in turn, ``repeat`` rounds.
    A third item (a folder) is emptied before each run: the cold cache."""
    import shutil

    samples: dict[str, list[float]] = {k: [] for k in commands}
    for argv, env, fresh in commands.values():  # untimed: bytecode written, caches warm
        cpu_of(argv, cwd, env)
    for _ in range(repeat):
        for key, (argv, env, fresh) in commands.items():
            if fresh is not None:
                shutil.rmtree(fresh, ignore_errors=True)
            samples[key].append(cpu_of(argv, cwd, env))
    return {k: statistics.median(v) for k, v in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="replace benchmarks/results/cli.md")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    from argo_bench import LocalS3

    rows: list[tuple[str, float, float, str, float | None, float | None]] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        base["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
        warm = {**base, "FLOWC_CACHE_DIR": str(tmp / "cache")}
        cold_dir = tmp / "cold-cache"
        cold = {**base, "FLOWC_CACHE_DIR": str(cold_dir)}
        work = tmp / "flows"
        work.mkdir()
        source = linear_flow(10)
        (work / "big_linear_flow.py").write_text(source)
        mf_source = source.replace("from flowc import", "from metaflow import") + \
            '\n\nif __name__ == "__main__":\n    BigLinearFlow()\n'
        (work / "mf_flow.py").write_text(mf_source)
        flowc = [PY, "-m", "flowc"]
        # kfp 2 lives in its own environment; the same 10 steps, compiled to a pipeline YAML
        kfp = ([str(KFP_PY), str(HERE / "kfp_linear.py"), "10", "kfp.yaml"], base, None) if KFP_PY.exists() else None
        s3 = LocalS3()
        try:
            mf_env = {**s3.env(str(tmp / "mfhome")), **{k: v for k, v in base.items() if k.startswith("PYTHON")}}
            mf_env.pop("PYTHONDONTWRITEBYTECODE", None)
            argo = [*flowc, "compile", "big_linear_flow.py", "--target", "argo", "-o", "out.yaml",
                    "--code-package", "s3://bucket/flow.tar.gz"]
            peers = {
                "metaflow": ([PY, "mf_flow.py", "--no-pylint", "argo-workflows", "create", "--only-json"], mf_env,
                             None),
                "hera": ([PY, str(HERE / "hera_linear.py"), "10"], base, None),
            }
            if kfp is not None:
                peers["kfp"] = kfp
            got = paired({"warm": (argo, warm, None), "cold": (argo, cold, cold_dir), **peers}, work, args.repeat)
            rows.append(("`flowc compile --target argo`", got["warm"], got["cold"],
                         "Metaflow `argo-workflows create --only-json`", got["metaflow"], GOALS["compile"]))
            rows.append(("", got["warm"], got["cold"], "hand-written hera script (benchmarks/hera_linear.py)",
                         got["hera"], None))
            rows.append(("", got["warm"], got["cold"], KFP_PEER, got.get("kfp"), None))
            check = [*flowc, "check", "big_linear_flow.py"]
            got = paired({
                "warm": (check, warm, None),
                "cold": (check, cold, cold_dir),
                "metaflow": ([PY, "mf_flow.py", "--no-pylint", "check"], mf_env, None),
            }, work, args.repeat)
            rows.append(("`flowc check`", got["warm"], got["cold"], "Metaflow `python flow.py check`",
                         got["metaflow"], GOALS["check"]))
        finally:
            s3.stop()
        kubeflow = [*flowc, "compile", "big_linear_flow.py", "--target", "kubeflow", "-o", "pipeline.yaml",
                    "--code-package", "s3://bucket/flow.tar.gz"]
        got = paired({"warm": (kubeflow, warm, None), "cold": (kubeflow, cold, cold_dir),
                      **({"kfp": kfp} if kfp is not None else {})}, work, args.repeat)
        rows.append(("`flowc compile --target kubeflow`", got["warm"], got["cold"], KFP_PEER, got.get("kfp"),
                     GOALS["compile"]))
        for target, out in (("airflow", "dag.py"), ("prefect", "prefect-out"), ("stepfunctions", "sfn-out")):
            argv = [*flowc, "compile", "big_linear_flow.py", "--target", target, "-o", out]
            argv += ["--code-package", "s3://bucket/flow.tar.gz"]
            got = paired({"warm": (argv, warm, None), "cold": (argv, cold, cold_dir)}, work, args.repeat)
            rows.append((f"`flowc compile --target {target}`", got["warm"], got["cold"], "", None, GOALS["compile"]))
        passing = paired({"pass": ([PY, "-c", "pass"], base, None)}, work, args.repeat)["pass"]

    lines = [
        "# One command, one flow, a new process: flowc beside its peers",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}. Command: `.venv/bin/python benchmarks/cli_bench.py --write`.",
        "",
        "A generated 10-step linear flow. Median CPU time (user + system) of "
        f"{args.repeat} new processes per command, flowc and its peer alternating. *warm*: flowc's cache holds "
        "the flow's analysis and the compiled templates (every run after the first); *cold*: an empty cache "
        "for each run. Ratios are the peer's CPU over flowc's, warm (and cold). "
        + (f"The kfp peer is kfp {kfp_version()}, run from its own environment (.venv-kfp): kfp 2 cannot "
           "install beside the pinned packages." if KFP_PY.exists() else f"The kfp peer was not run: {KFP_SKIP}."),
        "",
        "| command | flowc warm | flowc cold | goal (warm) | peer | peer CPU | peer / flowc |",
        "|---|---|---|---|---|---|---|",
    ]
    for what, w, c, peer, p, goal in rows:
        mark = "" if goal is None else f"≤ {goal * 1000:.0f} ms ({'ok' if w <= goal else 'OVER'})"
        ratio = f"{p / w:.1f}× ({p / c:.1f}× cold)" if p else ""
        if peer == KFP_PEER and p is None:
            peer, p_text = f"{KFP_PEER}: not run, {KFP_SKIP}", ""
        else:
            p_text = "" if p is None else f"{p * 1000:.0f} ms"
        lines.append(f"| {what} | {w * 1000:.0f} ms | {c * 1000:.0f} ms | {mark} | {peer} | {p_text} | {ratio} |")
    lines += ["", f"For scale: `python -c pass` takes {passing * 1000:.0f} ms of CPU here.",
              f"Load average (1 min) at the end: {os.getloadavg()[0]:.2f}."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        (HERE / "results" / "cli.md").write_text(text)


if __name__ == "__main__":
    main()
