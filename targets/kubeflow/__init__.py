"""Kubeflow Pipelines (KFP v2): the flow as a pipeline package, the PipelineSpec
IR YAML that the KFP UI and ``kfp.Client().create_run_from_pipeline_package``
take, written directly from the IR (kfp is never imported to compile)."""

from .target import KubeflowTarget, package_name, pipeline_name

__all__ = ["KubeflowTarget", "package_name", "pipeline_name"]
