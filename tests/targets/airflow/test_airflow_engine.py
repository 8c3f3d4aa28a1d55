"""Airflow 3 runs of corpus flows (dag.test(), every step placed on the
worker), beyond the artifacts the conformance matrix compares
(tests/targets/test_matrix.py runs every flow on Airflow 3 and 2 and
compares its artifacts with `flowc run`'s): which tasks ran or were skipped,
what XCom holds, pins, refused runs, the command line's DAG, cards. The runs
are the matrix's engine's, one per flow and session."""

from __future__ import annotations

import sys

import pytest

from flowc.runtime.identity import safe_run_id
from tests.conftest import ALL_FLOWS, load_ir
from tests.support import engines
from tests.support.artifacts import flowc_run, run_artifacts
from tests.support.corpus import compiling
from tests.targets.airflow.test_airflow_compile import fid

pytestmark = pytest.mark.engine

FLOWS = ALL_FLOWS
CONF = engines.RUN_PARAMS


@pytest.fixture(scope="session")
def engine(airflow3):
    """The datastore of the Airflow 3 engine's runs, every flow Airflow compiles deployed in its dags folder."""
    datastore = engines.datastore_of("airflow3")
    engines.engine("airflow3").deploy(compiling("airflow"), datastore)
    return datastore


_LOCAL: dict[str, dict] = {}


def local_artifacts(path, datastore):
    """The artifacts of `flowc run` of the flow, once per session."""
    if fid(path) not in _LOCAL:
        local_id = f"local-{fid(path).replace('/', '-')}"
        flowc_run(path, datastore, local_id, params=engines.as_text(CONF.get(fid(path), {})))
        _LOCAL[fid(path)] = run_artifacts(str(datastore), load_ir(path).name, local_id)
    return _LOCAL[fid(path)]


def run_in_airflow(airflow3, path):
    """The Airflow 3 engine's run of the flow (once per session): the probe's answer."""
    airflow = engines.engine("airflow3")
    _, ok = airflow.run_once(path, engines.datastore_of("airflow3"))
    answer = airflow.results[fid(path)]
    assert ok, (answer.get("states"), airflow3.probe.log_tail())
    return load_ir(path), answer


def test_skipped_cases_are_the_ones_not_taken(engine, airflow3):
    path = next(p for p in FLOWS if fid(p) == "flows/switch")
    _, answer = run_in_airflow(airflow3, path)
    states = {task: set(s.values()) for task, s in answer["states"].items()}
    assert states["medium"] == {"success"} and states["big"] == {"skipped"} and states["small"] == {"skipped"}
    assert states["merge"] == {"success"}


def test_each_item_takes_its_own_case_inside_a_mapped_group(engine, airflow3):
    path = next(p for p in FLOWS if fid(p) == "flows/switch_in_foreach")
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
    path = next(p for p in FLOWS if fid(p) == "flows/large_items")
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
