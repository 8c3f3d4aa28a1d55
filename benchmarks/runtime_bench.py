"""`flowc run` against Metaflow's local run, side by side, on this machine.

    .venv/bin/python benchmarks/runtime_bench.py [--write] [--metaflow-1000] [--repeat N]

Runs, one after the other on the same machine, each engine's whole command
(interpreter start-up, graph checks, every task, to the end of the run):

    metaflow:  python flow.py --no-pylint run        (flow imports from metaflow)
    flowc:     python -m flowc run flow.py --quiet   (the same flow, importing from flowc)

for (a) a generated 10-step linear flow, (b) a foreach over 100 items,
(c) a foreach over 1,000 items (Metaflow only with --metaflow-1000: it takes
minutes), and the import time of each runtime (`python -c "import
flowc.runtime"` against `python -c "import metaflow"`, median of several).

Both engines use their default parallelism (Metaflow: --max-workers 16;
flowc: one worker per core) and a fresh local datastore in a temp folder;
the flows are generated there (benchmarks/gen.py) and never committed.
Python's bytecode cache is on for both, kept in the temp folder
(PYTHONPYCACHEPREFIX; PYTHONDONTWRITEBYTECODE is dropped), and each engine
runs the linear flow once, untimed, before anything is measured, so neither
pays for compiling its own modules, as with an installed package.

Each row shows wall time (what a user waits for) and CPU time (user + system
of the command and every process it waited for), because wall time grows
when other work shares the machine and CPU time much less. The ratio is
from one run of both, wall time. --write replaces benchmarks/results/runtime.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from gen import foreach_flow, linear_flow  # noqa: E402

PY = sys.executable
SHOWN_PY = ".venv/bin/python"  # how the commands are shown in the results

# The goals of the project's runtime issue (seconds).
GOALS = {"linear10": 0.6, "foreach100": 5.0, "import": 0.080}


BASE_ENV: dict[str, str] = {}  # set in main(): the environment of every measured command


def metaflow_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in BASE_ENV.items() if not k.startswith("METAFLOW_")}
    env.update(METAFLOW_USER=os.environ.get("METAFLOW_USER") or "bench",  # Metaflow refuses root without it
               METAFLOW_HOME=str(root / "home"), METAFLOW_DATASTORE_SYSROOT_LOCAL=str(root / "sysroot"),
               METAFLOW_DEFAULT_DATASTORE="local", METAFLOW_DEFAULT_METADATA="local")
    return env


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 3600) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one command; fails loudly if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {shlex.join(argv)}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def write_flow(folder: Path, name: str, source: str, class_name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(source + f'\n\nif __name__ == "__main__":\n    {class_name}()\n')
    return path


def run_metaflow(flow: Path, root: Path, extra: tuple[str, ...] = ()) -> tuple[float, float]:
    return timed([PY, flow.name, "--no-pylint", "run", *extra], flow.parent, metaflow_env(root))


def run_flowc(flow: Path, datastore: Path) -> tuple[float, float]:
    return timed([PY, "-m", "flowc", "run", str(flow), "--datastore", str(datastore), "--quiet"], flow.parent, BASE_ENV)


def import_time(module: str, repeat: int, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Median wall and CPU seconds of `python -c "import MODULE"`."""
    runs = [timed([PY, "-c", f"import {module}"], REPO, env or BASE_ENV) for _ in range(repeat)]
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def fmt(seconds: float | None) -> str:
    if seconds is None:
        return "not run"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="replace benchmarks/results/runtime.md")
    parser.add_argument("--metaflow-1000", action="store_true", help="also run the 1,000-item foreach under Metaflow")
    parser.add_argument("--repeat", type=int, default=7, help="runs of each import, for the median")
    args = parser.parse_args()

    from importlib.metadata import version

    mf_version = version("metaflow")  # fails early if Metaflow is not installed
    load_before = os.getloadavg()
    rows = []  # (what, metaflow (wall, cpu) | None, flowc (wall, cpu), goal key)
    with tempfile.TemporaryDirectory(prefix="runtime-bench-") as tmp:
        tmp = Path(tmp)
        BASE_ENV.update({k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"})
        BASE_ENV["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
        flows = {
            "linear10": ("a 10-step linear flow", lambda imp: linear_flow(10, "BenchLinearFlow", imp),
                         "BenchLinearFlow", True),
            "foreach100": ("a foreach over 100 items", lambda imp: foreach_flow(100, "BenchForeach100Flow", imp),
                           "BenchForeach100Flow", True),
            "foreach1000": ("a foreach over 1,000 items", lambda imp: foreach_flow(1000, "BenchForeach1000Flow", imp),
                            "BenchForeach1000Flow", args.metaflow_1000),
        }
        print("warming up both engines (untimed) ...", file=sys.stderr, flush=True)
        _, source, cls, _ = flows["linear10"]
        run_flowc(write_flow(tmp / "warm-flowc", "warm", source("flowc"), cls), tmp / "warm-ds")
        run_metaflow(write_flow(tmp / "warm-metaflow", "warm", source("metaflow"), cls), tmp / "warm-root")
        for key, (what, source, cls, with_metaflow) in flows.items():
            # (folders not named flowc or metaflow: in a command's working
            # directory they would shadow the packages)
            fc_flow = write_flow(tmp / "flows-flowc", key, source("flowc"), cls)
            mf_flow = write_flow(tmp / "flows-metaflow", key, source("metaflow"), cls)
            print(f"{what}: flowc run ...", file=sys.stderr, flush=True)
            fc = run_flowc(fc_flow, tmp / "flowc-ds")
            mf = None
            if with_metaflow:
                print(f"{what}: metaflow run ...", file=sys.stderr, flush=True)
                # Metaflow refuses a foreach of more than 100 splits unless told
                mf = run_metaflow(mf_flow, tmp / "metaflow-root",
                                  ("--max-num-splits", "1000") if key == "foreach1000" else ())
            rows.append((what, mf, fc, key))
            if key == "linear10":
                # the same flow again: an unchanged flow's IR comes from flowc's cache
                # (no parsing); Metaflow does the same work as the first time
                again_fc = run_flowc(fc_flow, tmp / "flowc-ds")
                again_mf = run_metaflow(mf_flow, tmp / "metaflow-root")
                rows.append((what + ", run again unchanged", again_mf, again_fc, key))
        print("imports ...", file=sys.stderr, flush=True)
        mf_import = import_time("metaflow", args.repeat, metaflow_env(tmp / "metaflow-root"))
        fc_import = import_time("flowc.runtime", args.repeat)
        bare = import_time("sys", args.repeat)
        # Where flowc run's time goes on the linear flow: what it costs before
        # any task (start-up and compiling the flow: `--plan` runs nothing),
        # and the parser's import within that.
        plan_runs = [timed([PY, "-m", "flowc", "run", "--plan", "linear10.py"], tmp / "flows-flowc", BASE_ENV)
                     for _ in range(args.repeat)]
        plan = statistics.median(w for w, _ in plan_runs), statistics.median(c for _, c in plan_runs)
        libcst = import_time("libcst", args.repeat)
    rows.append((f'`python -c "import ..."` (median of {args.repeat})', mf_import, fc_import, "import"))
    load_after = os.getloadavg()

    lines = [
        "# flowc run against Metaflow: speed",
        "",
        f"Machine: {os.cpu_count()} cores ({cpu_model()}), {platform.system()} {platform.machine()}, "
        f"CPython {platform.python_version()}; Metaflow {mf_version}; flowc at commit {git_commit()}.",
        f"Load average before / after: {load_before[0]:.1f} / {load_after[0]:.1f} "
        "(the machine is shared: wall times grow with the load, CPU times much less).",
        "",
        "Commands, each run once, one after the other, in a fresh temp folder holding the generated flows",
        "(benchmarks/gen.py; the Metaflow copy imports from metaflow) and a fresh local datastore, with",
        "Python's bytecode cache on for both and one untimed warm-up run of each engine first:",
        "",
        f"    metaflow:  METAFLOW_USER=bench {SHOWN_PY} FLOW.py --no-pylint run"
        "   (+ --max-num-splits 1000 for 1,000 items: its default limit is 100)",
        f"    flowc:     {SHOWN_PY} -m flowc run FLOW.py --datastore DS --quiet",
        f'    imports:   {SHOWN_PY} -c "import metaflow"   /   {SHOWN_PY} -c "import flowc.runtime"',
        "",
        f"Reproduce: `{SHOWN_PY} benchmarks/runtime_bench.py --write"
        + (" --metaflow-1000" if args.metaflow_1000 else "") + "`",
        "",
        "| what | Metaflow wall (CPU) | flowc run wall (CPU) | ratio (wall) | goal for flowc |",
        "|---|---|---|---|---|",
    ]
    for what, mf, fc, key in rows:
        ratio = f"{mf[0] / fc[0]:.1f}x" if mf else "-"
        goal = GOALS.get(key)
        if goal is None:
            target = "completes" if key == "foreach1000" else "-"
            verdict = "ok"
        else:
            target = f"< {fmt(goal)}" + (", and 10x faster" if key != "import" else "")
            met = fc[0] < goal and (key == "import" or (mf is not None and mf[0] / fc[0] >= 10))
            verdict = "ok" if met else "MISSED"
        mf_text = f"{fmt(mf[0])} ({fmt(mf[1])})" if mf else "not run (--metaflow-1000)"
        lines.append(f"| {what} | {mf_text} | {fmt(fc[0])} ({fmt(fc[1])}) | {ratio} | {target}: {verdict} |")
    linear = rows[0][2]
    lines += [
        "",
        f"For scale: `{SHOWN_PY} -c \"import sys\"` (the interpreter alone) takes {fmt(bare[0])} "
        f"({fmt(bare[1])} CPU), median of {args.repeat}; the import rows include it.",
        "",
        "Where `flowc run`'s time goes on the 10-step linear flow (medians of "
        f"{args.repeat}): `flowc run --plan FLOW.py`, which starts, compiles the flow and runs nothing, "
        f"takes {fmt(plan[0])} ({fmt(plan[1])} CPU); importing the parser it uses, alone "
        f"(`python -c \"import libcst\"`, interpreter included), takes {fmt(libcst[0])} ({fmt(libcst[1])} CPU); "
        f"the ten tasks take the rest, about {fmt(max(0.0, linear[0] - plan[0]))} "
        f"({fmt(max(0.0, linear[1] - plan[1]))} CPU).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        (HERE / "results").mkdir(exist_ok=True)
        (HERE / "results" / "runtime.md").write_text(text)


if __name__ == "__main__":
    main()
