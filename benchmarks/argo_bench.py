"""The Argo Workflows target: compile time and output size, beside Metaflow's
`argo-workflows create --only-json` for the same flows.

    .venv/bin/python benchmarks/argo_bench.py [--write]

--write replaces benchmarks/results/argo.md with this run's numbers.

Metaflow compiles a flow by importing it (so each of its flows is the flowc
one with `from flowc import` read as `from metaflow import`) and uploads a
code package to S3 even with --only-json; it runs here against moto's S3 on
127.0.0.1, with METAFLOW_USER set and a Kubernetes namespace and image
configured. Its --only-json prints the WorkflowTemplate only (no
CronWorkflow), indented by 4.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from benchmarks.gen import foreach_flow, linear_flow  # noqa: E402

CORPUS = ["examples/foreach_flow.py", "examples/nested_foreach.py", "examples/params_flow.py",
          "examples/resilient_flow.py", "examples/switch_flow.py", "examples/recsys.py",
          "tests/flows/branch.py", "tests/flows/foreach_body.py", "tests/flows/recursive_switch.py"]
GENERATED = {
    "linear, 10 steps": lambda imp: linear_flow(10, "Linear10Flow", imp),
    "linear, 200 steps": lambda imp: linear_flow(200, "Linear200Flow", imp),
    "foreach over 10": lambda imp: foreach_flow(10, "WideForeachFlow", imp),
    "foreach over 10,000": lambda imp: foreach_flow(10_000, "WideForeachFlow", imp),
}


def wall_median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def compact_json_bytes(docs: list) -> int:
    return sum(len(json.dumps(d, separators=(",", ":"))) for d in docs)


# ------------------------------------------------------------ flowc


def flowc_numbers(path: Path) -> dict:
    import yaml

    from flowc.compiler import load_flow
    from flowc.targets.argo import ArgoTarget

    flow = load_flow(path)
    (data,) = ArgoTarget({}).compile(flow).files.values()
    docs = list(yaml.safe_load_all(data))
    out = {"yaml_bytes": len(data), "json_bytes": compact_json_bytes(docs[:1]), "documents": len(docs),
           "templates": len(docs[0]["spec"]["templates"]), "steps": len(flow.steps)}
    out["compile_ms"] = 1000 * wall_median(lambda: ArgoTarget({}).compile(flow), 50)
    out["parse_and_compile_ms"] = 1000 * wall_median(lambda: ArgoTarget({}).compile(load_flow(path)), 20)
    with tempfile.TemporaryDirectory() as tmp:
        cli = [sys.executable, "-m", "flowc", "compile", str(path), "--target", "argo", "-o", tmp + "/out.yaml"]
        out["cli_ms"] = 1000 * wall_median(lambda: subprocess.run(cli, check=True, capture_output=True, cwd=REPO), 5)
    return out


# ------------------------------------------------------------ Metaflow


class LocalS3:
    """moto's S3 on 127.0.0.1, with the bucket Metaflow uploads its package to."""

    def __init__(self) -> None:
        import boto3
        from moto.server import ThreadedMotoServer

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        self.url = f"http://127.0.0.1:{self.port}"
        boto3.client("s3", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id="bench",
                     aws_secret_access_key="bench").create_bucket(Bucket="metaflow-bench")

    def env(self, home: str) -> dict[str, str]:
        return {**os.environ, "METAFLOW_USER": "flowc", "METAFLOW_HOME": home, "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
                "METAFLOW_DEFAULT_DATASTORE": "s3", "METAFLOW_DEFAULT_METADATA": "local",
                "METAFLOW_DATASTORE_SYSROOT_S3": "s3://metaflow-bench/metaflow", "METAFLOW_S3_ENDPOINT_URL": self.url,
                "METAFLOW_KUBERNETES_NAMESPACE": "default", "METAFLOW_KUBERNETES_CONTAINER_IMAGE": "python:3.11"}

    def stop(self) -> None:
        self.server.stop()


def metaflow_numbers(s3: LocalS3, source: str, flow_name: str, tmp: Path) -> dict:
    source = source.replace("from flowc import", "from metaflow import")
    if "__main__" not in source:  # Metaflow runs the module as a script
        source += f"\n\nif __name__ == \"__main__\":\n    {flow_name}()\n"
    flow = tmp / f"{flow_name.lower()}.py"
    flow.write_text(source)
    argv = [sys.executable, flow.name, "--no-pylint", "argo-workflows", "create", "--only-json"]
    env = s3.env(str(tmp / "home"))
    result = {}

    def once() -> None:
        result["proc"] = subprocess.run(argv, capture_output=True, text=True, cwd=tmp, env=env)

    seconds = wall_median(once, 3)
    proc = result["proc"]
    if proc.returncode != 0 or "{" not in proc.stdout:
        lines = [x.strip() for x in (proc.stderr + proc.stdout).splitlines() if x.strip()]
        return {"error": lines[-1] if lines else f"exit status {proc.returncode}"}
    text = proc.stdout[proc.stdout.index("{"):]
    template, _ = json.JSONDecoder().raw_decode(text)
    return {"cli_ms": 1000 * seconds, "json_bytes": len(json.dumps(template, indent=4)),
            "compact_bytes": compact_json_bytes([template]), "templates": len(template["spec"]["templates"])}


# ------------------------------------------------------------ report


def main() -> None:
    os.chdir(REPO)
    from flowc.compiler import load_flow

    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sources: dict[str, tuple[Path, str, str]] = {}
        for rel in CORPUS:
            sources[rel] = (REPO / rel, (REPO / rel).read_text(), load_flow(REPO / rel).name)
        for label, make in GENERATED.items():
            folder = tmp / "flowc" / label.replace(" ", "").replace(",", "")
            folder.mkdir(parents=True)
            path = folder / "flow.py"
            path.write_text(make("flowc"))
            sources[label] = (path, make("flowc"), load_flow(path).name)
        for label, (path, _, _) in sources.items():
            rows[label] = {"flowc": flowc_numbers(path)}
        s3 = LocalS3()
        try:
            for label, (_, source, name) in sources.items():
                work = tmp / "metaflow" / label.replace(" ", "").replace(",", "").replace("/", "_")
                work.mkdir(parents=True)
                rows[label]["metaflow"] = metaflow_numbers(s3, source, name, work)
        finally:
            s3.stop()
    lines = [
        "# Argo Workflows target: compile time and output size",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}. Command: `.venv/bin/python benchmarks/argo_bench.py --write`.",
        "",
        "flowc: *compile* is the target alone on a loaded IR (median wall time of 50), *parse+compile* adds",
        "reading the flow (median of 20), *CLI* is `flowc compile FLOW --target argo -o FILE` in a new",
        "process (median of 5; it also hashes the code package). *YAML* is the bytes written (the",
        "WorkflowTemplate, and the CronWorkflow for @schedule), *JSON* the WorkflowTemplate alone as compact",
        "JSON, to compare with Metaflow's. Metaflow: `python FLOW.py argo-workflows create --only-json`",
        "(median wall time of 3, a new process that also uploads its code package to moto's S3); *JSON* is",
        "its WorkflowTemplate as it prints it (indented by 4), *compact* the same as compact JSON.",
        "",
        "| flow | steps | flowc compile | flowc parse+compile | flowc CLI | flowc YAML | flowc JSON | flowc templates "
        "| Metaflow CLI | Metaflow JSON | Metaflow compact | Metaflow templates |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, row in rows.items():
        f, m = row["flowc"], row["metaflow"]
        mf = (f"{m['cli_ms']:.0f} ms | {m['json_bytes']:,} B | {m['compact_bytes']:,} B | {m['templates']}"
              if "error" not in m else f"fails: {m['error'][:100]} | - | - | -")
        lines.append(f"| {label} | {f['steps']} | {f['compile_ms']:.1f} ms | {f['parse_and_compile_ms']:.1f} ms "
                     f"| {f['cli_ms']:.0f} ms | {f['yaml_bytes']:,} B | {f['json_bytes']:,} B | {f['templates']} "
                     f"| {mf} |")
    startup = {label: 1000 * wall_median(lambda argv=argv: subprocess.run(argv, check=True, capture_output=True,
                                                                       cwd=REPO), 5)
               for label, argv in (("`python -c pass`", [sys.executable, "-c", "pass"]),
                                   ("`python -m flowc --version`", [sys.executable, "-m", "flowc", "--version"]),
                                   ("`python -c 'import hera.workflows'`",
                                    [sys.executable, "-c", "import hera.workflows"]))}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines += [
        "",
        "Where a CLI run's time goes (median wall time of 5 new processes):",
        "",
        *[f"- {k}: {v:.0f} ms" for k, v in startup.items()],
        "",
        "Building the objects through hera's typed models means importing them once per process; the",
        "compile itself is the *compile* column. The 1-minute load average at the end of this run was",
        f"{load:.1f} on {os.cpu_count()} cores (other work on the machine): wall times are inflated by it.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if "--write" in sys.argv:
        (HERE / "results" / "argo.md").write_text(text)


if __name__ == "__main__":
    main()
