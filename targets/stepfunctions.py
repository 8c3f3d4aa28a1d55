"""AWS Step Functions: a state machine in Amazon States Language (JSONPath mode).

The flow becomes one state machine; every step is a Task state that runs the
runtime's one command, either as an AWS Batch job (``batch:submitJob.sync``,
the default) or as a message on an SQS queue that ``flowc worker`` serves
(``sqs:sendMessage.waitForTaskToken``). Beside it, the compile writes what the
state machine cannot hold: the Batch job definitions, the EventBridge
Scheduler schedule for ``@schedule``, and a CloudFormation template that ties
them together.

How constructs lower (every derived fact is read from the IR):

    branch        Task, then a Parallel state with one branch per child
    foreach       Task, then a Map over the child indices: inline over
                  States.ArrayRange(count) (at most 1,000 items), or a
                  distributed Map whose ItemReader reads the runtime's
                  manifest from S3 (any width, no items in any state)
    switch        Task, then a Choice on the step the runtime chose
    recursive     the Choice loops back through a Pass that counts iterations
    @retry        Retry (MaxAttempts = times, so attempt numbers match)
    @timeout      TimeoutSeconds, a margin above the runtime's own timeout
    @catch        the runtime catches on the last attempt, as in Metaflow

State data stays small and constant: ``run_id`` (the execution name),
``index`` (the task's foreach index path), ``loops`` (recursive switch
counters) and ``out`` (the one small outcome a Choice or Map reads). Every
Task keeps only that through ResultSelector / ResultPath.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from flowc import __version__
from flowc.compiler import ir

from .aws_batch import JobDefinition, batch_job_options, secret_env_name, secret_sources  # noqa: F401 (tests)
from .base import Option, Target, flow_file, no, source_ref, yes
from .resources import asked_of as resources_of

SQS_TASK = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
BATCH_TASK = "arn:aws:states:::batch:submitJob.sync"
S3_GET_OBJECT = "arn:aws:states:::aws-sdk:s3:getObject"
ITEM_READER = "arn:aws:states:::s3:getObject"
RESULT_WRITER = "arn:aws:states:::s3:putObject"

INLINE_MAP_LIMIT = 1000  # States.ArrayRange returns at most 1,000 items
STATE_NAME_LIMIT = 80
MESSAGE_PROTOCOL = "flowc.task/1"  # what `flowc worker` expects in a message body
INIT = "flowc.init"  # the first state; helper states' names have a dot, so no step can take them

# Batch's defaults when a step asks for nothing (Metaflow's too).
DEFAULT_CPU = 1
DEFAULT_MEMORY = 4096

# @kubernetes options that have an AWS Batch meaning, and those that do not.
K8S_CARRIED = ("image", "cpu", "memory", "gpu", "shared_memory")
K8S_TAGS = ("labels", "annotations")
K8S_IGNORED = {"image_pull_policy": "the ECS agent's ECS_IMAGE_PULL_BEHAVIOR decides when images are pulled",
               "gpu_vendor": "AWS Batch GPUs are NVIDIA GPUs"}
K8S_UNSUPPORTED = ("namespace", "service_account", "node_selector", "tolerations", "secrets",
                   "persistent_volume_claims")


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # "" or "a/b/" (with the trailing slash)


def s3_location(url: str) -> S3Location | None:
    match = re.fullmatch(r"s3://([^/]+)/*(.*)", url)
    if not match:
        return None
    prefix = match.group(2).strip("/")
    return S3Location(match.group(1), prefix + "/" if prefix else "")


DYNAMIC_REFERENCE = "{{resolve:"  # what CloudFormation resolves in a stack's values
INTRINSIC_SPECIAL = "'{}\\"  # the characters an intrinsic function's string literal escapes


def intrinsic_string(text: str) -> str:
    """A string literal inside an intrinsic function: ' { } and \\ escaped."""
    return "'" + re.sub(r"(['{}\\])", r"\\\1", text) + "'"


def aws_name(text: str, limit: int = 128) -> str:
    """A name AWS Batch, Scheduler and Step Functions all accept: [A-Za-z0-9_-]."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", text)[:limit]


def logical_id(*parts: str) -> str:
    """A CloudFormation logical id (alphanumeric) from name parts."""
    return "".join(re.sub(r"[^A-Za-z0-9]", "", p[:1].upper() + p[1:]) for p in parts)


def dumps(data: Any) -> bytes:
    """Indented JSON with text as written, except characters a reader (or a
    YAML-based tool such as cfn-lint) cannot take raw: those are \\u-escaped."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    return (re.sub(r"[^\x00-\x7e]", _escape_unprintable, text) + "\n").encode("utf-8")


def _escape_unprintable(match: re.Match) -> str:
    char = match.group(0)
    # beyond the BMP, characters stay raw: escaped they would be surrogate
    # pairs, which JSON reads but YAML parsers refuse
    if char.isprintable() or ord(char) > 0xFFFF:
        return char
    return f"\\u{ord(char):04x}"


# ------------------------------------------------------------ schedule


class CronError(ValueError):
    pass


_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


def _day_number(token: str) -> int:
    token = token.upper()
    if token in _DAYS:
        return _DAYS.index(token)
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token) % 7
    raise CronError(f"day of week {token!r}")


def _days(field_text: str) -> set[int]:
    days: set[int] = set()
    for part in field_text.split(","):
        base, _, step = part.partition("/")
        stride = int(step) if step.isdigit() and int(step) > 0 else None
        if step and stride is None:
            raise CronError(f"step {step!r}")
        if base == "*":
            lo, hi = 0, 6
        elif "-" in base:
            a, b = base.split("-", 1)
            lo, hi = _day_number(a), _day_number(b)
            if b.strip() == "7":
                hi = 7
        else:
            lo = hi = _day_number(base)
            if stride:
                hi = 6
        if lo > hi:
            raise CronError(f"range {base!r}")
        days.update(d % 7 for d in range(lo, hi + 1, stride or 1))
    return days


def _day_list(days: set[int]) -> str:
    """Sorted day names, runs of three or more written as ranges (MON-FRI)."""
    out: list[str] = []
    ordered = sorted(days)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        if j - i >= 2:
            out.append(f"{_DAYS[ordered[i]]}-{_DAYS[ordered[j]]}")
        else:
            out.extend(_DAYS[d] for d in ordered[i:j + 1])
        i = j + 1
    return ",".join(out)


def aws_cron(line: str) -> str:
    """A five-field cron line as an EventBridge cron() expression.

    EventBridge has six fields (a year), numbers its days 1-7 from Sunday,
    and needs ``?`` in one of day-of-month and day-of-week; a line that
    restricts both (cron's "either" rule) has no EventBridge equivalent."""
    fields = line.split()
    if len(fields) != 5:
        raise CronError("not five fields")
    minute, hour, dom, month, dow = fields
    for text in (minute, hour, dom, month):
        if not re.fullmatch(r"[A-Za-z0-9*,/-]+", text):
            raise CronError(f"field {text!r}")
    days = None if dow == "*" else _days(dow)
    if days is not None and len(days) == 7:
        days = None
    if days is None:
        return f"cron({minute} {hour} {dom} {month} ? *)"
    if dom != "*":
        raise CronError("both day of month and day of week are restricted")
    return f"cron({minute} {hour} ? {month} {_day_list(days)} *)"


# ------------------------------------------------------------ the target


class StepFunctions(Target):
    name = "stepfunctions"
    description = "AWS Step Functions state machine (ASL), steps on AWS Batch or a worker queue"
    OUTPUT_KIND = "directory"

    CAPABILITIES = {
        "branch": yes("Parallel state"),
        "foreach": yes("Map state: inline up to 1,000 items; --foreach-mode distributed for any width"),
        "nested_foreach": yes("nested Map states"),
        "foreach_body": yes(),
        "switch": yes("Choice state on the step the runtime chose"),
        "recursive_switch": yes("a Choice that loops back, counting iterations"),
        "parameters": yes("execution input; defaults and types applied by the runtime"),
        "required_parameters": yes("checked by the runtime against the execution input"),
        "retry": yes("Retry with backoff"),
        "timeout": yes("TimeoutSeconds as a backstop to the runtime's own"),
        "catch": yes("handled by the runtime on the last attempt, as in Metaflow"),
        "resources": yes("Batch resource requirements; disk has no Batch setting (warning)"),
        "gpu": yes("Batch GPU resource requirement"),
        "environment": yes(),
        "secrets": yes("Secrets Manager secrets as environment variables"),
        "schedule": yes("EventBridge Scheduler schedule, emitted beside the state machine"),
        "trigger": no("Step Functions has no event names; start executions from an EventBridge rule"),
        "project": yes("prefixes the state machine and job definition names"),
        "image": yes(),
        "kubernetes": yes("image and resources carry over to the Batch job; pod placement options do not"),
        "batch": yes(),
        "packages": yes("an image per environment (flowc environments --build), or --environments bootstrap; "
                        "the worker mode needs bootstrap"),
    }
    OPTIONS = (
        Option("mode", str, "batch", "how a step runs: an AWS Batch job, or a message for `flowc worker`",
               ("batch", "worker")),
        Option("queue_url", str, "", "SQS queue URL the worker-queue mode sends tasks to"),
        Option("job_queue", str, "flowc", "AWS Batch job queue (a step's @batch(queue=) wins)"),
        Option("job_role", str, "", "IAM role ARN of the Batch jobs (a step's @batch(iam_role=) wins)"),
        Option("execution_role", str, "", "IAM execution role ARN of the Batch jobs (Fargate, secrets)"),
        Option("foreach_mode", str, "inline",
               "inline Maps (up to 1,000 items, 40 at a time) or distributed Maps reading the manifest from S3",
               ("inline", "distributed")),
        Option("max_concurrency", int, 0, "most foreach items run at once (0: no limit of our own)"),
        Option("heartbeat_seconds", int, 0,
               "worker mode: fail a task whose worker is silent this long (0: rely on the queue's redelivery)"),
        Option("timeout_margin", int, 60, "seconds the engine's timeout adds to @timeout, as a backstop"),
        Option("retry_backoff", float, 2.0, "BackoffRate of @retry's Retry (1.0: a fixed interval)"),
        Option("state_machine_name", str, "", "the state machine's name (default: the flow's, with @project)"),
    )

    # ---- diagnostics beyond the capability table

    def check_flow(self, flow: ir.Flow) -> None:
        """What the capability table cannot say: option combinations and the
        parts of a decorator this target cannot carry."""
        mode, foreach_mode = self.option("mode"), self.option("foreach_mode")
        if mode == "worker" and not self.option("queue_url"):
            self.error("FC502", "the worker mode needs --queue-url (the SQS queue `flowc worker` reads)", flow.span)
        if self.option("heartbeat_seconds") < 0 or self.option("max_concurrency") < 0:
            self.error("FC502", "heartbeat_seconds and max_concurrency cannot be negative", flow.span)
        if self.option("retry_backoff") < 1.0:
            self.error("FC502", "retry_backoff must be at least 1.0", flow.span)
        store = s3_location(self.option("datastore"))
        if store is not None and (set(store.prefix) & set(INTRINSIC_SPECIAL) or not store.prefix.isprintable()):
            self.error("FC502", f"the datastore prefix {store.prefix!r} has a quote, brace, backslash or control "
                       "character, which the state machine would have to escape inside intrinsic functions",
                       flow.span, "choose a datastore prefix without them")
        if store is None:
            for s in flow.ordered_steps():
                if s.kind == ir.FOREACH and foreach_mode == "distributed":
                    self.error("FC502", f"the distributed Map of step '{s.name}' reads its items from S3, "
                               f"but the datastore {self.option('datastore')!r} is not an s3:// URL",
                               s.next_span or s.span, "use an s3:// datastore or --foreach-mode inline")
                elif s.kind in (ir.FOREACH, ir.SWITCH) and mode == "batch":
                    self.error("FC502", f"a Batch job cannot hand step '{s.name}'s {s.kind} outcome back, so the "
                               f"state machine reads it from the datastore, which must be an s3:// URL",
                               s.next_span or s.span, "use an s3:// datastore or --mode worker")
        if mode == "worker":
            self.check_worker_mode(flow)
        for s in flow.ordered_steps():
            if len(s.name) + len(".branches") > STATE_NAME_LIMIT:
                self.unsupported(f"step name '{s.name}' is too long for a state name "
                                 f"({STATE_NAME_LIMIT} characters)", s.span)
            if s.decorators.timeout is not None and s.decorators.timeout.seconds <= 0:
                self.error("FC502", "@timeout must be positive", s.decorators.timeout.span)
            self.check_placement(s, batch=mode == "batch")
        sched = flow.decorators.schedule
        if sched is not None:
            try:
                aws_cron(sched.cron)
            except CronError as exc:
                self.unsupported(f"the schedule {sched.cron!r} has no EventBridge cron equivalent ({exc})", sched.span,
                                 "restrict either the day of month or the day of week, not both")

    def check_worker_mode(self, flow: ir.Flow) -> None:
        """A worker runs every task on its own machine, in its own environment:
        what a step asks of its container cannot be granted there."""
        for s in flow.ordered_steps():
            env = self.step_environment(s)
            has_packages = env is not None and env.manager != "none"
            deco = s.decorators.pypi or s.decorators.conda
            span = deco.span if deco is not None else s.span
            if has_packages and self.option("environments") != "bootstrap":
                self.error("FC502", f"step '{s.name}' has its own packages, but a worker runs every task in its "
                           "own environment", span, "compile with --environments bootstrap: the task then builds "
                           "its environment when it starts")
            image_deco = next((x for x in (s.decorators.kubernetes, s.decorators.batch) if x is not None and x.image),
                              None)
            if image_deco is not None:
                self.warn(f"step '{s.name}' asks for the image {image_deco.image!r}, but a worker runs it in the "
                          "worker's own environment", image_deco.span,
                          "run the workers in that image, or use the AWS Batch mode")
            wanted = resources_of(s)
            res_deco = next((x for x in (s.decorators.resources, s.decorators.kubernetes, s.decorators.batch)
                             if x is not None), None)
            for deco in (s.decorators.kubernetes, s.decorators.batch):
                given = sorted(deco.options) if deco is not None else []
                if given:
                    name = type(deco).__name__.lower()
                    self.warn(f"step '{s.name}' sets @{name}({', '.join(given)}), job options a worker does not "
                              "apply", deco.span, "use the AWS Batch mode for them")
            if wanted and res_deco is not None:
                what = ", ".join(f"{k}={v}" for k, v in sorted(wanted.items()))
                self.warn(f"step '{s.name}' asks for {what}; `flowc worker` runs it on the worker's machine "
                          "and reserves nothing", res_deco.span,
                          "run workers on machines that have it, or use the AWS Batch mode")

    def check_placement(self, s: ir.Step, batch: bool) -> None:
        d = s.decorators
        k8s = d.kubernetes
        if k8s is not None:
            for key in K8S_UNSUPPORTED:
                if getattr(k8s, key):
                    self.unsupported(f"@kubernetes({key}=...) on step '{s.name}' has no AWS Batch equivalent",
                                     k8s.span, "remove it, or move the step's placement to @batch(queue=...)")
        if not batch:
            return  # the worker mode's own warnings cover images and resources
        if k8s is not None:
            for key, why in K8S_IGNORED.items():
                if getattr(k8s, key):
                    self.warn(f"@kubernetes({key}=...) on step '{s.name}' is not carried to AWS Batch: {why}",
                              k8s.span)
        for deco in (d.resources, k8s):
            if deco is not None and deco.disk:
                self.warn(f"disk={deco.disk} on step '{s.name}' is not carried to AWS Batch, which has no "
                          "per-job disk setting", deco.span,
                          "size the compute environment's volumes (launch template) instead")

    # ---- emission

    def emit(self, flow: ir.Flow) -> dict[str, bytes]:
        self.check_flow(flow)
        if any(d.is_error for d in self.diagnostics):
            return {}
        names = Names(self, flow)
        machine = StateMachineBuilder(self, flow, names).build()
        files = {f"{flow.name}.asl.json": dumps(machine)}
        jobs = [job_definition(self, flow, s, names) for s in flow.ordered_steps()] \
            if self.option("mode") == "batch" else []
        if jobs:
            files[f"{flow.name}.batch-jobs.json"] = dumps([job.api() for job in jobs])
        schedule = schedule_definition(flow, names)
        if schedule is not None:
            files[f"{flow.name}.schedule.json"] = dumps(schedule)
        files[f"{flow.name}.template.json"] = dumps(cloudformation(self, flow, names, machine, jobs))
        return files


# ------------------------------------------------------------ names


class Names:
    """The AWS names a flow gets: its state machine and its job definitions."""

    def __init__(self, target: StepFunctions, flow: ir.Flow):
        self.flow = flow
        project = flow.decorators.project
        default = flow.name
        if project is not None:
            branch = "prod" if project.production else (project.branch or "dev")
            default = f"{project.name}-{branch}-{flow.name}"
        self.base = aws_name(target.option("state_machine_name") or default, STATE_NAME_LIMIT)
        self.jobs: dict[str, str] = {}
        seen: dict[str, str] = {}
        for s in flow.ordered_steps():
            job = aws_name(f"{self.base}-{s.name}")
            if job in seen:
                target.error("FC503", f"steps '{seen[job]}' and '{s.name}' both map to the AWS name {job!r}", s.span,
                             "rename one of the steps")
            seen[job] = s.name
            self.jobs[s.name] = job

    @property
    def state_machine(self) -> str:
        return self.base


# ------------------------------------------------------------ the state machine


class StateMachineBuilder:
    """Walks the flow from its start step and writes one States block per
    scope: the top level, each Parallel branch and each Map's item processor.
    A scope ends at the join that closes it (``stop``)."""

    def __init__(self, target: StepFunctions, flow: ir.Flow, names: Names):
        self.t = target
        self.flow = flow
        self.names = names
        self.steps = flow.steps_by_name
        self.batch = target.option("mode") == "batch"
        self.distributed = target.option("foreach_mode") == "distributed"
        self.store = s3_location(target.option("datastore"))
        self.recursive = [s for s in flow.ordered_steps() if s.is_recursive]

    # ---- the whole machine

    def build(self) -> dict:
        states: dict[str, dict] = {}
        states[INIT] = {
            "Type": "Pass",
            "Comment": "the run id is the execution name; steps outside any foreach have index 0",
            "Parameters": self.scope_data("$$.Execution.Name", None, ()),
            "Next": self.flow.start,
        }
        self.walk(self.flow.start, states, stop=None)
        return {
            "Comment": self.comment(),
            "QueryLanguage": "JSONPath",
            "StartAt": INIT,
            "States": self.in_flow_order(states),
        }

    def in_flow_order(self, states: dict[str, dict]) -> dict[str, dict]:
        """States listed as the flow reads: by step, in the flow's topological
        order, each step's helper states (``step.read``, ``step.switch``...)
        right after it. Nested blocks are ordered the same way."""
        if not hasattr(self, "_rank"):
            self._rank = {name: i for i, name in enumerate(self.flow.order)}
        rank = self._rank
        for state in states.values():
            for branch in state.get("Branches", []):
                branch["States"] = self.in_flow_order(branch["States"])
            if "ItemProcessor" in state:
                state["ItemProcessor"]["States"] = self.in_flow_order(state["ItemProcessor"]["States"])
        def key(item: tuple[int, str]) -> tuple[int, int]:
            position, name = item
            return (-1 if name == INIT else rank[name.split(".")[0]], position)

        order = sorted(enumerate(states), key=key)
        return {name: states[name] for _, name in order}

    def comment(self) -> str:
        flow = self.flow
        lines = [f"{flow.name}, compiled by flowc {__version__} from {flow_file(flow)} "
                 f"(sha256 {flow.source.sha256[:12]}); each step runs "
                 + ("as an AWS Batch job." if self.batch else "on a `flowc worker` reading the task queue.")]
        if flow.docstring:
            lines.append(flow.docstring.strip())
        if flow.parameters:
            lines.append("Parameters (the execution input, a JSON object; the runtime applies defaults and types):")
            for p in flow.parameters:
                default = "required" if p.required else (
                    "no default" if p.default is None else "default " + json.dumps(p.default, ensure_ascii=False))
                lines.append(f"  {p.name} ({p.type}, {default})" + (f": {p.help}" if p.help else ""))
        return "\n".join(lines)

    def scope_data(self, run_id_path: str, index_expr: str | None, stack: tuple[str, ...]) -> dict:
        """The state data a scope starts with. ``index_expr`` is an intrinsic
        (a Map item's index path), or None for index 0."""
        data: dict[str, Any] = {"run_id.$": run_id_path}
        if index_expr is None:
            data["index"] = "0"
        else:
            data["index.$"] = index_expr
        loops = {}
        for s in self.recursive:
            if s.foreach_stack == stack:
                counter: dict[str, Any] = {"iteration": 0}
                if self.batch:  # the task id, which names its datastore folder
                    if index_expr is None:
                        counter["task"] = "0"
                    else:
                        counter["task.$"] = index_expr
                loops[s.name] = counter
        if loops:
            data["loops"] = loops
        return data

    # ---- walking the graph

    def walk(self, name: str, states: dict[str, dict], stop: str | None) -> None:
        """The states of every step from ``name`` up to ``stop``, depth first
        in the order of each step's successors: a loop over a stack, so a
        long chain of steps costs no recursion (only a nested split does)."""
        pending = [name]
        while pending:
            name = pending.pop()
            if name == stop or name in states:
                continue
            step = self.steps[name]
            tail = self.task_states(step, states)
            inside = stop is not None
            after: list[str] = []
            if step.kind == ir.END:
                tail["End"] = True
            elif step.kind in (ir.LINEAR, ir.JOIN):
                self.link(tail, step.next[0], stop)
                after = [step.next[0]]
            elif step.kind == ir.BRANCH:
                after = self.branch(step, tail, states, stop)
            elif step.kind == ir.FOREACH:
                after = self.foreach(step, tail, states, stop)
            elif step.kind == ir.SWITCH:
                after = self.switch(step, tail, states, stop)
            else:  # pragma: no cover - the IR has no other kinds
                raise AssertionError(step.kind)
            if inside and tail.get("End") and tail["Type"] == "Task":
                tail["OutputPath"] = None  # a branch or Map item returns {}, whatever the width
            pending.extend(reversed(after))

    @staticmethod
    def link(state: dict, nxt: str, stop: str | None) -> None:
        if nxt == stop:
            state["End"] = True
            if state["Type"] == "Task":
                state["OutputPath"] = None
        else:
            state["Next"] = nxt

    def branch(self, step: ir.Step, tail: dict, states: dict, stop: str | None) -> list[str]:
        join = step.matching_join
        name = f"{step.name}.branches"
        tail["Next"] = name
        branches = []
        for child in step.next:
            inner: dict[str, dict] = {}
            self.walk(child, inner, stop=join)
            branches.append({"StartAt": child, "States": inner})
        states[name] = {
            "Type": "Parallel",
            "Comment": f"the branches of step {step.name} ({source_ref(self.flow, step.next_span or step.span)}), "
                       f"joined by {join}",
            "Branches": branches,
            "ResultPath": None,
        }
        self.link(states[name], join, stop)
        return [join]

    def foreach(self, step: ir.Step, tail: dict, states: dict, stop: str | None) -> list[str]:
        join = step.matching_join
        body = step.next[0]
        stack = step.foreach_stack + (step.name,)
        if step.foreach_stack:
            index = "States.Format('{}.{}', $.index, $$.Map.Item.Value)"
        else:
            index = "States.Format('{}', $$.Map.Item.Value)"
        inner: dict[str, dict] = {}
        self.walk(body, inner, stop=join)
        name = f"{step.name}.foreach"
        where = source_ref(self.flow, step.next_span or step.span)
        the_map: dict[str, Any] = {"Type": "Map"}
        if self.distributed:
            tail["Next"] = name
            the_map["Comment"] = (f"one child execution per item of self.{step.foreach} ({where}); the items are "
                                  "the runtime's manifest in S3, so no state ever holds them")
            the_map["ItemReader"] = {
                "Resource": ITEM_READER,
                "ReaderConfig": {"InputType": "JSON"},
                "Parameters": {"Bucket": self.store.bucket,
                               "Key.$": self.datastore_key(step, "foreach.json")},
            }
        else:
            tail["Next"] = f"{step.name}.width"
            states[f"{step.name}.width"] = {
                "Type": "Choice",
                "Comment": f"an inline Map takes at most {INLINE_MAP_LIMIT} items (the runtime refuses none)",
                "Choices": [
                    {"Variable": "$.out.count", "NumericGreaterThan": INLINE_MAP_LIMIT,
                     "Next": f"{step.name}.too_wide"},
                ],
                "Default": f"{step.name}.items",
            }
            states[f"{step.name}.too_wide"] = {
                "Type": "Fail",
                "Comment": "States.ArrayRange stops at 1,000 items",
                "Error": "flowc.ForeachTooWide",
                "Cause": f"the foreach in step {step.name} has more than {INLINE_MAP_LIMIT} items, more than an "
                         "inline Map takes; compile with --foreach-mode distributed",
            }
            states[f"{step.name}.items"] = {
                "Type": "Pass",
                "Comment": "the child indices 0..count-1 (small: at most 1,000 numbers)",
                "Parameters": {"items.$": "States.ArrayRange(0, States.MathAdd($.out.count, -1), 1)"},
                "ResultPath": "$.out",
                "Next": name,
            }
            the_map["Comment"] = f"one iteration per item of self.{step.foreach} ({where})"
            the_map["ItemsPath"] = "$.out.items"
        the_map["ItemSelector"] = self.scope_data("$.run_id", index, stack)
        if self.t.option("max_concurrency"):
            the_map["MaxConcurrency"] = self.t.option("max_concurrency")
        processor: dict[str, Any] = {"Mode": "INLINE"}
        if self.distributed:
            processor = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
        the_map["ItemProcessor"] = {"ProcessorConfig": processor, "StartAt": body, "States": inner}
        if self.distributed:
            the_map["ResultWriter"] = {
                "Resource": RESULT_WRITER,
                "Parameters": {"Bucket": self.store.bucket,
                               "Prefix": f"{self.store.prefix}{self.flow.name}/stepfunctions/map-results"},
            }
            the_map["ResultPath"] = None
        else:
            # the iterations' outputs are {} each; keep only their number
            the_map["ResultSelector"] = {"joined.$": "States.ArrayLength($)"}
            the_map["ResultPath"] = "$.out"
        states[name] = the_map
        self.link(the_map, join, stop)
        return [join]

    def switch(self, step: ir.Step, tail: dict, states: dict, stop: str | None) -> list[str]:
        name = f"{step.name}.switch"
        tail["Next"] = name
        targets: list[str] = []
        for target in step.cases.values():
            if target not in targets:
                targets.append(target)
        cases = ", ".join(f"{json.dumps(c, ensure_ascii=False)} -> {t}" for c, t in step.cases.items())
        choices = []
        for target in targets:
            nxt = f"{step.name}.again" if target == step.name else target
            choices.append({"Variable": "$.out.chosen", "StringEquals": target, "Next": nxt})
        states[name] = {
            "Type": "Choice",
            "Comment": f"switch on self.{step.condition} ({source_ref(self.flow, step.next_span or step.span)}): "
                       f"{cases}; the runtime reports the step it chose",
            "Choices": choices,
        }
        if step.is_recursive:
            counter = f"$.loops.{step.name}.iteration"
            again: dict[str, Any] = {"iteration.$": f"States.MathAdd({counter}, 1)"}
            if self.batch:
                again["task.$"] = f"States.Format('{{}}@{{}}', $.index, States.MathAdd({counter}, 1))"
            states[f"{step.name}.again"] = {
                "Type": "Pass",
                "Comment": f"step {step.name} runs again, as its next iteration",
                "Parameters": again,
                "ResultPath": f"$.loops.{step.name}",
                "Next": step.name,
            }
        return [target for target in targets if target != step.name]

    # ---- one step's task

    def needs_outcome(self, step: ir.Step) -> bool:
        return step.kind == ir.SWITCH or (step.kind == ir.FOREACH and not self.distributed)

    def task_id_expr(self, step: ir.Step) -> str:
        return f"$.loops.{step.name}.task" if step.is_recursive else "$.index"

    def datastore_key(self, step: ir.Step, filename: str) -> str:
        """An intrinsic for the S3 key of one of the task's datastore files
        (docs/runtime-contract.md: <root>/<Flow>/runs/<run>/<step>/<task>/)."""
        folder = f"{self.store.prefix}{self.flow.name}/runs/"
        template = intrinsic_string(folder)[:-1] + "{}/" + intrinsic_string(f"{step.name}/")[1:-1] + "{}/" + \
            intrinsic_string(filename)[1:]
        return f"States.Format({template}, $.run_id, {self.task_id_expr(step)})"

    def task_parameters(self, step: ir.Step) -> dict:
        params: dict[str, Any] = {
            "run_id.$": "$.run_id",
            "index.$": "$.index",
            "attempt.$": "States.Format('{}', $$.State.RetryCount)",
        }
        if step.is_recursive:
            params["iteration.$"] = f"States.Format('{{}}', $.loops.{step.name}.iteration)"
        if step.name == self.flow.start:
            params["params.$"] = "States.JsonToString($$.Execution.Input)"
        return params

    def task_states(self, step: ir.Step, states: dict[str, dict]) -> dict:
        """The step's Task (and, on Batch, the states that read its outcome
        back from the datastore); returns the last one."""
        t = self.t
        d = step.decorators
        task: dict[str, Any] = {"Type": "Task", "Comment": task_comment(self.flow, step)}
        params = self.task_parameters(step)
        command = command_of(t, self.flow, step)
        timeout = d.timeout.seconds + t.option("timeout_margin") if d.timeout is not None else None
        heartbeat = t.option("heartbeat_seconds")
        if heartbeat and timeout is not None and heartbeat >= timeout:
            heartbeat = 0  # the timeout comes first: Step Functions takes no longer heartbeat
        if self.batch:
            task["Resource"] = BATCH_TASK
            task["Parameters"] = {
                "JobName": self.names.jobs[step.name],
                "JobDefinition": self.names.jobs[step.name],
                "JobQueue": (d.batch.queue if d.batch is not None and d.batch.queue else t.option("job_queue")),
                "Parameters": params,
            }
        else:
            body: dict[str, Any] = {
                "protocol": MESSAGE_PROTOCOL,
                "step": step.name,
                "command": command,
                "parameters": params,
                "task_token.$": "$$.Task.Token",
            }
            if heartbeat:
                body["heartbeat_seconds"] = heartbeat
            secrets = secret_sources(step)
            if secrets:
                body["secrets"] = {env: src for env, src in secrets}
            task["Resource"] = SQS_TASK
            task["Parameters"] = {"QueueUrl": t.option("queue_url"), "MessageBody": body}
            if heartbeat:
                task["HeartbeatSeconds"] = heartbeat
        if timeout is not None:
            task["TimeoutSeconds"] = timeout
        if d.retry is not None and d.retry.times > 0:
            task["Retry"] = [{
                "ErrorEquals": ["States.ALL"],
                "IntervalSeconds": max(1, round(d.retry.minutes_between_retries * 60)),
                "MaxAttempts": d.retry.times,
                "BackoffRate": t.option("retry_backoff"),
            }]
        states[step.name] = task
        if not self.needs_outcome(step):
            task["ResultPath"] = None
            return task
        wanted = {"chosen": "chosen"} if step.kind == ir.SWITCH else {"count": "foreach_count"}
        if not self.batch:
            task["ResultSelector"] = {f"{k}.$": f"$.{v}" for k, v in wanted.items()}
            task["ResultPath"] = "$.out"
            return task
        task["ResultPath"] = None
        task["Next"] = f"{step.name}.read"
        states[f"{step.name}.read"] = {
            "Type": "Task",
            "Comment": f"the outcome of step {step.name}, from its out.json in the datastore",
            "Resource": S3_GET_OBJECT,
            "Parameters": {"Bucket": self.store.bucket, "Key.$": self.datastore_key(step, "out.json")},
            "ResultSelector": {"task.$": "States.StringToJson($.Body)"},
            "ResultPath": "$.out",
            "Next": f"{step.name}.outcome",
        }
        states[f"{step.name}.outcome"] = {
            "Type": "Pass",
            "Comment": "keep only what the next state reads",
            "Parameters": {f"{k}.$": f"$.out.task.{v}" for k, v in wanted.items()},
            "ResultPath": "$.out",
        }
        return states[f"{step.name}.outcome"]


def task_comment(flow: ir.Flow, step: ir.Step) -> str:
    text = f"step {step.name} ({source_ref(flow, step.span)})"
    if step.docstring and step.docstring.strip():
        text += ": " + step.docstring.strip().splitlines()[0]
    return text


def command_of(target: StepFunctions, flow: ir.Flow, step: ir.Step) -> list[str]:
    """The runtime's one command, with AWS Batch parameter references
    (``Ref::name``) where the state machine fills in values; `flowc worker`
    substitutes them the same way."""
    extra = ["--params", "Ref::params"] if step.name == flow.start else None
    return target.runtime_argv(flow, step, run_id="Ref::run_id", index="Ref::index", attempt="Ref::attempt",
                               iteration="Ref::iteration" if step.is_recursive else None, extra=extra)


# ------------------------------------------------------------ AWS Batch


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def job_definition(target: StepFunctions, flow: ir.Flow, step: ir.Step, names: Names) -> JobDefinition:
    d = step.decorators
    res = resources_of(step)
    env = tuple(sorted((d.environment.vars if d.environment is not None else {}).items()))
    tags: dict[str, str] = {}
    if d.kubernetes is not None:
        tags.update(d.kubernetes.annotations)
        tags.update(d.kubernetes.labels)
    batch = d.batch
    timeout = d.timeout.seconds + target.option("timeout_margin") if d.timeout is not None else None
    linux, container, more_env, more_tags = batch_job_options(step, res)
    env = tuple(sorted(dict(env, **more_env).items()))
    tags.update(more_tags)
    return JobDefinition(
        step=step.name,
        name=names.jobs[step.name],
        image=target.image_for(step),
        command=tuple(command_of(target, flow, step)),
        vcpus=_number(res.get("cpu", DEFAULT_CPU)),
        memory=str(int(res.get("memory", DEFAULT_MEMORY))),
        gpus=str(int(res["gpu"])) if res.get("gpu") else None,
        environment=tuple((k, str(v)) for k, v in env),
        secrets=tuple(secret_sources(step)),
        job_role=(batch.iam_role if batch is not None and batch.iam_role else target.option("job_role")),
        execution_role=(batch.execution_role if batch is not None and batch.execution_role
                        else target.option("execution_role")),
        shared_memory=res.get("shared_memory"),
        timeout=max(60, timeout) if timeout is not None else None,  # Batch's minimum is 60 s
        tags=tuple(sorted(tags.items())),
        linux=tuple(sorted(linux.items())),
        container=tuple(sorted(container.items())),
    )


# ------------------------------------------------------------ schedule and template


def schedule_definition(flow: ir.Flow, names: Names) -> dict | None:
    """An EventBridge Scheduler CreateSchedule request for @schedule. The two
    ARNs are known only once deployed: the CloudFormation template fills
    them in; with the CLI, replace the placeholders."""
    sched = flow.decorators.schedule
    if sched is None:
        return None
    try:
        expression = aws_cron(sched.cron)
    except CronError:  # reported by check_flow; with --unsupported warn, no schedule
        return None
    out: dict[str, Any] = {
        "Name": names.state_machine,
        "Description": f"runs {flow.name} ({source_ref(flow, sched.span)}: {sched.kind} {sched.cron!r})",
        "ScheduleExpression": expression,
    }
    if sched.timezone:
        out["ScheduleExpressionTimezone"] = sched.timezone
    out["FlexibleTimeWindow"] = {"Mode": "OFF"}
    out["State"] = "ENABLED"
    out["Target"] = {
        "Arn": f"<ARN of the state machine {names.state_machine}>",
        "RoleArn": "<ARN of a role EventBridge Scheduler assumes to call states:StartExecution>",
        "Input": "{}",
    }
    return out


def cloudformation(target: StepFunctions, flow: ir.Flow, names: Names, machine: dict,
                   jobs: list[JobDefinition]) -> dict:
    """One stack: the state machine, its job definitions and its schedule."""
    parameters: dict[str, Any] = {
        "StateMachineRoleArn": {
            "Type": "String",
            "Description": "IAM role the state machine runs as: it submits the Batch jobs or sends the task "
                           "messages, and reads the datastore bucket",
        },
    }
    resources: dict[str, Any] = {}
    job_ids = []
    for job in jobs:
        lid = logical_id("Job", job.step)
        job_ids.append(lid)
        resources[lid] = job.cloudformation()
    machine_resource: dict[str, Any] = {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {
            "StateMachineName": names.state_machine,
            "StateMachineType": "STANDARD",
            "RoleArn": {"Ref": "StateMachineRoleArn"},
            # "${" written as "\u0024{" and "{{" as "\u007b{": the same JSON to Step
            # Functions, and neither a CloudFormation placeholder (cfn-lint E1029)
            # nor a dynamic reference ({{resolve:...}}) in a docstring or help text
            "DefinitionString": json.dumps(machine, ensure_ascii=False).replace("${", "\\u0024{")
            .replace("{{", "\\u007b{"),
        },
    }
    if job_ids:
        machine_resource["DependsOn"] = job_ids
    resources["StateMachine"] = machine_resource
    schedule = schedule_definition(flow, names)
    if schedule is not None:
        parameters["SchedulerRoleArn"] = {
            "Type": "String",
            "Description": "IAM role EventBridge Scheduler assumes to start executions of the state machine",
        }
        props = {k: v for k, v in schedule.items() if k != "Target"}
        props["Target"] = {"Arn": {"Ref": "StateMachine"}, "RoleArn": {"Ref": "SchedulerRoleArn"}, "Input": "{}"}
        resources["Schedule"] = {"Type": "AWS::Scheduler::Schedule", "Properties": props}
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"{flow.name} on AWS Step Functions, compiled by flowc {__version__} from {flow_file(flow)}",
        "Parameters": parameters,
        "Resources": resources,
        "Outputs": {"StateMachineArn": {"Value": {"Ref": "StateMachine"}}},
    }
    refuse_dynamic_references(target, flow, template)
    return template


def refuse_dynamic_references(target: StepFunctions, flow: ir.Flow, value: Any) -> None:
    """CloudFormation replaces {{resolve:ssm:...}} and {{resolve:secretsmanager:...}}
    in a stack's values, with no escape outside the state machine's JSON: a
    value holding one (an image, an environment variable) would copy a
    parameter or a secret into the stack. Refused, with the value."""
    if isinstance(value, str):
        if DYNAMIC_REFERENCE in value:
            target.unsupported(f"the CloudFormation template would hold {value!r}, whose {DYNAMIC_REFERENCE}...}} "
                               "CloudFormation would resolve", flow.span,
                               "remove the '{{resolve:' from the flow's values and options")
    elif isinstance(value, dict):
        for k, v in value.items():
            if k != "DefinitionString":  # escaped above
                refuse_dynamic_references(target, flow, k)
                refuse_dynamic_references(target, flow, v)
    elif isinstance(value, list):
        for v in value:
            refuse_dynamic_references(target, flow, v)
