"""Does compiling grow in proportion to the flow? 1,000 against 10,000 steps.

    .venv/bin/python benchmarks/scale_bench.py [--write]

Generated linear flows (benchmarks/gen.py) of 1,000 and 10,000 steps, and a
branch 1,000 wide: the analysis (parse, derive, check; the analysis cache
off, so it is measured), each target alone on the loaded IR, and the whole
`flowc check` of the 10,000-step flow in a new process, the flow new to
flowc's cache (another flow checked there first, as on a machine where
flowc has run before), so it is parsed and its analysis stored (the least
of three runs; bytecode kept, as with an installed package).
Each is CPU time of this process: one run of the analysis, the least of
five (1,000 steps) or three (10,000 steps, the branch) runs of a target. Ten times the steps should cost about ten times as much: the
goal is t(10k)/t(1k) ≤ 12, output size likewise, and the 10,000-step check
under 5 s. --write replaces benchmarks/results/scale.md.
"""

from __future__ import annotations

import gc
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
os.environ["FLOWC_CACHE_DIR"] = "off"

from gen import linear_flow, wide_branch_flow  # noqa: E402

TARGETS = ["argo", "kubeflow", "airflow", "prefect", "stepfunctions"]


def cpu(fn, repeat: int = 1):
    """The least CPU time of ``repeat`` runs (what the work costs; other load
    only adds to it), and the value; a full collection before each, untimed,
    so no run pays for the garbage of the one before, nor finds the values
    it computes in a memo left by the one before. The cyclic garbage
    collector is off while a run is timed, as in `flowc check` and `flowc
    compile` (flowc/cli.py, run(): they exit without collecting): with it on,
    the first allocation after a compile (which pauses it) collects the
    compile's cyclic garbage (Airflow's tasks and their groups refer to each
    other: 140,000 objects at 10,000 steps, 0.1 s), timed with the compile."""
    best = value = None
    for _ in range(repeat):
        forget_values()
        gc.collect()
        gc.disable()
        try:
            start = time.process_time()
            value = fn()
            spent = time.process_time() - start
        finally:
            gc.enable()
        best = spent if best is None else min(best, spent)
    return best, value


# The targets' memo caches of values (names, YAML scalars). A run repeated on
# the same flow would find every value computed already, which a compile in a
# new process never does; the other caches (per type, per template) hold work
# a new process redoes once, like loading the code, and stay warm.
MEMOS = (("flowc.targets.argo.names", "dns_label"), ("flowc.targets.argo.writer", "scalar"))


def forget_values() -> None:
    import importlib

    for module, name in MEMOS:
        getattr(importlib.import_module(module), name).cache_clear()


def compile_for(name: str, flow):
    from flowc.targets import registry

    target = registry.get(name)({"code_package": "s3://bucket/flow.tar.gz"})
    files = target.compile(flow).files
    return sum(len(data) for data in files.values())


def main() -> None:
    from flowc.compiler import analyze_file

    for name in TARGETS:  # load each target (and its templates) once, outside the timings
        from flowc.targets import registry

        registry.get(name)
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        flows = {}
        analysis_time = {}
        for label, source in (("1k", linear_flow(1000)), ("10k", linear_flow(10000)),
                              ("wide", wide_branch_flow(1000))):
            path = tmp / f"flow_{label}.py"
            path.write_text(source)
            seconds, analysis = cpu(lambda: analyze_file(path))
            assert analysis.ok, [d.message for d in analysis.diagnostics][:3]
            flows[label] = analysis.flow()
            analysis_time[label] = seconds
        rows.append(("analysis (parse, derive, check)", analysis_time["1k"], analysis_time["10k"], None, None,
                     analysis_time["wide"]))
        for name in TARGETS:
            compile_for(name, flows["1k"])  # templates compiled, code warm
            t1, size1 = cpu(lambda: compile_for(name, flows["1k"]), repeat=5)
            t10, size10 = cpu(lambda: compile_for(name, flows["10k"]), repeat=3)
            tw, _ = cpu(lambda: compile_for(name, flows["wide"]), repeat=3)
            rows.append((f"{name} (the target alone)", t1, t10, size1, size10, tw))
        check_runs = []
        # bytecode kept, as with an installed package; flowc has run before (another flow checked into the
        # same cache folder, untimed): the 10,000-step flow is new to its cache, so it is parsed and stored
        base_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        base_env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
        (tmp / "other.py").write_text(linear_flow(3, name="OtherFlow"))
        for n in range(3):  # the least of three: other work on the machine only adds to it
            env = {**base_env, "FLOWC_CACHE_DIR": str(tmp / f"cache-{n}")}
            subprocess.run([sys.executable, "-m", "flowc", "check", "-q", str(tmp / "other.py")], check=True,
                           env=env, capture_output=True)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run([sys.executable, "-m", "flowc", "check", "-q", str(tmp / "flow_10k.py")], check=True,
                           env=env, capture_output=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            check_runs.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        check_cli = min(check_runs)
    lines = [
        "# Compile time and output size against the number of steps",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}. Command: `.venv/bin/python benchmarks/scale_bench.py --write`.",
        "",
        "Generated linear flows of 1,000 and 10,000 steps and a branch 1,000 wide; CPU time in process "
        "(the analysis cache off, the cyclic garbage collector off while timed, as in the CLI): one run of the "
        "analysis; for a target, the least of 5 runs (1,000 steps) "
        "or 3 (10,000 steps, the branch). Goal: t(10k)/t(1k) ≤ 12 and sizes in proportion.",
        "",
        "| stage | 1,000 steps | 10,000 steps | t(10k)/t(1k) | size 1k | size 10k | size ratio | 1,000-wide branch |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for what, t1, t10, s1, s10, tw in rows:
        ratio = t10 / t1
        sizes = (f"{s1:,} B | {s10:,} B | {s10 / s1:.1f}" if s1 else " |  | ")
        lines.append(f"| {what} | {t1:.2f} s | {t10:.2f} s | {ratio:.1f} ({'ok' if ratio <= 12 else 'OVER'}) | "
                     f"{sizes} | {tw:.2f} s |")
    lines += ["", f"`flowc check` of the 10,000-step flow, a new process, the flow new to flowc's cache (which "
              f"holds another flow's analysis: flowc has run before), so it is parsed and its analysis stored (the "
              f"least of 3 runs; "
              f"all: {', '.join(f'{t:.2f}' for t in check_runs)} s): {check_cli:.2f} s of CPU "
              f"(goal < 5 s: {'ok' if check_cli < 5 else 'OVER'}).",
              "", "Most of the analysis is libcst's parser and the one pass that gives its nodes positions; "
              "the targets' own time is the rows below it.",
              f"Load average (1 min) at the end: {os.getloadavg()[0]:.2f}."]
    text = "\n".join(lines) + "\n"
    print(text)
    if "--write" in sys.argv:
        (HERE / "results" / "scale.md").write_text(text)


if __name__ == "__main__":
    main()
