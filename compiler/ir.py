"""The intermediate representation: the one contract every target reads.

Frozen dataclasses, built by the analyzer, completed by the graph derivation
(compiler/graph.py) and never re-derived by a target. ``dump``/``load`` give a
JSON round trip (``load(dump(flow)) == flow``) with sorted keys, so the same
flow always serializes to the same bytes. Sequences are tuples; maps are
plain dicts whose keys are sorted when dumped. Any change to the shape bumps
``SCHEMA_VERSION``.

The runtime never imports this module: it reads the JSON this module writes.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import typing
from dataclasses import dataclass, field
from typing import Any, Optional

from .spans import Span

SCHEMA_VERSION = 5
# Metadata of a field added after its dataclass: dumped only when it is set.
OPTIONAL = {"omit_default": True}

# Step kinds: how a step leaves (and, for ``join``, how it is entered; a join
# always leaves linearly, a join that splits again is an error, as in Metaflow).
LINEAR, BRANCH, FOREACH, JOIN, SWITCH, END = "linear", "branch", "foreach", "join", "switch", "end"
STEP_KINDS = (LINEAR, BRANCH, FOREACH, JOIN, SWITCH, END)

PARAMETER_TYPES = ("str", "int", "float", "bool", "json")

# ------------------------------------------------------------ step decorators


@dataclass(frozen=True)
class Resources:
    """@resources: what the step needs. Memory, disk and shared memory in MB."""

    span: Span
    cpu: Optional[float] = None
    memory: Optional[int] = None
    gpu: Optional[int] = None
    disk: Optional[int] = None
    shared_memory: Optional[int] = None


@dataclass(frozen=True)
class Retry:
    """@retry: how many more attempts a failed task gets, and the wait between them."""

    span: Span
    times: int = 3
    minutes_between_retries: float = 2.0


@dataclass(frozen=True)
class Timeout:
    """@timeout(seconds=, minutes=, hours=) summed into one number of seconds."""

    span: Span
    seconds: int


@dataclass(frozen=True)
class Catch:
    """@catch: a failure on the last attempt is stored in ``var`` and the flow goes on."""

    span: Span
    var: Optional[str] = None
    print_exception: bool = True


@dataclass(frozen=True)
class Environment:
    """@environment: variables set in the step's process."""

    span: Span
    vars: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Packages:
    """@pypi / @conda (and the flow-level _base forms): exact pins per package."""

    span: Span
    manager: str  # "pypi" | "conda"
    packages: dict[str, str] = field(default_factory=dict)
    python: Optional[str] = None
    disabled: bool = False


@dataclass(frozen=True)
class Secrets:
    """Secret names only; values never pass through flowc."""

    span: Span
    sources: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict, metadata=OPTIONAL)  # as in Kubernetes


@dataclass(frozen=True)
class Toleration:
    """One Kubernetes toleration of @kubernetes."""

    key: Optional[str] = None
    operator: Optional[str] = None
    value: Optional[str] = None
    effect: Optional[str] = None
    toleration_seconds: Optional[int] = None


@dataclass(frozen=True)
class Kubernetes:
    """@kubernetes: placement in a pod, and the pod's options."""

    span: Span
    image: Optional[str] = None
    image_pull_policy: Optional[str] = None
    namespace: Optional[str] = None
    service_account: Optional[str] = None
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: tuple[Toleration, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()
    cpu: Optional[float] = None
    memory: Optional[int] = None
    disk: Optional[int] = None
    gpu: Optional[int] = None
    gpu_vendor: Optional[str] = None
    shared_memory: Optional[int] = None
    persistent_volume_claims: dict[str, str] = field(default_factory=dict)
    # Further Metaflow options (tmpfs, image pull secrets, ...), by name, as JSON
    # values: compiler/decorators.py OPTIONS says which targets honour each one
    options: dict[str, Any] = field(default_factory=dict, metadata=OPTIONAL)


@dataclass(frozen=True)
class Batch:
    """@batch: placement on AWS Batch, and the job's options."""

    span: Span
    image: Optional[str] = None
    queue: Optional[str] = None
    iam_role: Optional[str] = None
    execution_role: Optional[str] = None
    cpu: Optional[float] = None
    memory: Optional[int] = None
    gpu: Optional[int] = None
    shared_memory: Optional[int] = None
    options: dict[str, Any] = field(default_factory=dict, metadata=OPTIONAL)  # as in Kubernetes


@dataclass(frozen=True)
class Card:
    """One @card of a step: the runtime renders it when the task ends
    (runtime/cards/), on every target."""

    span: Span
    type: Optional[str] = None  # None: "default", as Metaflow
    id: Optional[str] = None
    options: dict[str, Any] = field(default_factory=dict, metadata=OPTIONAL)
    timeout: Optional[int] = field(default=None, metadata=OPTIONAL)  # seconds to render; None: Metaflow's 45
    save_errors: bool = field(default=True, metadata=OPTIONAL)
    customize: bool = field(default=False, metadata=OPTIONAL)  # the card current.card.append() edits
    refresh_interval: Optional[int] = field(default=None, metadata=OPTIONAL)


@dataclass(frozen=True)
class StepDecorators:
    """Every decorator a step carries, each None where absent."""

    resources: Optional[Resources] = None
    retry: Optional[Retry] = None
    timeout: Optional[Timeout] = None
    catch: Optional[Catch] = None
    environment: Optional[Environment] = None
    pypi: Optional[Packages] = None
    conda: Optional[Packages] = None
    secrets: Optional[Secrets] = None
    kubernetes: Optional[Kubernetes] = None
    batch: Optional[Batch] = None
    card: Optional[tuple[Card, ...]] = None  # a step may have several @card (each its own id)


# ------------------------------------------------------------ flow decorators


@dataclass(frozen=True)
class Schedule:
    """@schedule: exactly one of cron / hourly / daily / weekly, as a cron line."""

    span: Span
    cron: str
    timezone: Optional[str] = None
    kind: str = "cron"  # "cron" | "hourly" | "daily" | "weekly": what the user wrote


@dataclass(frozen=True)
class Project:
    """@project: the name that namespaces the flow's deployments, and its branch."""

    span: Span
    name: str
    branch: Optional[str] = None
    production: bool = False


@dataclass(frozen=True)
class Event:
    """One event a flow waits for (docs/events.md).

    @trigger: ``name`` is the event's name and ``parameters`` maps flow
    parameters to payload fields, (parameter, field) pairs: as written, or
    Metaflow's automatic mapping (one event without a mapping maps every
    parameter to the field of its own name).
    @trigger_on_finish: ``name`` is "" and ``flow`` names the upstream flow;
    ``project``/``branch`` are given only when the upstream is in another
    @project namespace (else this flow's own). Targets resolve the full name
    with targets/events.py (the rule is runtime/events.end_event_name).
    """

    span: Span
    name: str = ""
    parameters: tuple[tuple[str, str], ...] = ()
    flow: Optional[str] = field(default=None, metadata=OPTIONAL)
    project: Optional[str] = field(default=None, metadata=OPTIONAL)
    branch: Optional[str] = field(default=None, metadata=OPTIONAL)


@dataclass(frozen=True)
class Trigger:
    """@trigger or @trigger_on_finish: the run starts when ALL events arrived."""

    span: Span
    events: tuple[Event, ...] = ()
    options: dict[str, Any] = field(default_factory=dict, metadata=OPTIONAL)  # as in Kubernetes


@dataclass(frozen=True)
class FlowDecorators:
    """Every decorator the flow class carries, each None where absent."""

    schedule: Optional[Schedule] = None
    project: Optional[Project] = None
    trigger: Optional[Trigger] = None
    trigger_on_finish: Optional[Trigger] = field(default=None, metadata=OPTIONAL)
    pypi_base: Optional[Packages] = None
    conda_base: Optional[Packages] = None


# ------------------------------------------------------------ flow and steps


@dataclass(frozen=True)
class Parameter:
    """A flow parameter. ``name`` is the command-line and orchestrator name,
    ``attribute`` the class attribute (and artifact) name; they differ when a
    flow says ``learning_rate = Parameter("lr")``."""

    name: str
    attribute: str
    type: str
    span: Span
    default: Any = None  # a JSON value; None with required=False means "no value"
    required: bool = False
    help: Optional[str] = None
    # Parameter(separator=","): the value (text) is split into a list of strings
    separator: Optional[str] = field(default=None, metadata=OPTIONAL)
    # Parameter(is_flag=True): `flowc run --name` alone means true
    is_flag: bool = field(default=False, metadata=OPTIONAL)


@dataclass(frozen=True)
class Config:
    """A Metaflow ``Config``: data known before the run, resolved at compile
    time (compiler/configs.py). The value travels to every task inside the IR
    (the plan the runtime reads); the start task stores it as an artifact
    named ``attribute``, and ``self.<attribute>`` reads it as a ConfigValue."""

    name: str
    attribute: str
    span: Span  # the Config(...) declaration
    # the value as JSON text, its keys in the file's order (the IR's own JSON
    # sorts keys, and a step may iterate a config); "null": no value
    value: str = "null"
    parser: str = "json.loads"
    plain: bool = False
    source: Optional[Span] = None  # the config file read (line 1), or None (default_value, --config-value)
    source_sha256: Optional[str] = None
    help: Optional[str] = None


@dataclass(frozen=True)
class IncludeFile:
    """A Metaflow ``IncludeFile``: the start task reads the file and stores its
    content (text, or bytes) as an artifact every task inherits. ``path`` is
    relative to the flow file's folder, which the code package carries; the
    content is never in the IR nor in an orchestrator's spec."""

    name: str
    attribute: str
    span: Span
    path: Optional[str] = None  # the default file (POSIX, relative to the flow's folder)
    is_text: bool = True
    encoding: str = "utf-8"
    parser: Optional[str] = None  # "json.loads" | "tomllib.loads": the content parsed at run time
    required: bool = False
    help: Optional[str] = None
    sha256: Optional[str] = None  # of the default file when compiled


@dataclass(frozen=True)
class Merge:
    """A ``self.merge_artifacts(inputs, include=..., exclude=...)`` call."""

    span: Span
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    """One step: its kind, where it goes, its decorators, and what compiler/graph.py derived."""

    name: str
    kind: str
    span: Span
    next: tuple[str, ...] = ()
    next_span: Optional[Span] = None
    foreach: Optional[str] = None  # artifact iterated by a foreach split
    condition: Optional[str] = None  # artifact read by a switch
    cases: dict[str, str] = field(default_factory=dict)  # switch case -> step
    join_arg: Optional[str] = None  # the inputs argument's name in a join
    decorators: StepDecorators = field(default_factory=StepDecorators)
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    merge: Optional[Merge] = None
    docstring: Optional[str] = None
    # user step decorators (Metaflow's @user_step_decorator / UserStepDecorator),
    # outermost first: the runtime runs them around the step, as Metaflow does
    wrappers: tuple[str, ...] = field(default=(), metadata=OPTIONAL)
    # ---- derived once by compiler/graph.py; targets read, never recompute
    parents: tuple[str, ...] = ()
    # The step runs when each group has delivered: a join over a static
    # branch has one group per branch; a step after a switch has one group
    # whose members are alternatives (exactly one of them runs).
    parent_groups: tuple[tuple[str, ...], ...] = ()
    foreach_stack: tuple[str, ...] = ()  # enclosing foreach splits, outermost first
    matching_join: Optional[str] = None  # for branch / foreach splits
    closes: Optional[str] = None  # for joins: the split this join closes
    # For a foreach split: the steps of its body at the body's own level (their
    # foreach stack ends with this split), in flow order; a nested split's body
    # is its own. The body's entry is ``next[0]``.
    body: tuple[str, ...] = field(default=(), metadata=OPTIONAL)
    # When the step runs, where a switch before it may route around it: any one
    # of these sets of (switch step, the case step it took) choices suffices;
    # () when it runs whenever its parents ran. Inside a foreach, a step takes
    # its outermost split's condition (each item's own choices travel with it).
    run_when: tuple[tuple[tuple[str, str], ...], ...] = field(default=(), metadata=OPTIONAL)
    # Inside a foreach: when the step runs within one item of its own body (the
    # last split of its foreach stack), from the switches of that body alone,
    # in run_when's form; () when every item entering the body runs it, and
    # outside any foreach. A nested body counts, in its outer body, as its
    # split. For an engine that runs each item through a body of its own
    # (Kubeflow's ParallelFor over a DAG component).
    body_run_when: tuple[tuple[tuple[str, str], ...], ...] = field(default=(), metadata=OPTIONAL)

    @property
    def is_join(self) -> bool:
        return self.kind == JOIN

    @property
    def is_recursive(self) -> bool:
        """A switch with a case that loops back to the step itself."""
        return self.kind == SWITCH and self.name in self.next

    @property
    def depth(self) -> int:
        return len(self.foreach_stack)


@dataclass(frozen=True)
class Source:
    """The flow file, by path and content hash."""

    path: str  # relative, POSIX separators
    sha256: str
    # modules imported from beside the flow file (relative to its folder),
    # which its code package carries
    modules: tuple[str, ...] = ()


_LOOKUPS = frozenset({"_first_by_name", "_by_name", "_ordered"})  # Flow's cached lookups


@dataclass(frozen=True)
class Flow:
    """One flow: the IR every target reads."""

    name: str
    source: Source
    span: Span
    steps: tuple[Step, ...]
    start: str
    end: str
    parameters: tuple[Parameter, ...] = ()
    decorators: FlowDecorators = field(default_factory=FlowDecorators)
    docstring: Optional[str] = None
    configs: tuple[Config, ...] = ()
    includes: tuple[IncludeFile, ...] = ()
    order: tuple[str, ...] = ()  # a topological order of the steps (derived)
    schema_version: int = SCHEMA_VERSION

    # Lookups are built once per flow (a frozen value; the caches are not
    # fields): a target asking for each step by name stays linear in the steps.
    # A pickled flow (the analysis cache, compiler/apart.py) leaves them out.

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in _LOOKUPS}

    @functools.cached_property
    def _first_by_name(self) -> dict[str, Step]:
        index: dict[str, Step] = {}
        for s in self.steps:
            index.setdefault(s.name, s)
        return index

    @functools.cached_property
    def _by_name(self) -> dict[str, Step]:
        return {s.name: s for s in self.steps}

    @functools.cached_property
    def _ordered(self) -> tuple[Step, ...]:
        by_name = self._by_name
        return tuple(by_name[n] for n in self.order)

    def step(self, name: str) -> Step:
        try:
            return self._first_by_name[name]
        except KeyError:
            raise KeyError(name) from None

    @property
    def steps_by_name(self) -> dict[str, Step]:
        """Every step by name: one dict per flow, shared; read it, never change it."""
        return self._by_name

    def ordered_steps(self) -> list[Step]:
        return list(self._ordered)

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)


# ------------------------------------------------------------ JSON round trip


_KEEP = object()  # a field written whatever its value


def _omitted_default(f: dataclasses.Field) -> Any:
    """A field added without a schema bump is left out at its default, so the
    IR of a flow that does not use it stays byte-identical (``load`` fills it in):
    the value at which it is left out, else _KEEP."""
    if not f.metadata.get("omit_default"):
        return _KEEP
    if f.default is not dataclasses.MISSING:
        return f.default
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else _KEEP


_FIELDS: dict[type, tuple[tuple[str, Any], ...]] = {}
_PLAIN = (str, int, float, bool, type(None))


def _fields_of(cls: type) -> tuple[tuple[str, Any], ...]:
    """(name, omitted default) of a dataclass's fields, found once per class:
    serialising a 10,000-step IR asks for them 500,000 times."""
    found = _FIELDS.get(cls)
    if found is None:
        found = _FIELDS[cls] = tuple((f.name, _omitted_default(f)) for f in dataclasses.fields(cls))
    return found


def to_data(value: Any) -> Any:
    """Plain JSON-able data for any IR value."""
    cls = type(value)
    if cls in _PLAIN:
        return value
    if cls in _FIELDS or (dataclasses.is_dataclass(value) and not isinstance(value, type)):
        out = {}
        for name, omitted in _fields_of(cls):
            v = getattr(value, name)
            if omitted is _KEEP or v != omitted:
                out[name] = to_data(v)
        return out
    if isinstance(value, (tuple, list)):
        return [to_data(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_data(v) for k, v in value.items()}
    return value


def dump(flow: Flow, indent: int | None = 2) -> str:
    """The canonical JSON text of a flow: sorted keys, no trailing spaces."""
    return json.dumps(to_data(flow), indent=indent, sort_keys=True, ensure_ascii=False) + "\n"


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _from_data(tp: Any, data: Any) -> Any:
    if tp is Any:
        return data
    origin = typing.get_origin(tp)
    if origin is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return None if data is None else _from_data(args[0], data)
    if origin is tuple:
        (inner, *_rest) = typing.get_args(tp)
        return tuple(_from_data(inner, v) for v in data)
    if origin is dict:
        _k, inner = typing.get_args(tp)
        return {k: _from_data(inner, v) for k, v in data.items()}
    if dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        kwargs = {f.name: _from_data(hints[f.name], data[f.name]) for f in dataclasses.fields(tp) if f.name in data}
        return tp(**kwargs)
    if tp is float and isinstance(data, int) and not isinstance(data, bool):
        return float(data)
    return data


class SchemaVersionError(ValueError):
    pass


def from_data(data: dict) -> Flow:
    """A flow from the plain data ``to_data`` gave (no schema check)."""
    return _from_data(Flow, data)


def load(text: str | bytes) -> Flow:
    data = json.loads(text)
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise SchemaVersionError(
            f"IR schema version {version} is not {SCHEMA_VERSION}; recompile the flow with this flowc"
        )
    return _from_data(Flow, data)
