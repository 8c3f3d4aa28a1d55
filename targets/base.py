"""The Target base class: what every orchestrator backend shares.

A target is a small subclass registered by name (targets/registry.py). It
declares:

- ``CAPABILITIES``: which flow constructs it can express (class constants,
  printed by ``flowc targets``). Before emitting, ``Target.compile`` walks
  the IR once and reports every construct the target lacks through
  ``unsupported()``, an error by default and a warning when the user asks
  (``--unsupported warn``). Nothing is dropped silently.
- ``OPTIONS``: its settings (image, datastore, namespace, ...), read from
  flags and ``[tool.flowc.<target>]``.
- ``lower(flow)``: optional rewrite passes on the IR before emission.
- ``emit(flow)``: the files it writes, as ``{relative path: bytes}``.

Targets read the IR only; every derived fact (joins, foreach stacks, parent
groups) comes from it. Each emitted task runs the runtime's one command,
built here by ``runtime_argv`` so that all targets call it the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

from flowc.compiler import ir
from flowc.compiler.collector import paused
from flowc.compiler.diagnostics import ERROR, WARNING, CompileError, Diagnostic
from flowc.compiler.spans import Span

from .capabilities import CONSTRUCTS, Capability, carried_options, no, uses, yes  # noqa: F401 (the API)
from .options import COMMON_OPTIONS, Option, OptionError, coerce_option, default_image  # noqa: F401

# ------------------------------------------------------------ the target


@dataclass
class Output:
    """What a compile produced: files (relative path -> bytes) and diagnostics."""

    files: dict[str, bytes] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)


class Target:
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    CAPABILITIES: ClassVar[dict[str, Capability]] = {}
    OPTIONS: ClassVar[tuple[Option, ...]] = ()
    # "file": emit() returns exactly one file; "directory": several
    OUTPUT_KIND: ClassVar[str] = "file"

    def __init__(self, options: dict[str, Any] | None = None, unsupported_level: str = ERROR):
        self.options = self.resolve_options(options or {})
        self.unsupported_level = unsupported_level
        self.diagnostics: list[Diagnostic] = []
        # sha256 of the flow's code package (flowc/packaging.py), when the
        # compile command read the sources: tasks then fetch the code with --package
        self.package_sha: str | None = None
        self.flow: ir.Flow | None = None
        self.environments = None  # compiler.environments.EnvironmentPlan, set by compile()

    # ---- options

    @classmethod
    def all_options(cls) -> dict[str, Option]:
        out = {o.name: o for o in COMMON_OPTIONS}
        out.update({o.name: o for o in cls.OPTIONS})
        return out

    @classmethod
    def resolve_options(cls, given: dict[str, Any], origin: str = "option") -> dict[str, Any]:
        known = cls.all_options()
        out = {name: opt.default for name, opt in known.items()}
        for key, value in given.items():
            name = key.replace("-", "_")
            if name not in known:
                raise OptionError(f"{origin}: target {cls.name} has no option {key!r}; "
                                  f"options: {', '.join(sorted(known))}")
            out[name] = coerce_option(known[name], value, origin)
        return out

    def option(self, name: str) -> Any:
        return self.options[name]

    # ---- diagnostics

    def unsupported(self, message: str, span: Span, hint: str | None = None) -> None:
        """A construct this target cannot express: an error, or a warning if asked."""
        severity = WARNING if self.unsupported_level == WARNING else ERROR
        self.diagnostics.append(Diagnostic("FC501", severity, f"{self.name}: {message}", span, hint))

    def warn(self, message: str, span: Span, hint: str | None = None) -> None:
        """Something the target expresses only in part, said as a warning (FC501)."""
        self.diagnostics.append(Diagnostic("FC501", WARNING, f"{self.name}: {message}", span, hint))

    def error(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, ERROR, f"{self.name}: {message}", span, hint))

    def check_capabilities(self, flow: ir.Flow) -> None:
        refused = set()
        for construct, span, what in uses(flow):
            cap = self.CAPABILITIES.get(construct)
            if cap is None or not cap.supported:
                refused.add(construct)
                note = cap.note if cap else ""
                self.unsupported(f"{what} cannot be expressed" + (f": {note}" if note else ""), span,
                                 "remove it, compile for another target, or pass --unsupported warn to drop it")
        for construct, name, opt, span, what in carried_options(flow):
            if construct not in refused and self.name not in opt.targets:  # a refused decorator says it once
                where = f" (honoured by {', '.join(opt.targets)})" if opt.targets else ""
                self.unsupported(f"{what} cannot be expressed: {opt.note}{where}", span,
                                 "remove the option, compile for another target, or pass --unsupported warn to drop it")

    # ---- the pipeline

    def lower(self, flow: ir.Flow) -> ir.Flow:
        """Rewrite passes on the IR before emission (none by default)."""
        return flow

    def emit(self, flow: ir.Flow) -> dict[str, bytes]:
        raise NotImplementedError

    def compile(self, flow: ir.Flow) -> Output:
        """The target's files for a flow. The cyclic garbage collector pauses
        meanwhile, as during analysis: emitting allocates a great many small,
        acyclic objects, and each collection would walk all of them."""
        with paused():
            return self._compile(flow)

    def _compile(self, flow: ir.Flow) -> Output:
        from flowc.compiler.environments import resolve

        self.diagnostics = []
        self.flow = flow
        self.environments = resolve(flow)
        self.check_capabilities(flow)
        if any(d.is_error for d in self.diagnostics):
            raise CompileError(self.diagnostics)
        files = self.emit(self.lower(flow))
        if any(d.is_error for d in self.diagnostics):
            raise CompileError(self.diagnostics)
        return Output(files=files, diagnostics=list(self.diagnostics))

    # ---- helpers every emitter uses

    def runtime_argv(self, flow: ir.Flow, step: ir.Step, *, run_id: str, index: str, attempt: str,
                     first_attempt: str | None = None, iteration: str | None = None, params: list[str] | None = None,
                     output: str | None = None, extra: list[str] | None = None) -> list[str]:
        """The runtime's one command for a step. Arguments are already target
        expressions (``{{workflow.name}}``, ``{{ run_id }}``...), passed as
        separate argv elements so no value ever needs shell quoting."""
        argv = [self.option("python"), "-m", "flowc.runtime", "step",
                "--flow", flow_file(flow), "--ir", ir_file(flow),
                "--step", step.name, "--run-id", run_id, "--index", index, "--attempt", attempt]
        if first_attempt is not None:  # an engine whose rerun of a task continues its attempt count
            argv += ["--first-attempt", first_attempt]
        argv += ["--datastore", self.option("datastore")]
        package = self.code_package_url(flow)
        if package:
            argv += ["--package", package]
        if iteration is not None:
            argv += ["--iteration", iteration]
        for p in params or []:
            argv += ["--param", p]
        if output is not None:
            argv += ["--output", output]
        env = self.bootstrap_environment(step)
        if env is not None:
            argv += ["--environment", json_text({k: v for k, v in env.to_json().items() if k != "steps"})]
        return argv + list(extra or [])

    def code_package_url(self, flow: ir.Flow) -> str:
        """Where tasks fetch the code: the code_package option, else the package
        `flowc package` uploads to the datastore, else nothing (code in the image)."""
        if self.option("code_package"):
            return self.option("code_package")
        if self.package_sha:
            from flowc.runtime.package import url_for

            return url_for(self.option("datastore"), flow.name, self.package_sha)
        return ""

    def step_environment(self, step: ir.Step):
        """The step's environment (compiler/environments.py), resolved once per compile."""
        if self.environments is None:
            from flowc.compiler.environments import resolve

            self.environments = resolve(self.flow) if self.flow is not None else None
        return self.environments.of(step.name) if self.environments is not None else None

    def image_for(self, step: ir.Step) -> str:
        """The image a step runs in. A step with pinned packages runs in its
        environment's image (REGISTRY/FLOW:ENVID, built from `flowc environments
        --build-context`), or, in bootstrap mode, in the default image, building
        its environment at start; otherwise its own image (@kubernetes/@batch
        image=), or the default."""
        env = self.step_environment(step)
        if env is not None and env.manager != "none" and self.option("environments") == "image":
            return environment_image(self.option("registry"), self.flow.name, env.id)
        if env is not None and env.manager != "none":
            return env.image or self.option("image")
        d = step.decorators
        for deco in (d.kubernetes, d.batch):
            if deco is not None and deco.image:
                return deco.image
        return self.option("image")

    def bootstrap_environment(self, step: ir.Step):
        """The environment a container must build at start (bootstrap mode), or None."""
        env = self.step_environment(step)
        if env is not None and env.manager != "none" and self.option("environments") == "bootstrap":
            return env
        return None


# Metaflow's limit on a task without @timeout (its DEFAULT_RUNTIME_LIMIT): 5 days
DEFAULT_TASK_TIMEOUT = 5 * 24 * 3600
# seconds an engine waits past @timeout: the runtime stops the step at @timeout
# itself (and reports it as Metaflow does); the engine's timeout is a backstop
TIMEOUT_MARGIN = 60


def engine_timeout(step: ir.Step, margin: int = TIMEOUT_MARGIN) -> int:
    """The timeout, in seconds, every target gives a step's task: @timeout plus
    the margin, or Metaflow's 5-day limit for a step without @timeout."""
    t = step.decorators.timeout
    return t.seconds + margin if t is not None else DEFAULT_TASK_TIMEOUT


def describe_step(flow: ir.Flow, step: ir.Step) -> str:
    """How every target names a step in comments and descriptions:
    ``train (flow.py:42): the first line of its docstring``."""
    text = f"{step.name} ({source_ref(flow, step.span)})"
    first = step.docstring.strip().splitlines()[0] if step.docstring and step.docstring.strip() else ""
    return f"{text}: {first}" if first else text


def environment_image(registry: str, flow_name: str, env_id: str) -> str:
    """REGISTRY/FLOW:ENVID (lowercase, as image names must be)."""
    import re

    repo = re.sub(r"[^a-z0-9._-]+", "-", flow_name.lower()).strip("-._") or "flow"
    return f"{registry.rstrip('/')}/{repo}:{env_id}" if registry else f"{repo}:{env_id}"


def flow_file(flow: ir.Flow) -> str:
    """The flow module's file name, as it lies in the code package."""
    return flow.source.path.rsplit("/", 1)[-1]


def ir_file(flow: ir.Flow) -> str:
    return f"{flow.name}.ir.json"


def source_ref(flow: ir.Flow, span: Span) -> str:
    """`flow.py:LINE`, how generated code points back at the flow; a step or
    Parameter of a base class in another module is `common/base.py:LINE`, the
    module's path as it lies in the code package (beside the flow)."""
    if span.file == flow.source.path:
        return f"{flow_file(flow)}:{span.line}"
    folder = flow.source.path.rpartition("/")[0]
    shown = span.file[len(folder) + 1:] if folder and span.file.startswith(folder + "/") else span.file
    return f"{shown}:{span.line}"


def json_text(value: Any) -> str:
    """Compact, deterministic JSON for embedding values in generated files."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


TargetFactory = Callable[..., Target]
