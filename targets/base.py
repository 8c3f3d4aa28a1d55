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
from typing import Any, Callable, ClassVar, Iterator

from flowc import __version__
from flowc.compiler import ir
from flowc.compiler.diagnostics import ERROR, WARNING, CompileError, Diagnostic
from flowc.compiler.spans import Span

# ------------------------------------------------------------ capabilities

# Every construct a target may or may not express, with what it means.
CONSTRUCTS: dict[str, str] = {
    "branch": "static branch and its join",
    "foreach": "foreach fan-out and its join",
    "nested_foreach": "a foreach inside a foreach",
    "foreach_body": "a foreach body of several steps",
    "switch": "switch: one case taken at run time",
    "recursive_switch": "switch whose case loops back to its own step",
    "parameters": "flow parameters",
    "required_parameters": "parameters without a default the user must give",
    "retry": "@retry",
    "timeout": "@timeout",
    "catch": "@catch",
    "resources": "@resources (cpu, memory, disk)",
    "gpu": "GPUs (@resources(gpu=) / @kubernetes(gpu=) / @batch(gpu=))",
    "environment": "@environment variables",
    "secrets": "@secrets (references by name)",
    "schedule": "@schedule",
    "trigger": "@trigger on events",
    "project": "@project namespacing",
    "image": "a per-step image (@kubernetes(image=) / @batch(image=))",
    "kubernetes": "@kubernetes placement and pod options",
    "batch": "@batch placement on AWS Batch",
    "packages": "@pypi / @conda per-step environments",
}


@dataclass(frozen=True)
class Capability:
    supported: bool
    note: str = ""


def yes(note: str = "") -> Capability:
    return Capability(True, note)


def no(note: str = "") -> Capability:
    return Capability(False, note)


# ------------------------------------------------------------ options


@dataclass(frozen=True)
class Option:
    name: str
    type: type
    default: Any
    help: str
    choices: tuple[Any, ...] = ()


def default_image() -> str:
    """The image every step without its own runs in; `flowc environments` builds it."""
    return f"flowc:{__version__}"


COMMON_OPTIONS: tuple[Option, ...] = (
    Option("image", str, default_image(), "container image with Python and flowc installed"),
    Option("datastore", str, "s3://flowc-datastore", "datastore URL the tasks read and write (fsspec)"),
    Option("code_package", str, "", "URL of the code package (default: computed in the datastore)"),
    Option("python", str, "python", "the Python interpreter inside the container"),
    Option("registry", str, "", "image registry of per-step environments (REGISTRY/FLOW:ENVID)"),
    Option("environments", str, "image", "per-step environments: prebuilt images, or built by each container "
           "at start (bootstrap)", ("image", "bootstrap")),
)


class OptionError(Exception):
    pass


def coerce_option(opt: Option, value: Any, origin: str) -> Any:
    """Check (and convert flag strings to) an option's declared type."""
    if opt.type is bool and isinstance(value, str):
        if value.lower() in ("1", "true", "yes", "on"):
            value = True
        elif value.lower() in ("0", "false", "no", "off"):
            value = False
    elif opt.type is int and isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise OptionError(f"{origin}: option {opt.name} must be a whole number, not {value!r}") from None
    elif opt.type is float and isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise OptionError(f"{origin}: option {opt.name} must be a number, not {value!r}") from None
    elif opt.type is dict and isinstance(value, str):
        try:
            value = dict(item.split("=", 1) for item in value.split(",") if item)
        except ValueError:
            raise OptionError(f"{origin}: option {opt.name} takes key=value,key=value") from None
    if opt.type is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, opt.type) or (opt.type is int and isinstance(value, bool)):
        raise OptionError(f"{origin}: option {opt.name} must be of type {opt.type.__name__}, not {value!r}")
    if opt.choices and value not in opt.choices:
        raise OptionError(f"{origin}: option {opt.name} must be one of {', '.join(map(str, opt.choices))}")
    return value


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
        import gc

        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._compile(flow)
        finally:
            if enabled:
                gc.enable()

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


def resources_of(step: ir.Step) -> dict[str, Any]:
    """The step's resource needs merged across @resources, @kubernetes and @batch
    (the largest value wins, as in Metaflow)."""
    d = step.decorators
    out: dict[str, Any] = {}
    for deco in (d.resources, d.kubernetes, d.batch):
        if deco is None:
            continue
        for key in ("cpu", "memory", "gpu", "disk", "shared_memory"):
            value = getattr(deco, key, None)
            if value is not None:
                out[key] = max(out.get(key, value), value)
    return out


@dataclass(frozen=True)
class Tmpfs:
    """@kubernetes(use_tmpfs=...): a memory-backed folder mounted in the pod."""

    path: str
    size_mb: int
    tempdir: bool  # METAFLOW_TEMPDIR points at it


def tmpfs_of(step: ir.Step) -> Tmpfs | None:
    """The step's tmpfs, with Metaflow's defaults: on when use_tmpfs or tmpfs_size
    is given, at /metaflow_temp, half the step's memory (4096 MB unless set)."""
    k8s = step.decorators.kubernetes
    opts = k8s.options if k8s is not None else {}
    if not (opts.get("use_tmpfs") or opts.get("tmpfs_size")):
        return None
    size = opts.get("tmpfs_size") or int(resources_of(step).get("memory") or 4096) // 2
    return Tmpfs(opts.get("tmpfs_path", "/metaflow_temp"), int(size), bool(opts.get("tmpfs_tempdir", True)))


def k8s_camel(value: Any) -> Any:
    """Kubernetes field names as its API writes them (run_as_user -> runAsUser), all the way down."""
    if isinstance(value, dict):
        return {_camel(k): k8s_camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [k8s_camel(v) for v in value]
    return value


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def uses(flow: ir.Flow) -> Iterator[tuple[str, Span, str]]:
    """Every construct the flow uses: (construct, where, a phrase for messages)."""
    steps = flow.steps_by_name
    for s in flow.steps:
        if s.kind == ir.BRANCH:
            yield "branch", s.next_span or s.span, f"the branch in step '{s.name}'"
        if s.kind == ir.FOREACH:
            yield "foreach", s.next_span or s.span, f"the foreach in step '{s.name}'"
            if s.foreach_stack:
                yield "nested_foreach", s.next_span or s.span, f"the nested foreach in step '{s.name}'"
            body_start = steps.get(s.next[0]) if s.next else None
            if body_start is not None and s.matching_join and body_start.next != (s.matching_join,):
                yield "foreach_body", s.next_span or s.span, f"the multi-step foreach body of step '{s.name}'"
        if s.kind == ir.SWITCH:
            yield "switch", s.next_span or s.span, f"the switch in step '{s.name}'"
            if s.is_recursive:
                yield "recursive_switch", s.next_span or s.span, f"the recursive switch in step '{s.name}'"
        d = s.decorators
        for key in ("retry", "timeout", "catch", "environment", "secrets", "kubernetes", "batch"):
            deco = getattr(d, key)
            if deco is not None:
                yield key, deco.span, f"@{key} on step '{s.name}'"
        res = d.resources
        if res is not None and (res.cpu or res.memory or res.disk or res.shared_memory):
            yield "resources", res.span, f"@resources on step '{s.name}'"
        gpu_deco = next((x for x in (d.resources, d.kubernetes, d.batch) if x is not None and x.gpu), None)
        if gpu_deco is not None:
            yield "gpu", gpu_deco.span, f"GPUs on step '{s.name}'"
        image_deco = next((x for x in (d.kubernetes, d.batch) if x is not None and x.image), None)
        if image_deco is not None:
            yield "image", image_deco.span, f"the image of step '{s.name}'"
        for pkg in (d.pypi, d.conda):
            if pkg is not None and not pkg.disabled:
                yield "packages", pkg.span, f"@{pkg.manager} on step '{s.name}'"
    for p in flow.parameters:
        yield "parameters", p.span, f"parameter '{p.name}'"
        if p.required:
            yield "required_parameters", p.span, f"required parameter '{p.name}'"
    fd = flow.decorators
    for key in ("schedule", "trigger", "project"):
        deco = getattr(fd, key)
        if deco is not None:
            yield key, deco.span, f"@{key} on flow {flow.name}"
    for pkg in (fd.pypi_base, fd.conda_base):
        if pkg is not None and not pkg.disabled:
            yield "packages", pkg.span, f"@{pkg.manager}_base on flow {flow.name}"


def carried_options(flow: ir.Flow) -> Iterator[tuple[str, str, Any, Span, str]]:
    """Each carried option a flow uses (compiler/decorators.py OPTIONS): (construct
    of its decorator, option, its table entry, where, a phrase for messages)."""
    from flowc.compiler.options import carried

    decos = [(s.decorators.kubernetes, f"step '{s.name}'") for s in flow.steps]
    decos += [(s.decorators.batch, f"step '{s.name}'") for s in flow.steps]
    decos += [(s.decorators.secrets, f"step '{s.name}'") for s in flow.steps]
    decos += [(flow.decorators.trigger, f"flow {flow.name}")]
    for deco, owner in decos:
        if deco is None:
            continue
        construct = type(deco).__name__.lower()
        for name in sorted(deco.options):
            yield construct, name, carried(deco, name), deco.span, f"@{construct}({name}=...) on {owner}"


def json_text(value: Any) -> str:
    """Compact, deterministic JSON for embedding values in generated files."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


TargetFactory = Callable[..., Target]
