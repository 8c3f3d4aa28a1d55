"""`flowc run` on its own: the scheduler against the width of a foreach, a
short flow's first run, and what one task costs over the step's own work.

    .venv/bin/python benchmarks/scheduler_bench.py [--write] [--widths 1000,10000]

- a foreach over each width (benchmarks/gen.py): wall time, and the CPU time
  of the scheduler process alone (its own rusage, read as it ends; the tasks
  are its children and not counted), which should grow in proportion to the
  width;
- a 10-step linear flow, run for the first time (a new datastore; nothing
  in flowc's cache for this flow, so it is parsed), and again (cache warm):
  CPU of the whole command and its tasks, with flowc installed from its
  wheel (its dependencies from .venv), run as its `flowc` script runs it.
  "For the first time" is a new
  flow on a machine where flowc has run before (another flow's run fills
  the cache folder first): as with bytecode, the code kept there for
  dataclass methods (compiler/dataclass_code.py) is written by flowc's
  first command, not by each new flow. The same first run with the cache
  folder empty (flowc's first command on the machine) is shown as well;
- one task through the container command, `python -m flowc.runtime step`,
  for a step that does nothing, against `python -c pass`: the difference is
  what the runtime adds to every task; measured with flowc installed from
  its wheel in a venv of its own (what a container runs), and from .venv.

Bytecode is kept (PYTHONDONTWRITEBYTECODE dropped, one untimed run first),
as with installed packages. The tasks are forked by the runner's fork server (a local
datastore), as `flowc run` does by default. Metaflow's side is in
runtime_bench.py. --write replaces benchmarks/results/scheduler.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen import foreach_flow, linear_flow  # noqa: E402

PY = sys.executable
SCHEDULER = """
import json, resource, sys, time
from flowc.cli import main
start = time.perf_counter()
code = main(sys.argv[1:])
own = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"code": code, "wall": time.perf_counter() - start, "cpu": own.ru_utime + own.ru_stime}),
      file=sys.stderr)
"""


def installed_wheel(venv: Path, dependencies: bool = False) -> str:
    """A venv holding flowc's wheel (flowc/_wheel.py builds it; the runtime
    needs nothing beyond the standard library for a local datastore); its
    python. With ``dependencies``, the compiler's too (libcst, jinja2, ...),
    found in .venv's site-packages through a path file (which runs none of
    the start-up hooks there: .venv holds flowc installed editable)."""
    import io
    import sysconfig
    import zipfile

    from flowc import _wheel

    subprocess.run([PY, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    zipfile.ZipFile(io.BytesIO(_wheel.build())).extractall(purelib)
    if dependencies:
        Path(purelib, "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def children_cpu(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--widths", default="1000,10000")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    widths = [int(w) for w in args.widths.split(",")]
    lines_rows: list[str] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(PYTHONPYCACHEPREFIX=str(tmp / "pycache"), FLOWC_CACHE_DIR=str(tmp / "cache"))
        (tmp / "lin.py").write_text(linear_flow(10, name="TenStepFlow"))
        (tmp / "other.py").write_text(linear_flow(3, name="OtherFlow"))
        counter = iter(range(10**6))

        def run(flow: str, cache: str | None = None) -> tuple[float, dict]:
            """The scheduler's own CPU too (flowc.cli.main in a process that reports it)."""
            e = dict(env, FLOWC_CACHE_DIR=cache) if cache else env
            cpu, proc = children_cpu([PY, "-c", SCHEDULER, "run", flow, "--quiet", "--datastore",
                                      str(tmp / f"ds{next(counter)}")], tmp, e)
            return cpu, json.loads(proc.stderr.strip().splitlines()[-1])

        user_py = installed_wheel(tmp / "user-venv", dependencies=True)

        def flowc_run(flow: str, cache: str | None = None) -> float:
            """`flowc run` as the user runs it (flowc from its wheel; what its `flowc` script runs): CPU of
            the command and its tasks."""
            e = dict(env, FLOWC_CACHE_DIR=cache) if cache else env
            return children_cpu([user_py, "-c", "from flowc.cli import run; run()", "run", flow, "--quiet",
                                 "--datastore", str(tmp / f"ds{next(counter)}")], tmp, e)[0]

        flowc_run("lin.py")  # bytecode written
        for width in widths:
            (tmp / f"fe{width}.py").write_text(foreach_flow(width))
            total, own = run(f"fe{width}.py")
            lines_rows.append(f"| foreach over {width:,} items | {own['wall']:.1f} s | {own['cpu']:.2f} s | "
                              f"{own['cpu'] / width * 1000:.2f} ms | {total:.1f} s |")

        def new_flow() -> float:
            cache = str(tmp / f"used{next(counter)}")
            flowc_run("other.py", cache=cache)  # flowc has run before, another flow
            return flowc_run("lin.py", cache=cache)

        first = statistics.median(new_flow() for _ in range(args.repeat))
        empty = statistics.median(flowc_run("lin.py", cache=str(tmp / f"empty{next(counter)}"))
                                  for _ in range(args.repeat))
        again = statistics.median(flowc_run("lin.py") for _ in range(args.repeat))
        ir = tmp / "lin.ir.json"
        ir.write_text(subprocess.run([PY, "-m", "flowc", "ir", "lin.py"], cwd=tmp, env=env, capture_output=True,
                                     text=True, check=True).stdout)
        task = [PY, "-m", "flowc.runtime", "step", "--flow", "lin.py", "--ir", str(ir), "--step", "end",
                "--index", "0", "--datastore", str(tmp / "tasks"), "--no-capture"]
        # the end step's input: one finished step_8 task, made by a run into the same datastore
        done = subprocess.run([PY, "-m", "flowc", "run", "lin.py", "--quiet", "--datastore", str(tmp / "tasks"),
                               "--run-id", "base"], cwd=tmp, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(done.stderr)
        import shutil

        def one_task() -> float:
            shutil.rmtree(tmp / "tasks" / "TenStepFlow" / "runs" / "base" / "end", ignore_errors=True)
            return children_cpu([*task, "--run-id", "base"], tmp, env)[0]

        one_task()
        task_cpu = statistics.median(one_task() for _ in range(args.repeat))
        bare = statistics.median(children_cpu([PY, "-c", "pass"], tmp, env)[0] for _ in range(args.repeat))
        # the same task from flowc installed as a user installs it (its wheel, in a venv of its own: no
        # editable-install hooks run at start-up), as a container runs it
        wheel_py = installed_wheel(tmp / "wheel-venv")
        task[0] = wheel_py
        one_task()
        wheel_task = statistics.median(one_task() for _ in range(args.repeat))
        wheel_bare = statistics.median(children_cpu([wheel_py, "-c", "pass"], tmp, env)[0]
                                       for _ in range(args.repeat))
    per_item = [float(r.split("|")[4].strip().split()[0]) for r in lines_rows]
    lines = [
        "# flowc run: the scheduler, a first run, one task",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}. Command: `.venv/bin/python benchmarks/scheduler_bench.py --write`.",
        "",
        "| foreach | wall | scheduler CPU (its own) | scheduler CPU per item | CPU with the tasks |",
        "|---|---|---|---|---|",
        *lines_rows,
        "",
        f"Scheduler CPU per item, widest over narrowest: {per_item[-1] / per_item[0]:.2f} (1.0 is linear).",
        "",
        "| what | CPU (median) | goal |",
        "|---|---|---|",
        f"| `flowc run` of a 10-step linear flow, first run (a new flow: nothing cached for it, its file "
        f"parsed; another flow has run before) | {first * 1000:.0f} ms | ≤ 200 ms ({'ok' if first <= 0.2 else 'OVER'}) |",
        f"| the same with flowc's cache folder empty (flowc's first command on the machine) | {empty * 1000:.0f} ms | |",
        f"| the 10-step flow run again (its analysis cached) | {again * 1000:.0f} ms | |",
        f"| one task, `python -m flowc.runtime step` (the end step of that flow), flowc installed from its wheel "
        f"| {wheel_task * 1000:.0f} ms | |",
        f"| `python -c pass`, the same venv | {wheel_bare * 1000:.0f} ms | |",
        f"| what the runtime adds to a task | {(wheel_task - wheel_bare) * 1000:.0f} ms | "
        f"≤ 40 ms ({'ok' if wheel_task - wheel_bare <= 0.04 else 'OVER'}) |",
        f"| the same task from .venv (flowc installed editable; start-up runs its import hooks) | "
        f"{task_cpu * 1000:.0f} ms | |",
        f"| `python -c pass` there | {bare * 1000:.0f} ms | |",
        f"| what the runtime adds there | {(task_cpu - bare) * 1000:.0f} ms | |",
        "",
        f"Load average (1 min) at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores: wall times grow "
        "with it, CPU times much less.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        (HERE / "results" / "scheduler.md").write_text(text)


if __name__ == "__main__":
    main()
