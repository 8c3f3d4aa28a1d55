"""flowc's compiler: reads a flow with libcst (never importing it) into the IR.

Stages: parse (compiler/parse.py) -> analyze (analyzer.py, artifacts.py,
decorators.py) -> derive graph facts (graph.py) -> check (checks.py). The
public API is ``analyze_file`` (all diagnostics, for lint and pre-commit) and
``load_flow`` (one flow's IR, or CompileError), both in pipeline.py.
"""

from .diagnostics import CompileError, Diagnostic
from .pipeline import Analysis, analyze_file, analyze_source, load_flow

__all__ = ["Analysis", "CompileError", "Diagnostic", "analyze_file", "analyze_source", "load_flow"]
