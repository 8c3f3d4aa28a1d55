"""What the capability table cannot say about a flow on Step Functions:
option combinations, and the parts of a decorator AWS Batch cannot carry."""

from __future__ import annotations


from flowc.compiler import ir

from ..resources import asked_of
from ..base import Target  # the target, as its lowering sees it
from .aws import INTRINSIC_SPECIAL, s3_location
from .cron import CronError, aws_cron


STATE_NAME_LIMIT = 80

# @kubernetes options that have an AWS Batch meaning, and those that do not.
K8S_IGNORED = {"image_pull_policy": "the ECS agent's ECS_IMAGE_PULL_BEHAVIOR decides when images are pulled",
               "gpu_vendor": "AWS Batch GPUs are NVIDIA GPUs"}
K8S_UNSUPPORTED = ("namespace", "service_account", "node_selector", "tolerations", "secrets",
                   "persistent_volume_claims")


def check_flow(t: Target, flow: ir.Flow) -> None:
    """What the capability table cannot say: option combinations and the
    parts of a decorator this target cannot carry."""
    mode, foreach_mode = t.option("mode"), t.option("foreach_mode")
    if mode == "worker" and not t.option("queue_url"):
        t.error("FC502", "the worker mode needs --queue-url (the SQS queue `flowc worker` reads)", flow.span)
    if t.option("heartbeat_seconds") < 0 or t.option("max_concurrency") < 0:
        t.error("FC502", "heartbeat_seconds and max_concurrency cannot be negative", flow.span)
    if t.option("retry_backoff") < 1.0:
        t.error("FC502", "retry_backoff must be at least 1.0", flow.span)
    store = s3_location(t.option("datastore"))
    if store is not None and (set(store.prefix) & set(INTRINSIC_SPECIAL) or not store.prefix.isprintable()):
        t.error("FC502", f"the datastore prefix {store.prefix!r} has a quote, brace, backslash or control "
                   "character, which the state machine would have to escape inside intrinsic functions",
                   flow.span, "choose a datastore prefix without them")
    if store is None:
        for s in flow.ordered_steps():
            if s.kind == ir.FOREACH and foreach_mode == "distributed":
                t.error("FC502", f"the distributed Map of step '{s.name}' reads its items from S3, "
                           f"but the datastore {t.option('datastore')!r} is not an s3:// URL",
                           s.next_span or s.span, "use an s3:// datastore or --foreach-mode inline")
            elif s.kind in (ir.FOREACH, ir.SWITCH) and mode == "batch":
                t.error("FC502", f"a Batch job cannot hand step '{s.name}'s {s.kind} outcome back, so the "
                           f"state machine reads it from the datastore, which must be an s3:// URL",
                           s.next_span or s.span, "use an s3:// datastore or --mode worker")
    if mode == "worker":
        check_worker_mode(t, flow)
    for s in flow.ordered_steps():
        if len(s.name) + len(".branches") > STATE_NAME_LIMIT:
            t.unsupported(f"step name '{s.name}' is too long for a state name "
                             f"({STATE_NAME_LIMIT} characters)", s.span)
        if s.decorators.timeout is not None and s.decorators.timeout.seconds <= 0:
            t.error("FC502", "@timeout must be positive", s.decorators.timeout.span)
        check_placement(t, s, batch=mode == "batch")
    sched = flow.decorators.schedule
    if sched is not None:
        try:
            aws_cron(sched.cron)
        except CronError as exc:
            t.unsupported(f"the schedule {sched.cron!r} has no EventBridge cron equivalent ({exc})", sched.span,
                             "restrict either the day of month or the day of week, not both")

def check_worker_mode(t: Target, flow: ir.Flow) -> None:
    """A worker runs every task on its own machine, in its own environment:
    what a step asks of its container cannot be granted there."""
    for s in flow.ordered_steps():
        env = t.step_environment(s)
        has_packages = env is not None and env.manager != "none"
        deco = s.decorators.pypi or s.decorators.conda
        span = deco.span if deco is not None else s.span
        if has_packages and t.option("environments") != "bootstrap":
            t.error("FC502", f"step '{s.name}' has its own packages, but a worker runs every task in its "
                       "own environment", span, "compile with --environments bootstrap: the task then builds "
                       "its environment when it starts")
        image_deco = next((x for x in (s.decorators.kubernetes, s.decorators.batch) if x is not None and x.image),
                          None)
        if image_deco is not None:
            t.warn(f"step '{s.name}' asks for the image {image_deco.image!r}, but a worker runs it in the "
                      "worker's own environment", image_deco.span,
                      "run the workers in that image, or use the AWS Batch mode")
        wanted = asked_of(s)
        res_deco = next((x for x in (s.decorators.resources, s.decorators.kubernetes, s.decorators.batch)
                         if x is not None), None)
        for deco in (s.decorators.kubernetes, s.decorators.batch):
            given = sorted(deco.options) if deco is not None else []
            if given:
                name = type(deco).__name__.lower()
                t.warn(f"step '{s.name}' sets @{name}({', '.join(given)}), job options a worker does not "
                          "apply", deco.span, "use the AWS Batch mode for them")
        if wanted and res_deco is not None:
            what = ", ".join(f"{k}={v}" for k, v in sorted(wanted.items()))
            t.warn(f"step '{s.name}' asks for {what}; `flowc worker` runs it on the worker's machine "
                      "and reserves nothing", res_deco.span,
                      "run workers on machines that have it, or use the AWS Batch mode")

def check_placement(t: Target, s: ir.Step, batch: bool) -> None:
    d = s.decorators
    k8s = d.kubernetes
    if k8s is not None:
        for key in K8S_UNSUPPORTED:
            if getattr(k8s, key):
                t.unsupported(f"@kubernetes({key}=...) on step '{s.name}' has no AWS Batch equivalent",
                                 k8s.span, "remove it, or move the step's placement to @batch(queue=...)")
    if not batch:
        return  # the worker mode's own warnings cover images and resources
    if k8s is not None:
        for key, why in K8S_IGNORED.items():
            if getattr(k8s, key):
                t.warn(f"@kubernetes({key}=...) on step '{s.name}' is not carried to AWS Batch: {why}",
                          k8s.span)
    for deco in (d.resources, k8s):
        if deco is not None and deco.disk:
            t.warn(f"disk={deco.disk} on step '{s.name}' is not carried to AWS Batch, which has no "
                      "per-job disk setting", deco.span,
                      "size the compute environment's volumes (launch template) instead")
