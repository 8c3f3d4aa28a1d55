"""Run every benchmark and rewrite benchmarks/results/*.md: what `make bench` runs.

    .venv/bin/python benchmarks/run.py [--only NAME ...]

Each benchmarks/NAME_bench.py runs in a new process with --write (and the
flags in FLAGS), one after the other so they do not slow each other down.
Each script writes results/NAME.md itself, with its pairs and ratios; this
runner then appends how the file was written: the command, the date, the
time it took and the machine's load average before and after, because wall
times grow with the load. A script that fails or writes nothing makes the
run fail; the others still run. results/ is rewritten only this way.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHOWN_PY = ".venv/bin/python"  # how the commands are shown in the results

# Flags beyond --write: the engine runs belong to the benchmark. Metaflow's
# 1,000-item foreach (runtime_bench.py --metaflow-1000) is left out: it alone
# takes many minutes.
FLAGS = {"prefect": ["--engine"], "stepfunctions": ["--engine"]}


def benchmarks() -> dict[str, Path]:
    """{name: script} for every benchmarks/*_bench.py, so a new one is never left out."""
    return {p.name[: -len("_bench.py")]: p for p in sorted(HERE.glob("*_bench.py"))}


def load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def run_one(name: str, script: Path, invocation: str) -> str | None:
    """Run one benchmark; None if it rewrote its results, else what went wrong."""
    out = HERE / "results" / f"{name}.md"
    args = [*FLAGS.get(name, []), "--write"]
    shown = shlex.join([SHOWN_PY, f"benchmarks/{script.name}", *args])
    before_mtime = out.stat().st_mtime_ns if out.exists() else None
    before_load = load()
    started = datetime.datetime.now(datetime.timezone.utc)
    clock = time.perf_counter()
    print(f"== {shown}", flush=True)
    proc = subprocess.run([sys.executable, str(script), *args], cwd=REPO)
    seconds = time.perf_counter() - clock
    if proc.returncode != 0:
        return f"{shown} exited with status {proc.returncode}"
    if not out.exists() or out.stat().st_mtime_ns == before_mtime:
        return f"{shown} did not write {out.relative_to(REPO)}"
    text = out.read_text().rstrip("\n")
    text += (
        "\n\n---\n\n"
        f"Written by {invocation}, which ran `{shown}`"
        f" on {started:%Y-%m-%d} at {started:%H:%M} UTC; it took {seconds:.0f} s."
        f" Load average (1 / 5 / 15 min) before: {before_load}; after: {load()}"
        f" ({os.cpu_count()} cores; wall times grow with the load).\n"
    )
    out.write_text(text)
    return None


def main() -> int:
    found = benchmarks()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(found), metavar="NAME",
                        help=f"run only these ({', '.join(sorted(found))})")
    args = parser.parse_args()
    names = args.only or sorted(found)
    invocation = (f"`{shlex.join([SHOWN_PY, 'benchmarks/run.py', '--only', *names])}`" if args.only
                  else f"`make bench` (`{SHOWN_PY} benchmarks/run.py`)")
    failures = []
    for name in names:
        problem = run_one(name, found[name], invocation)
        if problem:
            print(f"!! {problem}", file=sys.stderr, flush=True)
            failures.append(problem)
    if failures:
        print(f"{len(failures)} of {len(names)} benchmarks failed:", *failures, sep="\n  ", file=sys.stderr)
        return 1
    print(f"rewrote {len(names)} results file(s) in benchmarks/results/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
