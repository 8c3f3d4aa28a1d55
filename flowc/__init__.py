"""flowc: write a workflow once as a Python FlowSpec, run it locally, compile it
to Argo Workflows, Airflow, Prefect or AWS Step Functions.

The authoring API (FlowSpec, step, Parameter, JSONType, current and the
decorators) is what a flow imports; it is light, because it is also what
runs inside every container.
"""

from __future__ import annotations

__version__ = "0.1.0"

from flowc.runtime.current import current
from flowc.runtime.decorators import (
    batch, card, catch, conda, conda_base, environment, kubernetes, project, pypi, pypi_base,
    resources, retry, schedule, secrets, step, timeout, trigger, trigger_on_finish,
)
from flowc.runtime.configs import Config, IncludeFile, config_expr
from flowc.runtime.flowspec import FlowSpec
from flowc.runtime.parameters import JSONType, Parameter
from flowc.runtime.user_decorators import (
    USER_SKIP_STEP, FlowMutator, StepMutator, UserStepDecorator, user_step_decorator,
)

__all__ = [
    "FlowSpec", "step", "Parameter", "JSONType", "current", "Run", "Flow", "Config", "IncludeFile", "config_expr",
    "resources", "retry", "timeout", "catch", "environment", "pypi", "pypi_base", "conda", "conda_base",
    "secrets", "kubernetes", "batch", "card", "schedule", "project", "trigger", "trigger_on_finish",
    "user_step_decorator", "UserStepDecorator", "StepMutator", "FlowMutator", "USER_SKIP_STEP",
]


def __getattr__(name: str):
    if name in ("Run", "Flow", "Step", "Task"):  # the client reads runs; loaded on first use
        from flowc.runtime import client

        return getattr(client, name)
    raise AttributeError(f"module 'flowc' has no attribute {name!r}")
