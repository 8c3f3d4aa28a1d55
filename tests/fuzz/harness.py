"""Run one source text through check and every target in process, classify the outcome.

An outcome is "ok" (compiled, every output parses), "rejected" (a CompileError
whose diagnostics all carry a code and a position), "internal" (any other
exception), "invalid" (an output that does not parse) or "hang" (over the
time bound). Shared by the fast test in make test and tests/fuzz/run.py.
"""

from __future__ import annotations

import json
import signal
import time
import traceback
from contextlib import contextmanager

import yaml

from flowc.compiler import analyze_source
from flowc.compiler.diagnostics import CompileError
from flowc.targets import registry

TARGETS = ("argo", "airflow", "prefect", "stepfunctions", "kubeflow")


class Hang(Exception):
    pass


@contextmanager
def time_bound(seconds: float):
    """Raise Hang in the body after ``seconds``. An outer timer on SIGALRM
    (pytest-timeout's, for the whole test) is given back what is left of it."""
    def fire(signum, frame):
        raise Hang()

    outer, _interval = signal.getitimer(signal.ITIMER_REAL)
    began = time.monotonic()
    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        if outer:  # at least a moment, so that an outer timer that ran out still fires
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - began), 0.001))


def _positioned(diags) -> bool:
    return all(d.code.startswith("FC") and d.span.line >= 1 and d.span.col >= 1 for d in diags)


def valid_output(name: str, data: bytes) -> str | None:
    """None if the file parses by its kind, else the reason."""
    text = data.decode("utf-8")
    try:
        if name.endswith((".yaml", ".yml")):
            list(yaml.safe_load_all(text))
        elif name.endswith(".json"):
            json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
        elif name.endswith(".py"):
            compile(text, name, "exec")
    except Exception as exc:  # noqa: BLE001 - any parse failure is an invalid output
        return f"{name}: {type(exc).__name__}: {str(exc)[:200]}"
    return None


def run_case(text: str, seconds: float = 10.0) -> dict[str, tuple[str, str]]:
    """Outcome per stage ("check" and each target): (kind, detail)."""
    out: dict[str, tuple[str, str]] = {}
    try:
        with time_bound(seconds):
            analysis = analyze_source(text, "fuzz.py")
    except Hang:
        return {"check": ("hang", "")}
    except Exception:  # noqa: BLE001
        return {"check": ("internal", traceback.format_exc(limit=-4))}
    if not _positioned(analysis.diagnostics):
        return {"check": ("internal", "diagnostic without code or position")}
    if not analysis.flows or not analysis.ok:
        out["check"] = ("rejected", ",".join(sorted({d.code for d in analysis.diagnostics})))
        if analysis.ok and not analysis.flows:
            out["check"] = ("rejected", "no flow")
        return out
    out["check"] = ("ok", "")
    try:
        flow = analysis.flow(analysis.flows[0].name)
    except CompileError as exc:
        out["check"] = ("rejected", ",".join(d.code for d in exc.diagnostics))
        return out
    for name in TARGETS:
        try:
            with time_bound(seconds):
                result = registry.get(name)().compile(flow)
        except Hang:
            out[name] = ("hang", "")
            continue
        except CompileError as exc:
            out[name] = ("rejected", ",".join(d.code for d in exc.diagnostics))
            if not _positioned(exc.diagnostics):
                out[name] = ("internal", "diagnostic without code or position")
            continue
        except Exception:  # noqa: BLE001
            out[name] = ("internal", traceback.format_exc(limit=-4))
            continue
        bad = [r for f, data in result.files.items() if (r := valid_output(f, data))]
        out[name] = ("invalid", bad[0]) if bad else ("ok", "")
    return out
