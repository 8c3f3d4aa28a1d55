"""Every subcommand of flowc installed from the wheel and from the sdist
(tests/product/conftest.py), run on copies of the examples outside the
repository: what a user gets from `pip install flowc`."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.product.conftest import ROOTS, Dists, Installed, ok, outside_repo, tracked_files

EXAMPLES = sorted((REPO / "examples").glob("*.py"))
TARGETS = ["argo", "airflow", "prefect", "stepfunctions"]  # what the sample project compiles to
BUILT_IN = ["airflow", "argo", "kubeflow", "prefect", "stepfunctions"]  # every target the wheel holds
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
# a flow whose join fails while the file FAIL exists beside it: what `flowc resume` is for
FAILING_GATHER = ("    def gather(self, inputs):\n",
                  "    def gather(self, inputs):\n        import os\n"
                  "        if os.path.exists('FAIL'):\n            raise RuntimeError('the join failed')\n")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A team's project: the examples as flows/, every target configured
    (Step Functions needs an s3:// datastore; the tests that run tasks pass a folder)."""
    root = outside_repo(tmp_path / "team")
    (root / "flows").mkdir(parents=True)
    for example in EXAMPLES:
        shutil.copy(example, root / "flows" / example.name)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "team"\n\n[tool.flowc]\nflows = ["flows"]\n'
        f'targets = {json.dumps(TARGETS)}\ndatastore = "s3://team-flows"\n\n'
        '[tool.flowc.airflow]\noutput = "dags"\n')
    return root


# ------------------------------------------------------------ the distributions


def test_the_distributions_hold_every_module_and_data_file(dists: Dists) -> None:
    """Each file of the package folders, wherever it is (a new subpackage, a
    template), is in the wheel under flowc/ and in the sdist as it is."""
    sources = [f for f in tracked_files() if f.split("/")[0] in ROOTS]
    assert "flowc/commands/run.py" in sources and "targets/airflow/templates/airflow.py.j2" in sources
    in_wheel = {ROOTS[f.split("/")[0]] + f[f.index("/"):] for f in sources}
    assert in_wheel - dists.wheel_names() == set()
    assert set(sources) - dists.sdist_names() == set()
    assert {"pyproject.toml", "setup.py", "README.md"} <= dists.sdist_names()
    # and nothing that is not the product: no tests, no examples, no bytecode
    assert not [n for n in dists.wheel_names() if n.startswith(("tests/", "examples/")) or n.endswith(".pyc")]


def test_the_installed_flowc_is_the_venvs_not_the_repositorys(installed: Installed, tmp_path: Path) -> None:
    assert ok(installed.flowc("--version", cwd=tmp_path)).stdout.strip() == f"flowc {VERSION}"
    assert ok(installed.python("-m", "flowc", "--version", cwd=tmp_path)).stdout.strip() == f"flowc {VERSION}"
    # every subcommand's parser and every target load, all of them from the venv
    probe = ("import json, sys\n"
             "from flowc import cli\n"
             "from flowc.targets import registry\n"
             "for name in cli.COMMANDS: cli.command_parser(name).format_help()\n"
             "for name in registry.names(): registry.get(name)\n"
             "import flowc.runtime.__main__, flowc.runtime.client, flowc.build_context, flowc.demo\n"
             "files = {m: getattr(mod, '__file__', None) for m, mod in list(sys.modules.items())}\n"
             "print(json.dumps({'path': sys.path, 'files': files, 'targets': registry.names()}))\n")
    seen = json.loads(ok(installed.python("-c", probe, cwd=tmp_path)).stdout)
    assert sorted(seen["targets"]) == BUILT_IN
    site = installed.venv.resolve()
    flowc_files = {m: f for m, f in seen["files"].items() if m == "flowc" or m.startswith("flowc.")}
    assert len(flowc_files) > 40 and "flowc.commands.resume" in flowc_files
    assert all(Path(f).resolve().is_relative_to(site) for f in flowc_files.values()), flowc_files
    repo = str(REPO)
    assert not [p for p in seen["path"] if p.startswith(repo)]
    assert not [f for f in seen["files"].values() if f and f.startswith(repo)]


# ------------------------------------------------------------ static commands


def test_check_reports_every_flow_and_a_broken_one_precisely(installed: Installed, project: Path) -> None:
    checked = ok(installed.flowc("check", "flows", cwd=project))
    assert f"checked {len(EXAMPLES)} files, {len(EXAMPLES)} flows: 0 errors" in checked.stderr
    flow = project / "flows" / "params_flow.py"
    broken = flow.read_text().replace("self.next(self.end)", "self.next(self.ned)", 1)
    flow.write_text(broken)
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if "self.ned" in text)
    failed = installed.flowc("check", "flows", cwd=project)
    assert failed.returncode == 1
    out = failed.stdout + failed.stderr
    assert f"flows/params_flow.py:{line}:" in out and "FC110" in out and "^" in out
    assert "Traceback" not in out


def test_compile_writes_every_targets_files(installed: Installed, project: Path) -> None:
    out = project / "out"
    flow = "flows/foreach_flow.py"
    ok(installed.flowc("compile", flow, "--target", "argo", "-o", out / "argo.yaml", cwd=project))
    ok(installed.flowc("compile", flow, "--target", "airflow", "-o", out / "airflow.py", cwd=project))
    ok(installed.flowc("compile", flow, "--target", "prefect", "-o", out / "prefect", cwd=project))
    ok(installed.flowc("compile", flow, "--target", "stepfunctions", "-o", out / "sfn", cwd=project))
    argo = list(yaml.safe_load_all((out / "argo.yaml").read_text()))
    assert any(doc.get("kind") in ("WorkflowTemplate", "Workflow", "CronWorkflow") for doc in argo)
    compile((out / "airflow.py").read_text(), "airflow.py", "exec")  # the templates rendered to Python
    assert "ForeachFlow" in (out / "airflow.py").read_text()
    compile((out / "prefect" / "prefect_flow.py").read_text(), "prefect_flow.py", "exec")
    assert yaml.safe_load((out / "prefect" / "prefect.yaml").read_text())["deployments"]
    asl = json.loads((out / "sfn" / "ForeachFlow.asl.json").read_text())
    assert asl["StartAt"] and asl["States"]
    # the whole project: every flow for every configured target, with manifests
    whole = ok(installed.flowc("compile", cwd=project))
    assert f"{len(EXAMPLES)} flow files, {len(TARGETS)} targets" in whole.stderr
    for folder in ("dags", "generated/argo", "generated/prefect", "generated/stepfunctions"):
        manifest = json.loads((project / folder / "flowc-manifest.json").read_text())
        assert manifest["flowc_version"] == VERSION
        assert manifest["files"] and all((project / folder / f).is_file() for f in manifest["files"])
    again = ok(installed.flowc("compile", "--check", cwd=project))  # deterministic: nothing stale
    assert again.returncode == 0


def test_ir_graph_targets_and_config(installed: Installed, project: Path) -> None:
    ir = json.loads(ok(installed.flowc("ir", "flows/foreach_flow.py", cwd=project)).stdout)
    assert ir["name"] == "ForeachFlow"
    assert {"start", "square", "gather", "end"} <= set(json.dumps(ir["steps"]).replace('"', " ").split())
    mermaid = ok(installed.flowc("graph", "flows/foreach_flow.py", "--format", "mermaid", cwd=project)).stdout
    assert mermaid.startswith("flowchart") and "s_square" in mermaid
    dot = ok(installed.flowc("graph", "flows/foreach_flow.py", "--format", "dot", cwd=project)).stdout
    assert dot.startswith('digraph "ForeachFlow"')
    table = ok(installed.flowc("targets", cwd=project)).stdout
    assert all(t in table.splitlines()[0] for t in TARGETS)
    assert "namespace" in ok(installed.flowc("targets", "argo", cwd=project)).stdout
    config = ok(installed.flowc("config", cwd=project)).stdout
    assert re.search(r'^output = "dags" +# pyproject.toml:\d+$', config, re.M), config
    flows = ok(installed.flowc("config", "--list-flows", cwd=project)).stdout.split()
    assert flows == [f"flows/{e.name}" for e in EXAMPLES]


# ------------------------------------------------------------ running flows


def test_run_show_logs_runs_and_the_run_api(installed: Installed, project: Path) -> None:
    ran = installed.flowc("run", "flows/foreach_flow.py", "--count", "3", cwd=project)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert (project / ".flowc" / "ForeachFlow" / "runs" / "1").is_dir()
    runs = ok(installed.flowc("runs", cwd=project)).stdout
    assert re.search(r"^ForeachFlow/1 +succeeded", runs, re.M), runs
    shown = ok(installed.flowc("show", "ForeachFlow/1/end", cwd=project)).stdout
    assert re.search(r"^ +total +14$", shown, re.M), shown  # 1 + 4 + 9
    logs = ok(installed.flowc("logs", "ForeachFlow/1/end", cwd=project)).stdout
    assert "sum of squares: 14" in logs
    api = ("from flowc import Run\nrun = Run('ForeachFlow/1')\n"
           "print(run['end'].task.data.total, sorted(t.data.value for t in run['square']))\n")
    assert ok(installed.python("-c", api, cwd=project)).stdout.split() == ["14", "[1,", "4,", "9]"]


def test_trigger_runs_a_chain_of_flows_from_an_event(installed: Installed, project: Path) -> None:
    """`flowc trigger` from the installed package: an event starts a flow whose end starts another,
    which reads the upstream run through current.trigger."""
    (project / "events").mkdir()
    (project / "events" / "ingest.py").write_text(
        "from flowc import FlowSpec, Parameter, step, trigger\n\n@trigger(event='files_landed')\n"
        "class Ingest(FlowSpec):\n    folder = Parameter('folder', default='none')\n    @step\n"
        "    def start(self):\n        self.rows = len(self.folder)\n        self.next(self.end)\n"
        "    @step\n    def end(self):\n        pass\n")
    (project / "events" / "train.py").write_text(
        "from metaflow import FlowSpec, current, step, trigger_on_finish\n\n@trigger_on_finish(flow='Ingest')\n"
        "class Train(FlowSpec):\n    @step\n    def start(self):\n"
        "        self.rows = current.trigger.run['start'].task.data.rows\n        self.next(self.end)\n"
        "    @step\n    def end(self):\n        pass\n")
    done = ok(installed.flowc("trigger", "files_landed", "--payload", '{"folder": "landing"}', "events",
                              "--datastore", ".flowc", cwd=project))
    assert "2 run(s) started, 0 failed" in done.stdout, done.stdout
    shown = ok(installed.flowc("show", "Train/1/start", cwd=project)).stdout
    assert re.search(r"^ +rows +7$", shown, re.M), shown


def test_ui_without_its_extra_says_how_to_install_it(installed: Installed, dists: Dists, project: Path) -> None:
    """The product's dependencies stay small: the web UI is the `ui` extra,
    and without it `flowc ui` says so in one line; its templates ship."""
    assert {"flowc/ui/templates/run.html", "flowc/ui/static/ui.css", "flowc/ui/static/live.js"} <= dists.wheel_names()
    result = installed.flowc("ui", "--port", "0", cwd=project)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr == "flowc ui: the web UI needs starlette and uvicorn, not installed here: pip install 'flowc[ui]'\n"


def test_resume_reruns_what_failed_and_reuses_the_rest(installed: Installed, project: Path) -> None:
    flow = project / "flows" / "foreach_flow.py"
    flow.write_text(flow.read_text().replace(*FAILING_GATHER))
    (project / "FAIL").touch()
    failed = installed.flowc("run", "flows/foreach_flow.py", "--count", "2", cwd=project)
    assert failed.returncode != 0 and "the join failed" in failed.stdout + failed.stderr
    (project / "FAIL").unlink()
    resumed = installed.flowc("resume", "ForeachFlow/1", cwd=project)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    report = resumed.stdout + resumed.stderr
    assert "ForeachFlow/2/start/0: reused from the original run" in report
    assert "ForeachFlow/2/square/1: reused from the original run" in report
    assert "ForeachFlow/2/gather/0: reused" not in report
    api = "from flowc import Run\nprint(Run('ForeachFlow/2')['end'].task.data.total)\n"
    assert ok(installed.python("-c", api, cwd=project)).stdout.strip() == "5"  # 1 + 4


# ------------------------------------------------------------ environments, packages, publishing


def test_environments_write_build_contexts_from_the_installed_runtime(installed: Installed, project: Path) -> None:
    listed = ok(installed.flowc("environments", "flows/recsys.py", cwd=project)).stdout
    assert "tabulate==0.8.10" in listed and "tabulate==0.9.0" in listed
    ok(installed.flowc("environments", "flows/recsys.py", "--build-context", "contexts", cwd=project))
    contexts = sorted(p for p in (project / "contexts").iterdir() if p.is_dir() and p.name != "default")
    assert len(contexts) == 2
    assert len(list((project / "contexts" / "default").glob("flowc-*.whl"))) == 1  # the default image's
    runtime = {p.name for p in (REPO / "runtime").glob("*.py")}
    for context in contexts:
        assert (context / "Dockerfile").is_file() and "tabulate==" in (context / "requirements.txt").read_text()
        assert {p.name for p in (context / "flowc" / "runtime").glob("*.py")} == runtime


def test_package_then_a_compiled_task_runs_from_it(installed: Installed, project: Path, tmp_path: Path) -> None:
    """The container's view: no flow file at hand, only the code package in
    the datastore and flowc's runtime from the distribution."""
    datastore = project / "datastore"
    packaged = ok(installed.flowc("package", "flows/foreach_flow.py", "--datastore", datastore, cwd=project))
    (url,) = [w for w in packaged.stdout.split() if w.endswith(".tar.gz")]
    assert Path(url).is_file() and Path(url).is_relative_to(datastore)
    ok(installed.flowc("compile", "flows/foreach_flow.py", "--target", "argo", "--datastore", datastore,
                       "-o", "argo.yaml", cwd=project))
    templates = yaml.safe_load((project / "argo.yaml").read_text())["spec"]["templates"]
    container = next(t["container"] for t in templates
                     if "container" in t and t["container"]["args"][t["container"]["args"].index("--step") + 1] == "start")
    assert container["command"][:3] == ["python", "-m", "flowc.runtime"]
    assert url in container["args"]
    values = {"{{workflow.name}}": "argo-1", "{{inputs.parameters.param-count}}": "3",
              "/tmp/flowc/out.json": str(tmp_path / "out.json")}
    args = [re.sub("|".join(map(re.escape, values)), lambda m: values[m.group(0)], a) for a in container["args"]]
    empty = tmp_path / "container"
    empty.mkdir()
    ok(installed.python(*container["command"][1:], *args, cwd=empty))
    assert json.loads((tmp_path / "out.json").read_text())["foreach_count"] == 3
    api = f"from flowc import Run\nprint(Run('ForeachFlow/argo-1', {str(datastore)!r})['start'].task.data.numbers)\n"
    assert ok(installed.python("-c", api, cwd=empty)).stdout.strip() == "[1, 2, 3]"


def test_publish_dry_run_then_publish(installed: Installed, project: Path, tmp_path: Path) -> None:
    ok(installed.flowc("compile", "--target", "airflow", cwd=project))
    dest = tmp_path / "bucket" / "dags"
    dry = ok(installed.flowc("publish", "--target", "airflow", "--to", dest, "--dry-run", cwd=project))
    assert "would write" in dry.stdout and not dest.exists()
    ok(installed.flowc("publish", "--target", "airflow", "--to", dest, cwd=project))
    published = sorted(p.name for p in dest.iterdir())
    assert published == sorted(p.name for p in (project / "dags").iterdir())
    assert "ForeachFlow.py" in published and "flowc-manifest.json" in published


# What a task command must not load: it starts in every container for every
# task, so each of these would cost every task milliseconds (typing, traceback
# and shutil: 2-4 ms each), or pull the compiler in (libcst, jinja2, yaml).
NOT_IN_A_TASK = {"typing", "dataclasses", "traceback", "shutil", "libcst", "jinja2", "yaml",
                 "hera", "fsspec", "flowc.compiler", "flowc.targets"}


def test_a_task_command_loads_only_what_a_task_needs(wheel_install: Installed, tmp_path: Path) -> None:
    work = outside_repo(tmp_path)
    shutil.copy(REPO / "tests" / "flows" / "linear.py", work / "linear.py")
    ok(wheel_install.flowc("ir", "linear.py", "-o", "linear.ir.json", cwd=work))
    ok(wheel_install.flowc("run", "linear.py", "--quiet", "--datastore", "ds", "--run-id", "base", cwd=work))
    shutil.rmtree(work / "ds" / "LinearFlow" / "runs" / "base" / "end")
    result = ok(wheel_install.python("-X", "importtime", "-m", "flowc.runtime", "step", "--flow", "linear.py",
                                     "--ir", "linear.ir.json", "--step", "end", "--index", "0", "--datastore",
                                     "ds", "--run-id", "base", cwd=work))
    loaded = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert {"flowc.runtime.task", "flowc.runtime.datastore", "json", "pickle"} <= loaded, sorted(loaded)
    assert (work / "ds" / "LinearFlow" / "runs" / "base" / "end").is_dir()  # the task ran
    assert not {m for m in loaded if m in NOT_IN_A_TASK or m.split(".")[0] in NOT_IN_A_TASK
                or m.startswith(("flowc.compiler", "flowc.targets"))}, sorted(loaded)
