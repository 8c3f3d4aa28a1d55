"""flowc's compiler: reads a flow with libcst (never importing it) into the IR.

Stages: parse (compiler/parse.py) -> analyze (analyzer.py, artifacts.py,
decorators.py) -> derive graph facts (graph.py) -> check (checks.py,
environments.py). The public API is ``analyze_file`` (all diagnostics, for
lint and pre-commit) and ``load_flow`` (one flow's IR, or CompileError), both
in pipeline.py. They are loaded on first use, so importing a light module of
this package (diagnostics, ir) does not load libcst.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Analysis", "CompileError", "Diagnostic", "analyze_file", "analyze_source", "load_flow"]


def __getattr__(name: str) -> Any:
    if name in ("Analysis", "analyze_file", "analyze_source", "load_flow"):
        from . import pipeline

        return getattr(pipeline, name)
    if name in ("CompileError", "Diagnostic"):
        from . import diagnostics

        return getattr(diagnostics, name)
    raise AttributeError(f"module 'flowc.compiler' has no attribute {name!r}")
