"""The Step Functions target: compile time and output size, beside Metaflow's
`step-functions create --only-json` for the same flows.

    .venv/bin/python benchmarks/stepfunctions_bench.py [--engine] [--write]

--engine also runs a foreach of 10, 100 and 1,000 items in moto (minutes);
--write replaces benchmarks/results/stepfunctions.md with this run's numbers.

Metaflow compiles a flow by importing it (so each of its flows is the flowc
example with `from flowc import` read as `from metaflow import`), checks that
the Batch job queue exists and uploads a code package to S3 even with
--only-json; it runs here against a moto server (S3, Batch, IAM, EC2) on
127.0.0.1, with METAFLOW_USER set.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

FLOWS = ["examples/foreach_flow.py", "examples/nested_foreach.py", "examples/params_flow.py",
         "examples/resilient_flow.py", "examples/switch_flow.py", "examples/recsys.py",
         "tests/flows/branch.py", "tests/flows/foreach_body.py", "tests/flows/recursive_switch.py"]


def wall_median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ------------------------------------------------------------ flowc


def flowc_numbers(path: str) -> dict:
    from flowc.compiler import load_flow
    from flowc.targets import registry

    cls = registry.get("stepfunctions")
    flow = load_flow(REPO / path)
    out: dict = {}
    for mode, options in (("batch", {}), ("worker", {"mode": "worker", "queue_url": "https://sqs/q",
                                                     "environments": "bootstrap"})):
        files = cls(options).compile(flow).files
        asl = next(v for k, v in files.items() if k.endswith(".asl.json"))
        out[mode] = {"asl_bytes": len(asl), "all_bytes": sum(len(v) for v in files.values()), "files": len(files),
                     "states": json.dumps(json.loads(asl)).count('"Type":')}
        out[mode]["compile_ms"] = 1000 * wall_median(lambda: cls(options).compile(flow), 50)
    out["parse_and_compile_ms"] = 1000 * wall_median(lambda: cls({}).compile(load_flow(REPO / path)), 20)
    cli = [sys.executable, "-m", "flowc", "compile", path, "-t", "stepfunctions"]
    with tempfile.TemporaryDirectory() as tmp:
        out["cli_ms"] = 1000 * wall_median(
            lambda: subprocess.run(cli + ["-o", tmp + "/"], check=True, capture_output=True, cwd=REPO), 5)
    return out


# ------------------------------------------------------------ Metaflow


class LocalAws:
    """A moto server with what `step-functions create` looks up."""

    def __init__(self) -> None:
        from tests.targets.stepfunctions.sfn_harness import MotoServer

        self.server = MotoServer()
        c = self.server.client
        c("s3").create_bucket(Bucket="metaflow-bench")
        role = c("iam").create_role(RoleName="batch", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        profile = c("iam").create_instance_profile(InstanceProfileName="batch")["InstanceProfile"]["Arn"]
        ec2 = c("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
        group = ec2.create_security_group(GroupName="batch", Description="batch", VpcId=vpc)["GroupId"]
        batch = c("batch")
        env = batch.create_compute_environment(
            computeEnvironmentName="bench-ce", type="MANAGED", state="ENABLED", serviceRole=role,
            computeResources={"type": "EC2", "minvCpus": 0, "maxvCpus": 4, "desiredvCpus": 0,
                              "instanceTypes": ["optimal"], "subnets": [subnet], "securityGroupIds": [group],
                              "instanceRole": profile})["computeEnvironmentArn"]
        batch.create_job_queue(jobQueueName="bench-queue", state="ENABLED", priority=1,
                               computeEnvironmentOrder=[{"order": 1, "computeEnvironment": env}])

    def env(self, home: str) -> dict[str, str]:
        return {**os.environ, **self.server.env, "METAFLOW_USER": "flowc", "METAFLOW_HOME": home,
                "METAFLOW_DEFAULT_DATASTORE": "s3", "METAFLOW_DEFAULT_METADATA": "local",
                "METAFLOW_DATASTORE_SYSROOT_S3": "s3://metaflow-bench/metaflow",
                "METAFLOW_S3_ENDPOINT_URL": self.server.url,
                "METAFLOW_SFN_IAM_ROLE": "arn:aws:iam::123456789012:role/sfn",
                "METAFLOW_ECS_S3_ACCESS_IAM_ROLE": "arn:aws:iam::123456789012:role/batch",
                "METAFLOW_SFN_DYNAMO_DB_TABLE": "metaflow-bench", "METAFLOW_BATCH_JOB_QUEUE": "bench-queue"}

    def stop(self) -> None:
        self.server.stop()


def metaflow_numbers(aws: LocalAws, path: str, tmp: Path) -> dict:
    from flowc.compiler import load_flow

    source = (REPO / path).read_text().replace("from flowc import", "from metaflow import")
    if "__main__" not in source:  # Metaflow runs the module as a script
        source += f"\n\nif __name__ == \"__main__\":\n    {load_flow(REPO / path).name}()\n"
    flow = tmp / Path(path).name
    flow.write_text(source)
    argv = [sys.executable, flow.name, "--no-pylint", "step-functions", "create", "--only-json"]
    env = aws.env(str(tmp / "home"))
    result = {}

    def once() -> None:
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=tmp, env=env)
        result["proc"] = proc

    seconds = wall_median(once, 3)
    proc = result["proc"]
    if proc.returncode != 0 or "{" not in proc.stdout:
        lines = [x.strip() for x in (proc.stderr + proc.stdout).splitlines() if x.strip()]
        return {"error": lines[-1] if lines else f"exit status {proc.returncode}"}
    text = proc.stdout[proc.stdout.index("{"):]
    machine, end = json.JSONDecoder().raw_decode(text)
    return {"cli_ms": 1000 * seconds, "asl_bytes": len(json.dumps(machine, indent=4)),
            "states": json.dumps(machine).count('"Type":')}


# ------------------------------------------------------------ an execution in moto


def engine_numbers(width: int) -> dict:
    """The wide foreach flow in moto's interpreter, worker-queue mode, one
    `flowc worker -j 8`: wall time and the largest state input or output."""
    from tests.targets.stepfunctions.sfn_harness import Harness, MotoServer

    server = MotoServer()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            harness = Harness(server, Path(tmp))
            start = time.perf_counter()
            execution, _ = harness.run_flow(REPO / "tests/flows/wide_foreach.py",
                                            run_id=f"bench-{width}", params={"width": width},
                                            worker_args=("-j", "8"), timeout=3600)
            seconds = time.perf_counter() - start
            assert execution.status == "SUCCEEDED", execution.worker_log[-2000:]
            return {"seconds": seconds, "largest": max(p[2] for p in execution.payloads()),
                    "tasks": execution.states_entered("square")}
    finally:
        server.stop()


# ------------------------------------------------------------ report


def main() -> None:
    os.chdir(REPO)
    rows = {path: {"flowc": flowc_numbers(path)} for path in FLOWS}
    aws = LocalAws()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for path in FLOWS:
                rows[path]["metaflow"] = metaflow_numbers(aws, path, Path(tmp))
    finally:
        aws.stop()
    lines = [
        "# Step Functions target: compile time and output size",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}. Command: `.venv/bin/python benchmarks/stepfunctions_bench.py --engine --write`.",
        "",
        "flowc: *compile* is the target alone on a loaded IR (median wall time of 50), *parse+compile* adds",
        "reading the flow (median of 20), *CLI* is `flowc compile FLOW -t stepfunctions -o DIR` in a new",
        "process (median wall time of 5). Sizes are bytes of the state machine (`.asl.json`) and of all",
        "the files written (state machine, Batch job definitions, schedule, CloudFormation template).",
        "Metaflow: `python FLOW.py step-functions create --only-json` (median wall time of 3, a new process",
        "that also uploads its code package to moto's S3), and the size of the JSON it prints (indented",
        "by 4, as Metaflow prints it). *states* counts the states, nested ones included.",
        "",
        "| flow | flowc compile (Batch / worker) | flowc parse+compile | flowc CLI | flowc .asl.json (Batch / worker) "
        "| flowc all files | flowc states | Metaflow CLI | Metaflow JSON | Metaflow states |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for path, row in rows.items():
        f, m = row["flowc"], row["metaflow"]
        mf = (f"{m['cli_ms']:.0f} ms | {m['asl_bytes']:,} B | {m['states']}" if "error" not in m
              else f"fails: {m['error'][:90]} | - | -")
        lines.append(
            f"| {path} | {f['batch']['compile_ms']:.1f} / {f['worker']['compile_ms']:.1f} ms "
            f"| {f['parse_and_compile_ms']:.1f} ms | {f['cli_ms']:.0f} ms "
            f"| {f['batch']['asl_bytes']:,} / {f['worker']['asl_bytes']:,} B | {f['batch']['all_bytes']:,} B "
            f"({f['batch']['files']} files) | {f['batch']['states']} | {mf} |")
    if "--engine" in sys.argv:
        lines += ["", "An execution in moto's Step Functions interpreter (worker-queue mode, one `flowc worker -j 8`,",
                  "every task a `python -m flowc.runtime step` process; `--engine`). Wall times, so they grow",
                  "when other work shares the two cores:", "",
                  "| foreach width | wall time | per task | largest state input/output |", "|---|---|---|---|"]
        for width in (10, 100, 1000):
            e = engine_numbers(width)
            lines.append(f"| {width:,} | {e['seconds']:.1f} s | {1000 * e['seconds'] / (width + 3):.0f} ms "
                         f"| {e['largest']:,} B |")
    lines += [
        "",
        "Output size does not depend on foreach width in either tool: the width is data, read at run time",
        "(tests/targets/stepfunctions/test_stepfunctions_compile.py checks it for flowc).",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if "--write" in sys.argv:
        (HERE / "results" / "stepfunctions.md").write_text(text)


if __name__ == "__main__":
    main()
