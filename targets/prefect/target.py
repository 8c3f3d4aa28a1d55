"""The Prefect 3 target: a flow module, a prefect.yaml and a work pool template.

The compile lowers the IR to a small typed plan, in the manner of sqlglot,
then renders it with jinja2 templates (``templates/prefect*.j2``):

- ``prefect_flow.py``: one Prefect task per step, each calling the runtime's
  one command (its output goes to Prefect's run logger), and one Prefect flow
  whose parameters mirror the flow's Parameters. The flow body is a straight
  sequence of statements, one per step: ``submit`` outside a foreach (so
  static branches run concurrently), ``.map`` over foreach index paths inside
  one (nested foreaches and multi-step bodies too), a Python ``if`` for a
  switch and a ``while`` loop for a recursive switch. Only small scalars pass
  between tasks: run id, index path, iteration, the case a switch chose and a
  foreach's count.
- ``prefect.yaml``: the flow's deployment (work pool, image, parameters with
  their defaults, the ``@schedule`` and ``@trigger``), and one deployment per
  step that needs a container of its own (a per-step image, GPUs, more
  resources than the flow's pod, ``@kubernetes``, ``@batch``). The flow's
  task for such a step starts that deployment with Prefect's
  ``run_deployment``; its job variables (image, resources, node selector,
  tolerations...) fill the work pool's Kubernetes job template.
- ``kubernetes-job-template.json``: that base job template (Prefect's
  default one plus GPU, disk, node selector, tolerations and volumes), for
  ``prefect work-pool create --base-job-template``.
- ``<Flow>.ir.json``: the IR the runtime reads beside the flow file.

Which steps run where: every step runs in the flow run's own process (its
pod, on a Kubernetes work pool) except the container steps above. Every
graph fact (parents, parent groups, foreach stacks and bodies, joins, which
steps a switch may route around) is read from the IR.
"""

from __future__ import annotations

from flowc.compiler import ir

from ..base import Option, Target, ir_file, yes
from ..events import end_event_name, subscriptions
from ..kubernetes import check_pods
from ..python_emit import PyNames, py_docstring
from . import render
from .body import FlowBody
from .checks import check_yaml_is_literal, refuse_placeholders
from .names import deployment_name, step_deployment_prefix, tags
from .plan import BODY_NAMES, MODULE_NAMES, Plan
from .events import deployment_triggers
from .pods import container_steps, pod_variables
from .tasks import MODULE, YAML, command, flow_docstring, module_doc, param, snake, task

JOB_TEMPLATE = "kubernetes-job-template.json"


class PrefectTarget(Target):
    name = "prefect"
    description = "Prefect 3: a flow module with one task per step, and a prefect.yaml that deploys it"
    OUTPUT_KIND = "directory"
    CAPABILITIES = {
        "branch": yes("tasks submitted concurrently"),
        "foreach": yes("Task.map over index paths"),
        "nested_foreach": yes(),
        "foreach_body": yes(),
        "switch": yes("a Python if"),
        "recursive_switch": yes("a while loop"),
        "parameters": yes("flow parameters"),
        "required_parameters": yes(),
        "retry": yes("task retries and retry_delay_seconds"),
        "timeout": yes("task timeout_seconds (the runtime enforces @timeout first)"),
        "catch": yes("the runtime catches on the last attempt"),
        "resources": yes("a step asking for more than the flow's pod runs in a container of its own"),
        "gpu": yes("Kubernetes job template variables"),
        "environment": yes("set by the runtime"),
        "secrets": yes("Prefect Secret blocks, as environment variables"),
        "schedule": yes("deployment schedule"),
        "trigger": yes("a deployment trigger (compound for several events), parameters from Jinja templates"),
        "trigger_on_finish": yes("a deployment trigger on the upstream's end event, which its flow emits"),
        "project": yes("deployment name prefix and tags"),
        "image": yes("a deployment of its own on the Kubernetes work pool"),
        "kubernetes": yes("job variables of the step's deployment"),
        "batch": yes("a container of its own on the work pool; queue= is its work queue"),
        "packages": yes("its environment's image (a container of its own), or built at start "
                        "(--environments bootstrap); run directly, the runtime builds it here"),
    }
    OPTIONS = (
        Option("work_pool", str, "flowc", "Prefect work pool (type kubernetes) of the flow and its container steps"),
        Option("work_queue", str, "", "work queue of the flow's deployment (default: the pool's default queue)"),
        Option("namespace", str, "default", "Kubernetes namespace of the flow's pods"),
        Option("cpu", float, 1.0, "CPUs of the flow's own pod; a step asking for more runs in a container of its own"),
        Option("memory", int, 4096, "memory (MB) of the flow's own pod; a step asking for more runs in its own"),
        Option("disk", int, 10240, "disk (MB) of the flow's own pod; a step asking for more runs in its own"),
        Option("workdir", str, "/opt/prefect/flow",
               "folder of the image holding prefect_flow.py (and, without a code package, the flow file and its IR)"),
        Option("deployment", str, "", "name of the flow's deployment (default: the flow's name, after @project)"),
        Option("max_workers", int, 8, "tasks a flow run runs at once (its thread pool); 0: Prefect's setting "
               "PREFECT_TASK_RUNNER_THREAD_POOL_MAX_WORKERS, unbounded when unset"),
    )

    def emit(self, flow: ir.Flow) -> dict[str, bytes]:
        plan = self.plan(flow)
        if any(d.is_error for d in self.diagnostics):
            return {}
        module = render.flow_module(plan, self.options)
        yaml_text = render.deployments(plan, self.options)
        check_yaml_is_literal(self, flow, yaml_text)
        if any(d.is_error for d in self.diagnostics):
            return {}
        files = {MODULE: module.encode(), YAML: yaml_text.encode(), JOB_TEMPLATE: render.job_template().encode()}
        if not plan.package:  # the code is in the image, beside prefect_flow.py: the runtime reads this IR
            files[ir_file(flow)] = ir.dump(flow).encode()
        return files

    def plan(self, flow: ir.Flow) -> Plan:
        """The IR lowered to what the templates render: parameters, one task per
        step, the flow body's statements, the deployments."""
        if self.flow is not flow:  # planned outside compile(): per-step environments are resolved for this flow
            self.flow, self.environments = flow, None
        names = PyNames(MODULE_NAMES)
        # required parameters first: Python wants arguments without a default before the others
        ordered = sorted(flow.parameters, key=lambda p: not p.required)
        params = [param(self, flow, p) for p in ordered]
        py_params = {p.py for p in params}
        for p, pp in zip(ordered, params):
            if pp.py in BODY_NAMES:
                self.unsupported(f"parameter '{p.name}' would hide the generated flow's helper {pp.py}()", p.span,
                                 "rename the parameter")
        seen: dict[str, str] = {}
        for p, pp in zip(ordered, params):
            if pp.py in seen:
                self.unsupported(f"parameters '{seen[pp.py]}' and '{p.name}' are both '{pp.py}' as Python names",
                                 p.span, "rename one of them")
            seen[pp.py] = p.name
        names.reserve(py_params)
        flow_func = names.claim(snake(flow.name))
        # a triggered flow takes the events that started it (a deployment trigger fills it)
        trigger_param = names.claim("flowc_trigger") if subscriptions(flow, self.option("user")) else None
        deployment = deployment_name(self, flow)
        step_prefix = step_deployment_prefix(self, flow)
        check_pods(self, flow, container_steps(self, flow), step_secrets=False)
        tasks = {s.name: task(self, flow, s, names, step_prefix, triggered=trigger_param is not None)
                 for s in flow.ordered_steps()}
        body_names = PyNames(MODULE_NAMES | py_params | set(names.used))
        run_var, params_var = body_names.claim("run_id"), body_names.claim("params")
        body, futures = FlowBody(flow, tasks, body_names, run_var, params_var, trigger_param).build()
        refuse_placeholders(self, flow)
        return Plan(
            flow=flow,
            module_doc=py_docstring(module_doc(self, flow) + "\n"),
            flow_func=flow_func,
            flow_doc=flow_docstring(self, flow, params),
            params=params,
            tasks=list(tasks.values()),
            body=body,
            futures=futures,
            command=command(self, flow),
            step_flow_name=f"{flow.name}-step",
            deployment=deployment,
            tags=tags(self, flow),
            job_variables=pod_variables(self),
            schedule=flow.decorators.schedule,
            triggers=deployment_triggers(self, flow, params, trigger_param, deployment),
            end_event=end_event_name(flow, self.option("user")),
            trigger_param=trigger_param,
            run_var=run_var,
            params_var=params_var,
            package=self.code_package_url(flow),
            bootstrap=self.option("environments") == "bootstrap",
        )
