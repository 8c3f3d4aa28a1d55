"""A hand-written kfp DSL script: the peer `flowc compile --target kubeflow`
(and, as in issue 14's table, `--target argo`) is paired with in
benchmarks/cli_bench.py. It builds what a person would write with kfp 2 for a
linear flow of N steps (one container component, a pipeline calling it once
per step, each task after the one before) and compiles it to a pipeline YAML.
Run with the kfp 2 environment (.venv-kfp), never the product's.

    .venv-kfp/bin/python benchmarks/kfp_linear.py N OUT.yaml
"""

# no `from __future__ import annotations`: kfp reads the component's annotations as types

import sys

from kfp import compiler, dsl


@dsl.container_component
def run_step(step: str, run_id: str):
    return dsl.ContainerSpec(image="python:3.11", command=["python", "-m", "flowc.runtime"],
                             args=["step", "--step", step, "--run-id", run_id])


def main(n: int, out: str) -> None:
    names = ["start"] + [f"step_{i}" for i in range(1, n - 1)] + ["end"]

    @dsl.pipeline(name="big-linear-flow")
    def big_linear_flow(alpha: str = "0.5"):
        previous = None
        for name in names:
            task = run_step(step=name, run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER)
            task.set_display_name(name)
            task.set_caching_options(False)
            if previous is not None:
                task.after(previous)
            previous = task

    compiler.Compiler().compile(big_linear_flow, out)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10, sys.argv[2] if len(sys.argv) > 2 else "kfp.yaml")
