"""The Prefect target: compile time, output size, the time Prefect's own loader
takes to import the module and build the run form, and (with --engine) the
wall time of real Prefect 3 runs beside `flowc run` for the same flows.

    .venv/bin/python benchmarks/prefect_bench.py [--engine] [--write]

--write replaces benchmarks/results/prefect.md with this run's numbers.
Metaflow has no Prefect target, so there is no Metaflow column: the closest
comparison is the run time of the same flow under `flowc run`.
--engine starts one temporary Prefect server (a private PREFECT_HOME) and runs
each flow as a direct flow run: every step a task running the flowc runtime.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from gen import foreach_flow, linear_flow  # noqa: E402

FLOWS = [
    "examples/foreach_flow.py", "examples/nested_foreach.py", "examples/params_flow.py",
    "examples/resilient_flow.py", "examples/switch_flow.py", "examples/recsys.py",
    "tests/flows/linear.py", "tests/flows/branch.py", "tests/flows/foreach_body.py",
    "tests/flows/recursive_switch.py", "tests/flows/resources.py",
]
ENGINE_FLOWS = ["tests/flows/linear.py", "tests/flows/branch.py", "tests/flows/foreach_body.py",
                "tests/flows/nested_foreach.py", "tests/flows/recursive_switch.py"]
WIDTHS = (10, 50, 200)


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def compile_numbers(path: str, out: Path) -> dict:
    from flowc.compiler import load_flow
    from flowc.targets.prefect import PrefectTarget

    flow = load_flow(path)
    files = PrefectTarget({}).compile(flow).files
    folder = out / Path(path).stem
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    func = PrefectTarget({}).plan(flow).flow_func
    cli = folder / "cli"
    return {
        "compile": median_time(lambda: PrefectTarget({}).compile(flow), 50),
        "parse_compile": median_time(lambda: PrefectTarget({}).compile(load_flow(path)), 20),
        "cli": median_time(lambda: subprocess.run(
            [sys.executable, "-m", "flowc", "compile", path, "--target", "prefect", "-o", str(cli)],
            cwd=REPO, check=True, capture_output=True), 5),
        "module": len(files["prefect_flow.py"]),
        "yaml": len(files["prefect.yaml"]),
        "deployments": files["prefect.yaml"].count(b"\n  - name: "),
        "load": load_time(folder, func),
    }


def load_time(folder: Path, func: str) -> float:
    """Prefect's loader (what a worker does) and the run form, in a new process, after a warm-up import."""
    code = (
        "import time, prefect.flows, prefect.utilities.callables as c\n"
        f"t = time.perf_counter()\nf = prefect.flows.load_flow_from_entrypoint({str(folder / 'prefect_flow.py')!r} + ':{func}')\n"
        "c.parameter_schema(f)\nprint(time.perf_counter() - t)\n")
    runs = [float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                                 env={**os.environ, "PREFECT_HOME": tempfile.mkdtemp()}).stdout.split()[-1])
            for _ in range(3)]
    return statistics.median(runs)


def width_sizes(work: Path) -> dict[int, int]:
    from flowc.compiler import load_flow
    from flowc.targets.prefect import PrefectTarget

    out = {}
    for folder, width in (("a", 10), ("b", 1000), ("c", 1000000)):
        path = work / "widths" / folder / "wide.py"  # same-length paths: the source path is in the output
        path.parent.mkdir(parents=True)
        path.write_text(foreach_flow(width))
        files = PrefectTarget({}).compile(load_flow(path)).files
        out[width] = len(files["prefect_flow.py"]) + len(files["prefect.yaml"])
    return out


def big_flow(work: Path) -> tuple[float, int]:
    from flowc.compiler import load_flow
    from flowc.targets.prefect import PrefectTarget

    path = work / "big" / "big.py"
    path.parent.mkdir()
    path.write_text(linear_flow(500))
    flow = load_flow(path)
    seconds = median_time(lambda: PrefectTarget({}).compile(flow), 5)
    return seconds, len(PrefectTarget({}).compile(flow).files["prefect_flow.py"])


# ------------------------------------------------------------ engine


def engine_numbers(work: Path) -> tuple[list[tuple[str, float, float]], float]:
    """(flow, Prefect run wall time, flowc run wall time) for each flow, and the server's start-up time."""
    os.environ["PREFECT_HOME"] = str(work / "prefect-home")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    from prefect.flows import load_flow_from_entrypoint
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flowc.compiler import load_flow
    from flowc.packaging import code_package
    from flowc.runtime.datastore import FlowDatastore
    from flowc.targets.prefect import PrefectTarget

    started = time.perf_counter()
    server = SubprocessASGIServer()
    server.start(timeout=120)
    startup = time.perf_counter() - started
    rows = []
    flows = [(p, REPO / p) for p in ENGINE_FLOWS]
    for width in WIDTHS:
        path = work / f"engine-w{width}" / "wide.py"
        path.parent.mkdir()
        path.write_text(foreach_flow(width))
        flows.append((f"foreach, {width} items", path))
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            for label, path in flows:
                ds = work / "ds"
                flow = load_flow(path)
                target = PrefectTarget({"datastore": str(ds), "python": sys.executable})
                data, sha = code_package(flow, path)
                store = FlowDatastore(str(ds), flow.name)
                store.storage.write_atomic(store.package_key(sha), data)
                target.package_sha = sha
                folder = work / "prefect" / label.replace(" ", "_").replace(",", "")
                folder.mkdir(parents=True)
                for name, content in target.compile(flow).files.items():
                    (folder / name).write_bytes(content)
                prefect_flow = load_flow_from_entrypoint(f"{folder / 'prefect_flow.py'}:{target.plan(flow).flow_func}")
                t = time.perf_counter()
                state = prefect_flow(return_state=True)
                prefect_seconds = time.perf_counter() - t
                assert state.is_completed(), state.message
                t = time.perf_counter()
                subprocess.run([sys.executable, "-m", "flowc", "run", str(path), "--datastore", str(ds),
                                "--run-id", f"local-{len(rows)}", "--quiet"], check=True, capture_output=True, cwd=REPO)
                rows.append((label, prefect_seconds, time.perf_counter() - t))
    finally:
        server.stop()
    return rows, startup


# ------------------------------------------------------------ report


def report(numbers: dict, sizes: dict, big: tuple, engine) -> str:
    lines = [
        "# Prefect target: compile time, output size, Prefect's load time, and run time",
        "",
        f"Machine: {os.cpu_count()} cores, CPython {platform.python_version()}, {platform.machine()}. "
        f"Command: `.venv/bin/python benchmarks/prefect_bench.py{' --engine' if engine else ''} --write`.",
        "",
        "*compile* is the target alone on a loaded IR (median wall time of 50), *parse+compile* adds reading",
        "the flow (median of 20), *CLI* is `flowc compile FLOW --target prefect -o DIR` in a new process",
        "(median of 5). *module* and *prefect.yaml* are the emitted sizes (*deployments*: the flow's own and",
        "one per container step). *Prefect load* is Prefect's own `load_flow_from_entrypoint` (what a worker",
        "runs) plus the parameter schema of the run form, in a new process after Prefect is imported",
        "(median of 3). Metaflow has no Prefect target, so there is no Metaflow column.",
        "",
        "| flow | flowc compile | flowc parse+compile | flowc CLI | module | prefect.yaml | deployments | Prefect load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for path, n in numbers.items():
        lines.append(f"| {path} | {ms(n['compile'])} | {ms(n['parse_compile'])} | {ms(n['cli'])} | {n['module']:,} B "
                     f"| {n['yaml']:,} B | {n['deployments']} | {ms(n['load'])} |")
    lines += [
        "",
        "## Size against foreach width, and a large flow",
        "",
        "A foreach's width is data, read at run time: the module and prefect.yaml together are "
        + ", ".join(f"{size:,} B for {width:,} items" for width, size in sizes.items()) + ".",
        f"A generated 500-step linear flow compiles in {ms(big[0])} (target alone) to a {big[1]:,} B module.",
    ]
    if engine:
        rows, startup = engine
        lines += [
            "",
            "## Run time on Prefect 3.7.7, beside `flowc run`",
            "",
            f"One temporary Prefect server for all runs (its start-up took {startup:.1f} s and is not counted). Each",
            "run is a direct flow run of the compiled module (every step a Prefect task running `python -m",
            "flowc.runtime step` in a subprocess; at most 8 tasks at once, the max_workers default); `flowc run`",
            "is the local interpreter in a new process. Wall time of one run each.",
            "",
            "| flow | Prefect flow run | flowc run |",
            "|---|---|---|",
        ]
        lines += [f"| {label} | {p:.2f} s | {f:.2f} s |" for label, p, f in rows]
        lines += [
            "",
            "A Prefect task costs a Python process for the runtime (about 0.3 s here) plus Prefect's task-run",
            "bookkeeping against its server; `flowc run` forks tasks from one warm process, so it is the",
            "faster way to run on one machine, and Prefect the way to run on a cluster.",
        ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", action="store_true", help="also run flows on Prefect and with flowc run")
    parser.add_argument("--write", action="store_true", help="write benchmarks/results/prefect.md")
    args = parser.parse_args()
    os.chdir(REPO)
    with tempfile.TemporaryDirectory(prefix="flowc-prefect-bench-") as tmp:
        work = Path(tmp)
        numbers = {path: compile_numbers(path, work / "compile") for path in FLOWS}
        sizes = width_sizes(work)
        big = big_flow(work)
        engine = engine_numbers(work) if args.engine else None
        text = report(numbers, sizes, big, engine)
    print(text)
    if args.write:
        (HERE / "results" / "prefect.md").write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
