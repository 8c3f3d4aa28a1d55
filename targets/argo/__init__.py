"""Argo Workflows: a WorkflowTemplate (or Workflow) and a CronWorkflow for
@schedule, as YAML.

The package, one concern per file:

    target.py      the class: capabilities, options, the objects around the templates
    checks.py      what Argo cannot take (names, namespaces, ``{{``, options)
    dag.py         the IR lowered to DAG templates: scopes, wiring, fan-outs, loops
    containers.py  one step's container template, over targets/kubernetes.py's pod
    names.py       Kubernetes names, the @project name, expression literals
    models.py      hera's typed models, as light plain data
    writer.py      YAML with a fixed key order and comments
"""

from .names import dns_label
from .target import ArgoTarget

__all__ = ["ArgoTarget", "dns_label"]
