"""Normalize decorator arguments into the IR's typed decorator fields.

Each decorator flowc knows has one function here that reads its keyword
arguments through an ``Args`` reader. The reader evaluates literals (or
module-level names bound to literals), checks types, and reports any
argument it was not asked for: nothing a user writes is silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

import libcst as cst

from . import ir
from .diagnostics import ERROR, NOTE, WARNING, Diagnostic
from .literals import NotLiteral, evaluate
from .spans import Span

# the decorators and their option table (kept light, for targets): compiler/options.py
from .options import (CARRIED, FLOW_DECORATORS, HONOURED, IGNORED, OPTIONS, STEP_DECORATORS,  # noqa: F401
                      UNSUPPORTED, Opt, carried)


@dataclass
class Args:
    """Typed access to one decorator call's keyword arguments."""

    decorator: str
    span: Span
    kwargs: dict[str, cst.BaseExpression]
    constants: dict[str, Any]
    span_of: Callable[[cst.CSTNode], Span]
    arg_nodes: dict[str, cst.CSTNode] = field(default_factory=dict)  # the whole `name=value`, for pointing
    diagnostics: list[Diagnostic] = field(default_factory=list)
    used: set[str] = field(default_factory=set)

    def error(self, node: cst.CSTNode | None, code: str, message: str, hint: str | None = None) -> None:
        span = self.span_of(node) if node is not None else self.span
        self.diagnostics.append(Diagnostic(code, ERROR, message, span, hint))

    def has(self, name: str) -> bool:
        return name in self.kwargs

    def raw(self, name: str) -> tuple[bool, Any]:
        """(found, value); a non-literal is reported and counts as not found."""
        self.used.add(name)
        node = self.kwargs.get(name)
        if node is None:
            return False, None
        try:
            return True, evaluate(node, self.constants)
        except NotLiteral as exc:
            if getattr(exc, "code", None) is not None:  # a config read that failed (compiler/configs.py)
                if exc.code:  # "": a config whose declaration already has the error
                    self.error(exc.node, exc.code, exc.reason, exc.hint)
                return False, None
            self.error(
                exc.node, "FC401",
                f"argument '{name}' of @{self.decorator} is not a literal: {exc.reason}",
                "flowc reads flows without running them; write the value, or bind it to a module-level name",
            )
            return False, None

    def _typed(self, name: str, default: Any, check: Callable[[Any], bool], want: str, convert=lambda v: v) -> Any:
        found, value = self.raw(name)
        if not found or value is None:
            return default
        if not check(value):
            self.error(self.kwargs[name], "FC403", f"argument '{name}' of @{self.decorator} must be {want}, not {value!r}", 'write a literal of that type')
            return default
        return convert(value)

    def str(self, name: str, default: str | None = None) -> str | None:
        return self._typed(name, default, lambda v: isinstance(v, str), "a string")

    def bool(self, name: str, default: bool = False) -> bool:
        return self._typed(name, default, lambda v: isinstance(v, bool), "True or False")

    def number(self, name: str, default: float | None = None, minimum: float = 0) -> float | None:
        def ok(v: Any) -> bool:
            v = _as_number(v)
            return v is not None and v >= minimum
        return self._typed(name, default, ok, f"a number >= {minimum:g}", _as_number)

    def int(self, name: str, default: int | None = None, minimum: int = 0) -> int | None:
        def ok(v: Any) -> bool:
            v = _as_number(v)
            return v is not None and float(v).is_integer() and v >= minimum
        return self._typed(name, default, ok, f"a whole number >= {minimum}", lambda v: int(_as_number(v)))

    def str_map(self, name: str) -> dict[str, str]:
        def ok(v: Any) -> bool:
            return isinstance(v, dict) and all(isinstance(k, str) for k in v) and all(
                isinstance(x, (str, int, float, bool)) for x in v.values())
        value = self._typed(name, {}, ok, "a dict of strings to strings")
        return {k: _scalar_str(v) for k, v in sorted(value.items())}

    def str_list(self, name: str) -> tuple[str, ...]:
        found, value = self.raw(name)
        if not found or value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(self.kwargs[name], "FC403", f"argument '{name}' of @{self.decorator} must be a list of strings", "e.g. ['name-a', 'name-b']")
            return ()
        return tuple(value)

    def json(self, name: str) -> Any:
        """A literal made of JSON values (tuples read as lists), or None."""
        found, value = self.raw(name)
        if not found or value is None:
            return None
        value = _jsonable(value)
        if value is _NOT_JSON:
            self.error(self.kwargs[name], "FC403", f"argument '{name}' of @{self.decorator} must be made of "
                       "strings, numbers, booleans, lists and dicts", "write a literal value")
            return None
        return value

    def carry(self, readers: dict[str, Callable[[], Any]]) -> dict[str, Any]:
        """The carried options given, each read (and checked) by its reader."""
        out = {}
        for name, read in readers.items():
            if self.has(name):
                value = read()
                if value is not None:
                    out[name] = value
        return dict(sorted(out.items()))

    def ignored(self, name: str) -> None:
        """An option accepted and ignored (the table says why): FC407, unless quiet."""
        opt = OPTIONS[self.decorator][name]
        found, _ = self.raw(name)
        if found and not opt.quiet:
            self.diagnostics.append(Diagnostic(
                "FC407", WARNING, f"@{self.decorator}({name}=...) is accepted and ignored: {opt.note}",
                self.span_of(self.arg_nodes.get(name, self.kwargs[name])),
                "remove it to silence this warning; see docs/options.md"))

    def finish(self) -> None:
        for name, node in self.kwargs.items():
            if name not in self.used:
                known = ", ".join(sorted(self.used)) or "none"
                self.error(
                    self.arg_nodes.get(name, node), "FC402", f"@{self.decorator} has no argument '{name}'",
                    f"known arguments: {known}",
                )


_NOT_JSON = object()


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        items = [_jsonable(v) for v in value]
        return _NOT_JSON if any(v is _NOT_JSON for v in items) else items
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        items = {k: _jsonable(v) for k, v in value.items()}
        return _NOT_JSON if any(v is _NOT_JSON for v in items.values()) else items
    return _NOT_JSON


def _as_number(v: Any) -> float | int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str):
        try:
            f = float(v)
        except ValueError:
            return None
        return int(f) if f.is_integer() and "." not in v else f
    return None


def _scalar_str(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


# ------------------------------------------------------------ step decorators


def _resources(a: Args) -> ir.Resources:
    return ir.Resources(
        span=a.span,
        cpu=_float_or_none(a.number("cpu", None)),
        memory=a.int("memory", None),
        gpu=a.int("gpu", None),
        disk=a.int("disk", None),
        shared_memory=a.int("shared_memory", None),
    )


def _float_or_none(v: Any) -> float | None:
    return None if v is None else float(v)


MAX_RETRIES = 4  # Metaflow's own bound (MAX_ATTEMPTS 6, less the first attempt and @catch's)


def _retry(a: Args) -> ir.Retry:
    times = a.int("times", 3)
    if times is not None and times > MAX_RETRIES:
        a.error(a.kwargs.get("times"), "FC403", f"@retry(times={times}) is more than the {MAX_RETRIES} retries Metaflow allows",
                f"write @retry(times={MAX_RETRIES}) or fewer")
    return ir.Retry(
        span=a.span,
        times=times,
        minutes_between_retries=float(a.number("minutes_between_retries", 2)),
    )


def _timeout(a: Args) -> ir.Timeout:
    seconds = a.int("seconds", 0) + 60 * a.int("minutes", 0) + 3600 * a.int("hours", 0)
    if seconds <= 0 and not a.diagnostics:
        a.error(None, "FC403", "@timeout needs seconds, minutes or hours greater than zero", 'write e.g. @timeout(minutes=30)')
        seconds = 1
    return ir.Timeout(span=a.span, seconds=seconds)


def _catch(a: Args) -> ir.Catch:
    var = a.str("var", None)
    if var is not None and not var.isidentifier():
        a.error(a.kwargs["var"], "FC403", f"@catch(var={var!r}) must be a valid artifact name", "var= names the artifact that will hold the exception, e.g. var='error'")
    return ir.Catch(span=a.span, var=var, print_exception=a.bool("print_exception", True))


def _environment(a: Args) -> ir.Environment:
    env = a.str_map("vars")
    for key in env:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            a.error(a.kwargs["vars"], "FC403", f"environment variable name {key!r} is not valid", 'names are letters, digits and _, not starting with a digit')
    return ir.Environment(span=a.span, vars=env)


def _packages(manager: str) -> Callable[[Args], ir.Packages]:
    def build(a: Args) -> ir.Packages:
        packages = a.str_map("packages")
        if manager == "conda" and a.has("libraries"):
            for k, v in a.str_map("libraries").items():
                if k in packages and packages[k] != v:
                    a.error(a.kwargs["libraries"], "FC603", f"package {k!r} is pinned twice: {packages[k]!r} and {v!r}", 'pin each package once, in packages= (libraries= is its old name)')
                packages[k] = v
            packages = dict(sorted(packages.items()))
        python = a.str("python", None)
        disabled = a.bool("disabled", False)
        if manager == "conda":
            a.str_list("channels")  # accepted: channels are a resolver detail
        return ir.Packages(span=a.span, manager=manager, packages=packages, python=python, disabled=disabled)

    return build


def _secrets(a: Args) -> ir.Secrets:
    return ir.Secrets(span=a.span, sources=a.str_list("sources"), options=a.carry({"role": lambda: a.str("role")}))


def _tolerations(a: Args) -> tuple[ir.Toleration, ...]:
    found, value = a.raw("tolerations")
    if not found or value is None:
        return ()
    out = []
    allowed = {"key", "operator", "value", "effect", "tolerationSeconds", "toleration_seconds"}
    if not isinstance(value, list):
        a.error(a.kwargs["tolerations"], "FC403", "tolerations must be a list of dicts", "write tolerations=[{'key': 'gpu', 'operator': 'Exists', 'effect': 'NoSchedule'}]")
        return ()
    for item in value:
        if not isinstance(item, dict) or set(item) - allowed:
            a.error(a.kwargs["tolerations"], "FC403",
                    f"toleration {item!r} must be a dict with keys among {sorted(allowed - {'toleration_seconds'})}", "write tolerations=[{'key': 'gpu', 'operator': 'Exists', 'effect': 'NoSchedule'}]")
            continue
        secs = item.get("tolerationSeconds", item.get("toleration_seconds"))
        out.append(ir.Toleration(
            key=item.get("key"), operator=item.get("operator"), value=item.get("value"),
            effect=item.get("effect"), toleration_seconds=secs,
        ))
    return tuple(out)


# the fields of a container's securityContext (Kubernetes' V1SecurityContext)
SECURITY_CONTEXT = frozenset((
    "allow_privilege_escalation", "app_armor_profile", "capabilities", "privileged", "proc_mount",
    "read_only_root_filesystem", "run_as_group", "run_as_non_root", "run_as_user", "se_linux_options",
    "seccomp_profile", "windows_options"))
_QOS = {"guaranteed": "Guaranteed", "burstable": "Burstable", "besteffort": "BestEffort"}


def _kubernetes_options(a: Args) -> dict[str, Any]:
    def path() -> str | None:
        value = a.str("tmpfs_path")
        if value is not None and not value.startswith("/"):
            a.error(a.kwargs["tmpfs_path"], "FC403", f"tmpfs_path {value!r} must be an absolute path", "e.g. tmpfs_path='/metaflow_temp'")
            return None
        return value

    def qos() -> str | None:
        value = a.str("qos")
        if value is not None and value.lower() not in _QOS:
            a.error(a.kwargs["qos"], "FC403", f"qos {value!r} is not a Kubernetes QoS class", "Guaranteed, Burstable or BestEffort")
            return None
        return _QOS[value.lower()] if value else None

    def secrets() -> list[str] | None:
        return list(a.str_list("image_pull_secrets")) or None

    def resources() -> dict | None:
        value = a.json("extended_resources")
        if value is not None and (not isinstance(value, dict) or not all(
                isinstance(v, (str, int)) and not isinstance(v, bool) for v in value.values())):
            a.error(a.kwargs["extended_resources"], "FC403", "extended_resources must map resource names to amounts",
                    "e.g. extended_resources={'example.com/fpga': '1'}")
            return None
        return {k: str(v) for k, v in sorted(value.items())} or None if value else None

    def context() -> dict | None:
        value = a.json("security_context")
        if value is None:
            return None
        if not isinstance(value, dict):
            a.error(a.kwargs["security_context"], "FC403", "security_context must be a dict", "e.g. {'run_as_user': 1000}")
            return None
        out = {}
        for key, item in value.items():
            snake = re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()
            if snake not in SECURITY_CONTEXT:
                a.error(a.kwargs["security_context"], "FC403", f"security_context has no field {key!r}",
                        f"Kubernetes' fields: {', '.join(sorted(SECURITY_CONTEXT))}")
                return None
            out[snake] = item
        return dict(sorted(out.items())) or None

    return a.carry({
        "use_tmpfs": lambda: a.bool("use_tmpfs", False), "tmpfs_tempdir": lambda: a.bool("tmpfs_tempdir", True),
        "tmpfs_size": lambda: a.int("tmpfs_size", None, minimum=1), "tmpfs_path": path,
        "image_pull_secrets": secrets, "compute_pool": lambda: a.str("compute_pool"),
        "executable": lambda: a.str("executable"), "qos": qos,
        "extended_resources": resources, "security_context": context,
    })


def _node_selector(a: Args) -> dict[str, str]:
    """A dict, or Metaflow's text form 'key=value,key=value'."""
    found, value = a.raw("node_selector")
    if found and isinstance(value, str):
        pairs = [item.split("=", 1) for item in value.split(",") if item.strip()]
        if any(len(p) != 2 or not p[0].strip() for p in pairs):
            a.error(a.kwargs["node_selector"], "FC403", f"node_selector {value!r} is not key=value,key=value",
                    "e.g. node_selector='kubernetes.io/arch=amd64' or a dict")
            return {}
        return {k.strip(): v.strip() for k, v in sorted(pairs)}
    return a.str_map("node_selector")


def _kubernetes(a: Args) -> ir.Kubernetes:
    pull = a.str("image_pull_policy", None)
    if pull is not None and pull not in ("Always", "IfNotPresent", "Never"):
        a.error(a.kwargs["image_pull_policy"], "FC403", "image_pull_policy must be Always, IfNotPresent or Never", "these are Kubernetes' three pull policies")
    return ir.Kubernetes(
        span=a.span,
        image=a.str("image", None),
        image_pull_policy=pull,
        namespace=a.str("namespace", None),
        service_account=a.str("service_account", None),
        node_selector=_node_selector(a),
        tolerations=_tolerations(a),
        labels=a.str_map("labels"),
        annotations=a.str_map("annotations"),
        secrets=a.str_list("secrets"),
        cpu=_float_or_none(a.number("cpu", None)),
        memory=a.int("memory", None),
        disk=a.int("disk", None),
        gpu=a.int("gpu", None),
        gpu_vendor=a.str("gpu_vendor", None),
        shared_memory=a.int("shared_memory", None),
        persistent_volume_claims=a.str_map("persistent_volume_claims"),
        options=_kubernetes_options(a),
    )


def _batch(a: Args) -> ir.Batch:
    return ir.Batch(
        span=a.span,
        image=a.str("image", None),
        queue=a.str("queue", None),
        iam_role=a.str("iam_role", None),
        execution_role=a.str("execution_role", None),
        cpu=_float_or_none(a.number("cpu", None)),
        memory=a.int("memory", None),
        gpu=a.int("gpu", None),
        shared_memory=a.int("shared_memory", None),
        options=_batch_options(a),
    )


def _batch_options(a: Args) -> dict[str, Any]:
    def texts(name: str) -> Callable[[], list[str] | None]:
        return lambda: list(a.str_list(name)) or None

    def efs() -> list[str] | None:
        value = texts("efs_volumes")()
        for item in value or ():
            fs, sep, path = item.partition(":")
            if not fs or not sep or not path.startswith("/"):
                a.error(a.kwargs["efs_volumes"], "FC403", f"efs volume {item!r} is not 'fs-id:/mount/path'",
                        "e.g. efs_volumes=['fs-0123:/mnt/shared']")
                return None
        return value

    def log_options() -> list[str] | None:
        value = texts("log_options")()
        if any(":" not in item for item in value or ()):
            a.error(a.kwargs["log_options"], "FC403", "log_options are 'key:value' texts", "e.g. ['awslogs-group:ml']")
            return None
        return value

    def path() -> str | None:
        value = a.str("tmpfs_path")
        if value is not None and not value.startswith("/"):
            a.error(a.kwargs["tmpfs_path"], "FC403", f"tmpfs_path {value!r} must be an absolute path", "e.g. tmpfs_path='/metaflow_temp'")
            return None
        return value

    return a.carry({
        "use_tmpfs": lambda: a.bool("use_tmpfs", False), "tmpfs_tempdir": lambda: a.bool("tmpfs_tempdir", True),
        "tmpfs_size": lambda: a.int("tmpfs_size", None, minimum=1), "tmpfs_path": path,
        "max_swap": lambda: a.int("max_swap", None), "swappiness": lambda: a.int("swappiness", None),
        "privileged": lambda: a.bool("privileged", False), "aws_batch_tags": lambda: a.str_map("aws_batch_tags") or None,
        "log_driver": lambda: a.str("log_driver"), "log_options": log_options,
        "ephemeral_storage": lambda: a.int("ephemeral_storage", None, minimum=21),
        "host_volumes": texts("host_volumes"), "efs_volumes": efs,
        "inferentia": lambda: a.int("inferentia", None), "trainium": lambda: a.int("trainium", None),
        "efa": lambda: a.int("efa", None), "executable": lambda: a.str("executable"),
    })


CARD_TYPES = ("default", "blank")  # the card types flowc renders (Metaflow's built-in ones users choose)


def _card(a: Args) -> ir.Card | None:
    kind = a.str("type", None)
    if kind is not None and kind not in CARD_TYPES:
        a.error(a.kwargs["type"], "FC403", f"@card(type={kind!r}) is not a card type flowc renders",
                "use type='default' (the task's artifacts, its place in the DAG and your components) or "
                "type='blank' (only your components)")
        return None
    options = a.json("options")
    if options is not None and not isinstance(options, dict):
        a.error(a.kwargs["options"], "FC403", "argument 'options' of @card must be a dict", "e.g. options={'title': 'Scores'}")
        options = None
    for name in ("scope", "rank"):
        a.ignored(name)
    return ir.Card(span=a.span, type=kind, id=a.str("id", None), options=options or {},
                   timeout=a.int("timeout", None), save_errors=a.bool("save_errors", True),
                   customize=a.bool("customize", False), refresh_interval=a.int("refresh_interval", None, minimum=1))


# ------------------------------------------------------------ flow decorators

_CRON_FIELD = re.compile(r"^(\*|\?|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?)*$|^\*/[0-9]+$|^[0-9]+/[0-9]+$")


def _schedule(a: Args) -> ir.Schedule | None:
    cron = a.str("cron", None)
    chosen = [k for k in ("hourly", "daily", "weekly") if a.bool(k, False)]
    tz = a.str("timezone", None)
    if cron is not None and chosen or len(chosen) > 1:
        a.error(None, "FC403", "@schedule takes exactly one of cron=, hourly=, daily=, weekly=", "e.g. @schedule(cron='0 3 * * *') or @schedule(daily=True)")
        return None
    if cron is not None:
        fields = cron.split()
        if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
            a.error(a.kwargs["cron"], "FC403", f"cron {cron!r} is not a five-field cron line",
                    "minute hour day-of-month month day-of-week, e.g. '30 2 * * *'")
            return None
        return ir.Schedule(span=a.span, cron=" ".join(fields), timezone=tz, kind="cron")
    kind = chosen[0] if chosen else "daily"
    line = {"hourly": "0 * * * *", "daily": "0 0 * * *", "weekly": "0 0 * * 0"}[kind]
    return ir.Schedule(span=a.span, cron=line, timezone=tz, kind=kind)


def _project(a: Args) -> ir.Project | None:
    name = a.str("name", None)
    if not name:
        a.error(None, "FC403", "@project needs name=", "e.g. @project(name='forecasting')")
        return None
    if not re.fullmatch(r"[a-z0-9_]+", name):
        a.error(a.kwargs["name"], "FC403", f"project name {name!r} may hold only lowercase letters, digits and _", "e.g. @project(name='demand_forecast')")
    return ir.Project(span=a.span, name=name, branch=a.str("branch", None), production=a.bool("production", False))


_EVENT_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_PAYLOAD_FIELD = re.compile(r"[A-Za-z0-9_]+")
_FLOW_NAME = re.compile(r"[A-Za-z0-9_]+")


def _one_or_many(a: Args, one: str, many: str) -> list[tuple[Any, cst.CSTNode]]:
    """The values of ``one=`` and ``many=`` (Metaflow: only one of them), each with its node."""
    out: list[tuple[Any, cst.CSTNode]] = []
    given = [k for k in (one, many) if a.has(k)]
    if len(given) == 2:
        a.error(a.kwargs[many], "FC403", f"@{a.decorator} takes {one}= or {many}=, not both",
                f"put every entry in {many}=[...]")
    for key in (one, many):
        found, value = a.raw(key)
        if not found or value is None:
            continue
        if key == many and not isinstance(value, (list, tuple)):
            a.error(a.kwargs[key], "FC403", f"argument '{many}' of @{a.decorator} must be a list",
                    f"e.g. @{a.decorator}({many}=[...])")
            continue
        out.extend((v, a.kwargs[key]) for v in (value if key == many else [value]))
    return out


def _event_parameters(a: Args, node: cst.CSTNode, name: str, value: Any) -> tuple[tuple[str, str], ...] | None:
    """Metaflow's mapping forms: {param: field}, or a list of names and (param, field) pairs."""
    pairs: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, str):
                pairs.append((item, item))
            elif isinstance(item, (list, tuple)) and len(item) == 2:
                pairs.append((item[0], item[1]))
            else:
                pairs.append((item, None))
    else:
        a.error(node, "FC403", f"the parameters of event {name!r} must be a dict or a list, not {value!r}",
                "e.g. {'name': 'data_updated', 'parameters': {'table': 'table_name'}}")
        return None
    out = []
    for param, payload_field in pairs:
        if not isinstance(param, str) or not isinstance(payload_field, str):
            a.error(node, "FC403", f"event {name!r} maps {param!r} to {payload_field!r}: both must be names",
                    "map a flow parameter to a payload field: {'parameter': 'field'}")
            return None
        if not _PAYLOAD_FIELD.fullmatch(payload_field):
            a.error(node, "FC403", f"payload field {payload_field!r} of event {name!r} may hold only letters, "
                    "digits and _", "Metaflow's rule for payload keys")
            return None
        out.append((param, payload_field))
    return tuple(out)


def _trigger(a: Args) -> ir.Trigger | None:
    events: list[ir.Event] = []
    for value, node in _one_or_many(a, "event", "events"):
        span = a.span_of(node)
        if isinstance(value, dict):
            unknown = sorted(set(value) - {"name", "parameters"})
            if unknown:
                a.error(node, "FC403", f"an event of @trigger has no key {unknown[0]!r}", "known keys: name, parameters")
                continue
            name, mapping = value.get("name"), value.get("parameters")
        else:
            name, mapping = value, None
        if not isinstance(name, str) or not _EVENT_NAME.fullmatch(name):
            a.error(node, "FC403", f"event name {name!r} may hold only letters, digits, _, - and .",
                    "e.g. @trigger(event='data_updated')")
            continue
        params = () if mapping is None else _event_parameters(a, node, name, mapping)
        if params is None:
            continue
        events.append(ir.Event(span=span, name=name, parameters=params))
    if not events:
        if not a.diagnostics:
            a.error(None, "FC403", "@trigger needs event= or events=", "e.g. @trigger(event='data_updated')")
        return None
    return ir.Trigger(span=a.span, events=tuple(events), options=a.carry({"options": lambda: a.json("options") or None}))


def _trigger_on_finish(a: Args) -> ir.Trigger | None:
    events: list[ir.Event] = []
    for value, node in _one_or_many(a, "flow", "flows"):
        span = a.span_of(node)
        project = branch = None
        if isinstance(value, dict):
            unknown = sorted(set(value) - {"name", "project", "project_branch"})
            if unknown or not all(isinstance(v, str) for v in value.values()):
                a.error(node, "FC403", f"an upstream flow of @trigger_on_finish must be a name or a dict of "
                        f"name, project and project_branch texts, not {value!r}",
                        "e.g. {'name': 'IngestFlow', 'project': 'forecast', 'project_branch': 'prod'}")
                continue
            name, project, branch = value.get("name"), value.get("project"), value.get("project_branch")
            if not name or "." in name:
                a.error(node, "FC403", f"the upstream flow's name {name!r} must be a flow class name",
                        "give project and project_branch as their own keys")
                continue
        elif isinstance(value, str):
            parts = value.split(".")
            if len(parts) == 2 or not value:
                a.error(node, "FC403", f"upstream flow {value!r} is neither a flow name nor PROJECT.BRANCH.FLOW",
                        "e.g. 'IngestFlow' or 'forecast.prod.IngestFlow'")
                continue
            name = parts[-1]
            if len(parts) > 2:
                project, branch = parts[0], ".".join(parts[1:-1])
        else:
            a.error(node, "FC403", f"an upstream flow of @trigger_on_finish must be a name, not {value!r}",
                    "e.g. @trigger_on_finish(flow='IngestFlow')")
            continue
        if not _FLOW_NAME.fullmatch(name):
            a.error(node, "FC403", f"upstream flow name {name!r} may hold only letters, digits and _",
                    "the upstream flow's class name")
            continue
        events.append(ir.Event(span=span, flow=name, project=project, branch=branch))
    if not events:
        if not a.diagnostics:
            a.error(None, "FC403", "@trigger_on_finish needs flow= or flows=", "e.g. @trigger_on_finish(flow='IngestFlow')")
        return None
    return ir.Trigger(span=a.span, events=tuple(events), options=a.carry({"options": lambda: a.json("options") or None}))


NORMALIZERS: dict[str, Callable[[Args], Any]] = {
    "resources": _resources,
    "retry": _retry,
    "timeout": _timeout,
    "catch": _catch,
    "environment": _environment,
    "pypi": _packages("pypi"),
    "conda": _packages("conda"),
    "secrets": _secrets,
    "kubernetes": _kubernetes,
    "batch": _batch,
    "card": _card,
    "schedule": _schedule,
    "project": _project,
    "trigger": _trigger,
    "trigger_on_finish": _trigger_on_finish,
    "pypi_base": _packages("pypi"),
    "conda_base": _packages("conda"),
}


def normalize(args: Args) -> Any:
    value = NORMALIZERS[args.decorator](args)
    for name, opt in OPTIONS[args.decorator].items():
        if opt.how == IGNORED and name not in args.used:
            args.ignored(name)
    args.finish()
    return value


def options_markdown() -> str:
    """The option table as docs/options.md shows it (a test keeps the two equal)."""
    def how(o: Opt) -> str:
        if o.how == HONOURED:
            return "honoured"
        if o.how == CARRIED:
            return f"honoured by {', '.join(o.targets)}; FC501 on other targets" if o.targets else "FC501 on every target"
        return "accepted and ignored" + ("" if o.quiet else " (FC407 warning)")

    out = []
    for deco, table in OPTIONS.items():
        out.append(f"### {'Parameter(...)' if deco == 'Parameter' else '@' + deco}\n")
        out.append("| option | what flowc does | why / how |\n|---|---|---|")
        out += [f"| `{name}` | {how(o)} | {o.note} |".replace(" |  |", " | |") for name, o in table.items()]
        out.append("")
    return "\n".join(out)
