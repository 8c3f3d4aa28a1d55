"""How fast `flowc check` is: a 1,000-step flow, each example, the CLI's start-up.

    .venv/bin/python benchmarks/check_bench.py [--write]

--write replaces benchmarks/results/check.md with this run's numbers.
"""

from __future__ import annotations

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
# the in-process rows measure the analysis itself, not the analysis cache
os.environ["FLOWC_CACHE_DIR"] = "off"

from gen import linear_flow  # noqa: E402

from flowc.compiler import analyze_file  # noqa: E402


def median_time(fn, repeat: int) -> tuple[float, float]:
    """Median (CPU, wall) seconds. CPU time (this process and the children it
    waited for), unlike wall time, does not grow when other work shares the
    machine; the goals are judged on it."""
    import resource

    cpu, wall = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        fn()
        wall.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(sum(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before)))
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big_flow.py"
        big.write_text(linear_flow(1000))
        analysis = analyze_file(big)
        assert analysis.ok and len(analysis.flows[0].steps) == 1000
        rows.append(("check a generated 1,000-step flow (in process)", median_time(lambda: analyze_file(big), 5), 1.0))
    os.chdir(REPO)
    for example in sorted((REPO / "examples").glob("*.py")):
        rows.append((f"check examples/{example.name} (in process)", median_time(lambda: analyze_file(example), 20), 0.1))
    cli = [sys.executable, "-m", "flowc", "check", "-q", "examples/recsys.py"]
    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(FLOWC_CACHE_DIR=cache, PYTHONPYCACHEPREFIX=os.path.join(cache, "pycache"))
        subprocess.run(cli, check=True, capture_output=True, env=env)  # bytecode and the cache written
        rows.append(("`flowc check examples/recsys.py` (whole CLI, new process, cache warm)",
                     median_time(lambda: subprocess.run(cli, check=True, capture_output=True, env=env), 10), 0.08))
        cold = dict(env, FLOWC_CACHE_DIR="off")
        rows.append(("`flowc check examples/recsys.py` (whole CLI, new process, no cache: libcst loaded)",
                     median_time(lambda: subprocess.run(cli, check=True, capture_output=True, env=cold), 10), 0.3))
    lines = [
        "# flowc check: speed",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}. Median CPU time (user + system, the process and its children),",
        "which other work on the machine does not inflate as it does wall time.",
        "Command: `.venv/bin/python benchmarks/check_bench.py --write`",
        "",
        f"Load average when it ran: {os.getloadavg()[0]:.2f}.",
        "",
        "| what | median CPU | median wall | goal |",
        "|---|---|---|---|",
    ]
    for what, (cpu, wall), goal in rows:
        mark = "ok" if cpu < goal else "OVER"
        lines.append(f"| {what} | {cpu * 1000:.1f} ms | {wall * 1000:.1f} ms | < {goal * 1000:.0f} ms ({mark}) |")
    text = "\n".join(lines) + "\n"
    print(text)
    if "--write" in sys.argv:
        (HERE / "results" / "check.md").write_text(text)


if __name__ == "__main__":
    main()
