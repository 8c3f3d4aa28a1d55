"""Every flow of the corpus runs end to end in Airflow 3 (dag.test(), every
step placed on the worker) and its artifacts equal `flowc run`'s."""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from flowc.compiler import ir
from flowc.runtime.identity import safe_run_id
from tests.conftest import ALL_FLOWS, load_ir
from tests.support.artifacts import flowc_run, run_artifacts
from tests.targets.airflow.conftest import OWN_FLOWS, compile_flow
from tests.targets.airflow.test_airflow_compile import fid

pytestmark = pytest.mark.engine

# flows Airflow cannot run: a recursive switch (refused at compile time)
NOT_RUN = {"flows/recursive_switch"}
FLOWS = [p for p in ALL_FLOWS + OWN_FLOWS if fid(p) not in NOT_RUN]
# parameters a run must be given
CONF = {"flows/required_params": {"dataset": "iris"}}


def deploy(dags, flows, datastore, **options):
    """Each flow's DAG, flow file and IR in the dags folder (one folder each),
    every step placed on the worker."""
    for path in flows:
        deploy_flow(dags / fid(path).replace("/", "_"), path, unsupported="warn", force_placement="local",
                    environments="bootstrap", datastore=str(datastore), **options)


def deploy_flow(folder, path, unsupported="error", **options):
    """A flow's DAG file, the flow file (and its modules, included files) and its IR in one
    folder of the dags folder, as the worker sees them."""
    flow = load_ir(path)
    folder.mkdir()
    text, _ = compile_flow(path, unsupported=unsupported, **options)
    (folder / f"{flow.name}.py").write_text(text, encoding="utf-8")
    (folder / f"{flow.name}.ir.json").write_text(ir.dump(flow), encoding="utf-8")
    shutil.copy(path, folder / path.name)
    from flowc.packaging import package_extras

    for module in package_extras(flow):  # its modules and the files its IncludeFiles read
        target = folder / module
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path.parent / module, target)


@pytest.fixture(scope="session")
def engine(airflow3, tmp_path_factory):
    """One datastore for the Airflow runs and the local ones."""
    datastore = tmp_path_factory.mktemp("datastore")
    deploy(airflow3.dags, FLOWS, datastore)
    return datastore


_LOCAL: dict[str, dict] = {}


def local_artifacts(path, datastore):
    """The artifacts of `flowc run` of the flow, once per session."""
    if fid(path) not in _LOCAL:
        local_id = f"local-{fid(path).replace('/', '-')}"
        flowc_run(path, datastore, local_id, params=CONF.get(fid(path)))
        _LOCAL[fid(path)] = run_artifacts(str(datastore), load_ir(path).name, local_id)
    return _LOCAL[fid(path)]


_RUNS: dict[str, dict] = {}


def run_in_airflow(airflow3, path):
    """dag.test() of the flow's DAG, once per session: the tests below read the same run."""
    from flowc.targets.airflow import dag_id_of

    flow = load_ir(path)
    if fid(path) not in _RUNS:
        answer = airflow3.probe.ask(op="test", dag_id=dag_id_of(flow), conf=CONF.get(fid(path), {}))
        assert answer.get("state") == "success", (json.dumps(answer.get("states"), indent=1),
                                                  airflow3.probe.log_tail())
        _RUNS[fid(path)] = answer
    return flow, _RUNS[fid(path)]


@pytest.mark.parametrize("path", FLOWS, ids=fid)
def test_artifacts_equal_flowc_run(path, engine, airflow3):
    flow, answer = run_in_airflow(airflow3, path)
    in_airflow = run_artifacts(str(engine), flow.name, safe_run_id(answer["run_id"]))
    assert in_airflow == local_artifacts(path, engine)
    assert set(in_airflow) >= {flow.start, flow.end}
    # no task failed, and the only skipped tasks are cases a switch did not take
    for task_id, states in answer["states"].items():
        assert set(states.values()) <= {"success", "skipped"}, (task_id, states)


def test_skipped_cases_are_the_ones_not_taken(engine, airflow3):
    path = next(p for p in FLOWS if fid(p) == "flows/switch")
    _, answer = run_in_airflow(airflow3, path)
    states = {task: set(s.values()) for task, s in answer["states"].items()}
    assert states["medium"] == {"success"} and states["big"] == {"skipped"} and states["small"] == {"skipped"}
    assert states["merge"] == {"success"}


def test_each_item_takes_its_own_case_inside_a_mapped_group(engine, airflow3):
    path = next(p for p in FLOWS if fid(p) == "airflow/switch_in_foreach")
    _, answer = run_in_airflow(airflow3, path)
    s = answer["states"]
    # sizes [3, 40, 500, 7]: small, mid, big, small
    assert s["foreach_start.small"] == {"0": "success", "1": "skipped", "2": "skipped", "3": "success"}
    assert s["foreach_start.mid"] == {"0": "skipped", "1": "success", "2": "skipped", "3": "skipped"}
    assert s["foreach_start.big"] == {"0": "skipped", "1": "skipped", "2": "success", "3": "skipped"}
    assert set(s["foreach_start.tag"].values()) == {"success"}


def test_nested_foreach_is_mapped_over_flattened_index_paths(engine, airflow3):
    path = next(p for p in FLOWS if fid(p) == "flows/nested_foreach")
    _, answer = run_in_airflow(airflow3, path)
    assert len(answer["states"]["foreach_row.cell"]) == 6  # 3 rows x 2 columns, one level of mapping
    assert len(answer["states"]["row_join_each.row_join"]) == 3  # the join is mapped over the level it closes


def test_large_items_never_ride_in_xcom(engine, airflow3):
    path = next(p for p in FLOWS if fid(p) == "airflow/wide_foreach")
    flow, answer = run_in_airflow(airflow3, path)
    assert len(answer["states"]["foreach_start.measure"]) == 16
    # 16 items of 64 KiB each; XCom holds an OUT.json and 16 short index paths
    assert max(answer["xcom_sizes"].values()) < 1024, answer["xcom_sizes"]
    assert sum(answer["xcom_sizes"].values()) < 4096


def test_each_step_runs_with_its_own_pins_on_the_worker(engine, airflow3):
    """--environments bootstrap: the task builds its step's environment on the worker."""
    from flowc.runtime.client import Run

    path = next(p for p in FLOWS if fid(p) == "examples/recsys")
    flow, answer = run_in_airflow(airflow3, path)
    run = Run(f"{flow.name}/{safe_run_id(answer['run_id'])}", str(engine))
    assert "tabulate 0.8.10" in run["fit_a"].task.stdout
    assert "tabulate 0.9.0" in run["fit_b"].task.stdout


# the Airflow 2 DAG runs too: the constructs that differ most between the two lines
AIRFLOW2_FLOWS = [p for p in FLOWS if fid(p) in {
    "airflow/switch_in_foreach", "airflow/switch_nested", "flows/nested_foreach", "flows/foreach_body",
    "flows/branch_switch", "flows/retry_catch", "flows/hostile", "flows/required_params"}]


@pytest.fixture(scope="session")
def engine2(airflow2_db, engine):
    """The Airflow 2.10 DAGs, whose worker-placed steps run flowc from this environment."""
    deploy(airflow2_db.dags, AIRFLOW2_FLOWS, engine, airflow_version=2, local_python=sys.executable)
    return engine


@pytest.mark.parametrize("path", AIRFLOW2_FLOWS, ids=fid)
def test_airflow_2_dag_runs_and_its_artifacts_equal_flowc_run(path, engine2, airflow2_db):
    from flowc.targets.airflow import dag_id_of

    flow = load_ir(path)
    answer = airflow2_db.probe.ask(op="test", dag_id=dag_id_of(flow), conf=CONF.get(fid(path), {}))
    assert answer.get("state") == "success", (json.dumps(answer.get("states"), indent=1),
                                              airflow2_db.probe.log_tail())
    in_airflow = run_artifacts(str(engine2), flow.name, safe_run_id(answer["run_id"]))
    assert in_airflow == local_artifacts(path, engine2)


def test_a_run_without_its_required_parameter_is_refused(engine, airflow3):
    from flowc.targets.airflow import dag_id_of

    path = next(p for p in FLOWS if fid(p) == "flows/required_params")
    with pytest.raises(AssertionError) as err:
        airflow3.probe.ask(op="test", dag_id=dag_id_of(load_ir(path)), conf={})
    assert "dataset" in str(err.value) and "ParamValidationError" in str(err.value)


def test_the_dag_the_command_line_writes_runs_from_the_code_package(engine, airflow3):
    """`flowc compile` + `flowc package`, and nothing but the DAG file in the dags folder."""
    import subprocess

    from tests.conftest import REPO

    path = next(p for p in FLOWS if fid(p) == "flows/foreach_body")
    folder = airflow3.dags / "cli_foreach_body"
    folder.mkdir()
    flowc = [sys.executable, "-m", "flowc"]
    subprocess.run(flowc + ["compile", str(path.relative_to(REPO)), "--target", "airflow", "--placement", "local",
                            "--datastore", str(engine), "--dag-id", "cli.ForeachBodyFlow",
                            "-o", str(folder / "dag.py")], cwd=REPO, check=True, capture_output=True)
    subprocess.run(flowc + ["package", str(path.relative_to(REPO)), "--datastore", str(engine)], cwd=REPO,
                   check=True, capture_output=True)
    assert [p.name for p in folder.iterdir()] == ["dag.py"] and '"--package"' in (folder / "dag.py").read_text()
    answer = airflow3.probe.ask(op="test", dag_id="cli.ForeachBodyFlow", conf={})
    assert answer.get("state") == "success", airflow3.probe.log_tail()
    flow = load_ir(path)
    assert run_artifacts(str(engine), flow.name, safe_run_id(answer["run_id"])) == local_artifacts(path, engine)


def test_cards_written_in_airflow_are_read_with_flowc_card(engine, airflow3):
    from tests.support.cards import flowc_card, run_cards

    path = next(p for p in FLOWS if fid(p) == "flows/cards")
    flow, answer = run_in_airflow(airflow3, path)
    local_artifacts(path, engine)  # the same flow run by `flowc run`, into the same datastore
    run = safe_run_id(answer["run_id"])
    in_airflow = run_cards(str(engine), flow.name, run)
    assert in_airflow == run_cards(str(engine), flow.name, "local-flows-cards") and len(in_airflow) == 9
    listed = flowc_card("list", f"{flow.name}/{run}/square", "--datastore", str(engine))
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 1 + 6, listed.stderr
    got = flowc_card("view", f"{flow.name}/{run}/start", "--datastore", str(engine))
    assert got.returncode == 0
    with open(got.stdout.strip(), encoding="utf-8") as f:
        assert "<h1>Items</h1>" in f.read()
