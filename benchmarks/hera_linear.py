"""A hand-written hera script: the peer `flowc compile --target argo` is paired
with in benchmarks/cli_bench.py. It builds what a person would write for a
linear flow of N steps (one container template, a DAG calling it once per
step, each task after the one before) and prints the WorkflowTemplate YAML.

    python benchmarks/hera_linear.py N
"""

from __future__ import annotations

import sys

from hera.workflows import DAG, Container, Parameter, WorkflowTemplate


def main(n: int) -> None:
    names = ["start"] + [f"step-{i}" for i in range(1, n - 1)] + ["end"]
    with WorkflowTemplate(name="big-linear-flow", entrypoint="big-linear-flow",
                          arguments=[Parameter(name="alpha", value="0.5")]) as w:
        run = Container(name="run-step", image="python:3.11", command=["python", "-m", "flowc.runtime"],
                        args=["step", "--step", "{{inputs.parameters.step}}", "--run-id", "{{workflow.name}}"],
                        inputs=[Parameter(name="step")])
        with DAG(name="big-linear-flow"):
            previous = None
            for name in names:
                task = run(name=name, arguments={"step": name})
                if previous is not None:
                    previous >> task
                previous = task
    sys.stdout.write(w.to_yaml())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
