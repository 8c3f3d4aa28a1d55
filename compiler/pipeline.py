"""The public analysis API: parse -> analyze -> derive -> check.

``analyze_file`` runs every stage and returns all diagnostics at once;
lint, ``flowc check`` and the pre-commit hook use it without generating
anything. ``load_flow`` is what compilation uses: one flow's IR, or a
CompileError carrying every diagnostic.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from typing import TYPE_CHECKING

from . import ir
from .collector import paused
from .diagnostics import ERROR, CompileError, Diagnostic, has_errors
from .source import display_path, read
from .spans import Span

if TYPE_CHECKING:
    from .analyzer import FlowFacts
    from .configs import ConfigInputs


@dataclass
class Analysis:
    """What analyzing one file found: its flows' IR and every diagnostic."""

    path: str
    source_lines: list[str]
    flows: tuple[ir.Flow, ...] = ()
    facts: tuple[FlowFacts, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    # diagnostics found while analyzing each flow (module-level ones under None)
    by_flow: dict[str | None, tuple[Diagnostic, ...]] = field(default_factory=dict)
    # lines of the other modules read for base classes, so their diagnostics show the source
    other_sources: dict[str, list[str]] = field(default_factory=dict)
    # False when the analysis read more than the file and the modules beside it
    # (base classes elsewhere, config or included files): the cache keeps it not
    cacheable: bool = True

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    def flow(self, name: str | None = None) -> ir.Flow:
        """One flow by name, or the only flow; CompileError otherwise."""
        if not self.flows:
            raise CompileError(self.diagnostics or [Diagnostic(
                "FC002", ERROR, f"{self.path} defines no flow", Span.at(self.path, 1))], self.sources)
        if name is None:
            if len(self.flows) == 1:
                return self._checked(self.flows[0])
            names = ", ".join(f.name for f in self.flows)
            raise CompileError([Diagnostic("FC004", ERROR, f"{self.path} defines several flows ({names})",
                                           Span.at(self.path, 1), "pick one with --flow NAME")]
                               + list(self.by_flow.get(None, ())), self.sources)
        for f in self.flows:
            if f.name == name:
                return self._checked(f)
        import difflib

        names = ", ".join(f.name for f in self.flows) or "none"
        close = difflib.get_close_matches(name, [f.name for f in self.flows], n=1)
        hint = (f"did you mean --flow {close[0]}? " if close else "") + f"flows in this file: {names}"
        raise CompileError([Diagnostic("FC004", ERROR, f"{self.path} has no flow named {name}",
                                       Span.at(self.path, 1), hint)]
                           + list(self.by_flow.get(None, ())), self.sources)

    def _checked(self, flow: ir.Flow) -> ir.Flow:
        diags = tuple(self.by_flow.get(None, ())) + tuple(self.by_flow.get(flow.name, ()))
        if has_errors(diags):
            raise CompileError(diags, self.sources)
        return flow

    @property
    def sources(self) -> dict[str, list[str]]:
        return {**self.other_sources, self.path: self.source_lines}


def analyze_source(text: str, path: str, real_path: Path | None = None,
                   configs: "ConfigInputs | None" = None, probed: set[str] | None = None) -> Analysis:
    """Analyze source text shown as ``path``; ``real_path`` (the file on disk)
    lets the analysis find the modules the flow imports from beside it (the
    import names it looked up are added to ``probed``) and the config files
    it reads; ``configs`` holds --config overrides.

    The cyclic garbage collector is paused meanwhile (compiler/collector.py):
    libcst allocates hundreds of thousands of nodes."""
    with paused():
        return _analyze_source(text, path, real_path, configs, probed)


def _analyze_source(text: str, path: str, real_path: Path | None, configs: "ConfigInputs | None",
                    probed: set[str] | None) -> Analysis:
    from .analyzer import analyze_module
    from .checks import check_dataflow, check_names
    from .configs import ConfigInputs
    from .environments import check_environments
    from .graph import derive
    from .modules import local_modules
    from .parse import parse_text, too_deep

    lines = text.splitlines()
    parsed, error = parse_text(text, path)
    if parsed is None:
        return Analysis(path, lines, diagnostics=(error,), by_flow={None: (error,)})
    try:
        inputs = configs or ConfigInputs()
        if inputs.folder is None:
            folder = real_path.parent if real_path is not None else Path(path).parent
            inputs = ConfigInputs(folder, inputs.files, inputs.values)
        facts_list, by_flow = analyze_module(parsed, real_path, inputs)
    except RecursionError:
        error = too_deep(path)
        return Analysis(path, lines, diagnostics=(error,), by_flow={None: (error,)})
    flows: list[ir.Flow] = []
    base_files = tuple(sorted({f for facts in facts_list for f in facts.base_files}))
    modules = (local_modules(real_path, parsed.module, base_files, probed)
               if real_path is not None and facts_list else ())
    other_sources: dict[str, list[str]] = {}
    for facts in facts_list:
        other_sources.update(facts.base_sources)
        if modules:
            facts.flow = replace(facts.flow, source=replace(facts.flow.source, modules=modules))
        try:
            flow, graph_diags = derive(facts)
        except RecursionError:
            flow, graph_diags = facts.flow, [too_deep(path)]
        facts.flow = flow
        diags = list(graph_diags) + check_names(facts) + check_environments(flow)
        structural = [d for d in list(graph_diags) + by_flow.get(flow.name, []) if d.is_error and d.code.startswith("FC1")]
        if not structural:  # dataflow on a broken graph would only add noise
            diags += check_dataflow(facts)
        by_flow.setdefault(flow.name, []).extend(diags)
        flows.append(flow)
    everything = _dedupe([d for ds in by_flow.values() for d in ds])
    return Analysis(
        path=path,
        source_lines=lines,
        flows=tuple(flows),
        facts=tuple(facts_list),
        diagnostics=tuple(everything),
        by_flow={k: tuple(_dedupe(v)) for k, v in by_flow.items()},
        other_sources=other_sources,
        cacheable=not (base_files or other_sources or any(f.configs or f.includes for f in flows)
                       or any(d.code in UNCACHEABLE or d.code.startswith("FC70") for d in everything)),
    )


# diagnostics about files beyond the flow and the modules beside it (base
# classes found elsewhere or not at all): such an analysis is not cached
UNCACHEABLE = ("FC005", "FC720", "FC721")


def analyze_file(path: str | Path, configs: "ConfigInputs | None" = None, apart: bool = False) -> Analysis:
    """Every diagnostic of a file; from the analysis cache (compiler/cache.py)
    when nothing it read has changed, so an unchanged flow never loads libcst.
    An analysis that read config files, or base classes beyond the modules
    beside the flow, and one given --config overrides, is never cached.
    ``apart``: an analysis not found in the cache runs in a forked child
    (compiler/apart.py); the result comes without its facts."""
    from . import cache

    shown = display_path(path)
    data, text, error = read(path)
    if text is None:
        return Analysis(shown, [], diagnostics=(error,), by_flow={None: (error,)})
    real = Path(path)
    if configs is not None and (configs.files or configs.values):
        return _computed(lambda: analyze_source(text, shown, real, configs), apart)
    hit = cache.lookup(shown, real, data)
    if hit is not None:
        return Analysis(source_lines=text.splitlines(), **hit)

    def analyze_and_store() -> Analysis:
        probed: set[str] = set()
        analysis = analyze_source(text, shown, real, configs, probed)
        if analysis.cacheable:
            with paused():  # as in analyze_source: the libcst nodes still alive would make each collection long
                cache.store(shown, real, data, analysis, probed)
        return analysis

    return _computed(analyze_and_store, apart)


def _computed(analyze, apart: bool) -> Analysis:
    if not apart:
        return analyze()
    from .apart import in_child

    return in_child(analyze)


def load_flow(path: str | Path, flow: str | None = None, configs: ConfigInputs | None = None,
              apart: bool = False) -> ir.Flow:
    """The IR of one flow in a file; raises CompileError with every diagnostic.
    ``configs``: --config / --config-value overrides (compiler/configs.py);
    ``apart``: see analyze_file."""
    return analyze_file(path, configs, apart).flow(flow)


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen = set()
    out = []
    for d in sorted(diags, key=Diagnostic.sort_key):
        key = (d.code, d.span, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
