"""Every page of `flowc ui` over a datastore `flowc run` wrote: what each
shows, and the error page (status and sentence, never a traceback) for
each way a page can fail."""

from __future__ import annotations

import html
import json
import re
import shutil
import time
import pytest

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


def text_of(page: str) -> str:
    """What a person reads: tags dropped, entities decoded, spaces folded."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def assert_error(response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    body = response.text
    assert "Traceback" not in body and 'File "' not in body
    message = text_of(body.split('class="message">', 1)[1].split("</p>", 1)[0])
    for word in words:
        assert word in message, message


def test_index_lists_every_flow_and_run_with_status_and_duration(client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    text = text_of(page.text)
    for run, status in (("ForeachFlow/1", "succeeded"), ("ForeachFlow/2", "running"),
                        ("RetryCatchFlow/1", "succeeded"), ("BrokenFlow/1", "failed")):
        assert re.search(rf"{run} {status} \d{{4}}-\d\d-\d\d [\d:]+ \d+(\.\d)? (ms|s)", text), (run, text)
    # a run is going: the page refreshes itself, by a script of its own (and without scripts)
    assert 'data-poll="/api/runs"' in page.text and '<script src="/static/live.js"' in page.text
    flow = client.get("/flows/ForeachFlow")
    assert flow.status_code == 200 and "ForeachFlow/2" in flow.text and "RetryCatchFlow" not in text_of(flow.text)


def test_a_foreach_run_page_draws_the_dag_timeline_and_tasks(client) -> None:
    page = client.get("/runs/ForeachFlow/1")
    assert page.status_code == 200
    svg = page.text.split("<svg", 1)[1].split("</svg>", 1)[0]
    nodes = dict(re.findall(r'<g class="node (\w+) (\w+)" data-step="(\w+)"', svg) and
                 [(n, (k, s)) for k, s, n in re.findall(r'<g class="node (\w+) (\w+)" data-step="(\w+)"', svg)])
    assert nodes == {"start": ("foreach", "done"), "square": ("linear", "done"), "gather": ("join", "done"),
                     "end": ("end", "done")}
    assert 'stroke-dasharray' in svg and "foreach numbers" in svg  # the fan-out edge
    assert svg.count('data-step="square"') == 1 and svg.split('data-step="square"', 1)[1].count("<rect") >= 3
    bars = re.findall(r'<span class="bar (\w+)" style="left: [\d.]+%; width: [\d.]+%"', page.text)
    assert bars == ["done"] * 6  # start, three squares, gather, end
    for task in ("start/0", "square/0", "square/1", "square/2", "gather/0", "end/0"):
        assert f'href="/runs/ForeachFlow/1/{task}"' in page.text
    assert "data-poll" not in page.text  # finished: no refresh


def test_retried_and_caught_tasks_show_as_such(client) -> None:
    page = client.get("/runs/RetryCatchFlow/1")
    text = text_of(page.text)
    assert "broken/0 caught 2" in text and "caught ValueError: always fails" in text
    assert "flaky/0 done 2" in text
    bars = re.findall(r'<span class="bar (\w+)"[^>]*title="(\w+)/0 attempt (\d)', page.text)
    assert ("failed", "flaky", "0") in bars and ("done", "flaky", "1") in bars
    assert ("failed", "broken", "0") in bars and ("caught", "broken", "1") in bars


def test_a_failed_run_colours_the_failed_step_and_says_why(client) -> None:
    page = client.get("/runs/BrokenFlow/1")
    assert page.status_code == 200
    assert '<g class="node linear failed" data-step="boom">' in page.text
    assert '<g class="node end pending" data-step="end">' in page.text
    text = text_of(page.text)
    assert "BrokenFlow/1 failed" in text and "boom/0 failed 1" in text
    assert "ValueError: bad value &lt;b&gt;42&lt;/b&gt;" in page.text  # the message, escaped
    task = client.get("/runs/BrokenFlow/1/boom/0")
    assert task.status_code == 200 and "No artifacts: the task has not finished." in task.text
    assert "raise ValueError(&#34;bad value &lt;b&gt;42&lt;/b&gt;&#34;)" in task.text  # its traceback


def test_a_running_run_is_live_and_its_state_endpoint_follows_it(client, datastore) -> None:
    page = client.get("/runs/ForeachFlow/2")
    assert page.status_code == 200
    assert 'data-poll="/api/runs/ForeachFlow/2"' in page.text
    assert '<g class="node linear running" data-step="square">' in page.text  # 2 of 3 items done
    assert '<g class="node join pending" data-step="gather">' in page.text
    assert "square (running)" in text_of(page.text)  # an open bar: its third task is not stored yet
    state = client.get("/api/runs/ForeachFlow/2").json()
    assert state["finished"] is False and state["steps"]["square"] == "running"
    assert state["stamp"] == re.search(r'data-stamp="(\w+)"', page.text).group(1)
    # the run goes on: the stamp changes, so the page reloads
    from flowc.runtime.datastore import FlowDatastore

    ds = FlowDatastore(str(datastore), "ForeachFlow")
    meta = ds.read_done("1", "square", "2")
    meta.update(run_id="2", started_at=time.time() - 1, finished_at=time.time())
    ds.write_done("2", "square", "2", meta)
    try:
        later = client.get("/api/runs/ForeachFlow/2").json()
        assert later["stamp"] != state["stamp"] and later["steps"]["square"] == "done"
        assert later["steps"]["gather"] == "running"  # reached, nothing stored yet
        page = client.get("/runs/ForeachFlow/2")
        assert "gather (running)" in text_of(page.text)  # an open bar from when it could start
    finally:
        (datastore / "ForeachFlow" / "runs" / "2" / "square" / "2" / "done.json").unlink()
        shutil.rmtree(datastore / "ForeachFlow" / "runs" / "2" / "square" / "2")


def test_a_task_page_shows_artifacts_logs_of_every_attempt_and_cards(client) -> None:
    page = client.get("/runs/RetryCatchFlow/1/broken/0")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "partial True" in text and "error Traceback" in text  # artifacts, repr'd
    assert "attempt 1 caught ValueError: always fails" in text and "attempt 0 failed ValueError: always fails" in text
    assert page.text.count('<details class="log') == 2
    frame = re.search(r"<iframe ([^>]*)>", page.text).group(1)
    assert 'sandbox="allow-scripts"' in frame and "allow-same-origin" not in frame
    src = re.search(r'src="([^"]+)"', frame).group(1)
    assert src == "/runs/RetryCatchFlow/1/broken/0/cards/1/default-_"
    card = client.get(src)
    assert card.status_code == 200 and "Model card" in card.text
    assert card.headers["content-security-policy"].startswith("sandbox allow-scripts;")
    assert "allow-same-origin" not in card.headers["content-security-policy"]
    flaky = client.get("/runs/RetryCatchFlow/1/flaky/0")
    assert "transient failure" in flaky.text and "No cards." in flaky.text


def test_an_artifact_page_and_one_that_cannot_be_unpickled(client) -> None:
    page = client.get("/runs/ForeachFlow/1/gather/0/artifacts/squares")
    assert page.status_code == 200 and "[1, 4, 9]" in page.text
    assert 'Run("ForeachFlow/1")["gather"]["0"].data.squares' in text_of(page.text)
    task = client.get("/runs/ForeachFlow/1/end/0")
    assert task.status_code == 200  # the other artifacts still show
    assert "cannot load: ModuleNotFoundError: No module named &#39;no_such_module_for_flowc_ui&#39;" in task.text
    assert "total" in text_of(task.text) and "14" in text_of(task.text)
    broken = client.get("/runs/ForeachFlow/1/end/0/artifacts/mystery")
    assert_error(broken, 500, "artifact 'mystery' of ForeachFlow/1/end/0 cannot be loaded here",
                 "No module named 'no_such_module_for_flowc_ui'", "not importable by flowc ui")


def test_user_controlled_text_is_escaped_everywhere(client) -> None:
    task = client.get("/runs/BrokenFlow/1/start/0")
    assert "<script>alert" not in task.text and "<img src=x" not in task.text
    assert "&lt;script&gt;alert(&#39;log&#39;)&lt;/script&gt;" in task.text  # the log line
    assert "&#39;&lt;img src=x onerror=alert(1)&gt;&#39;" in task.text  # the artifact's repr
    weird = client.get("/runs/%3Cscript%3E/1")
    assert_error(weird, 404, "no flow '<script>'")
    assert "<script>" not in weird.text.split("<main>", 1)[1]


@pytest.mark.parametrize("url, words", [
    ("/runs/NoSuchFlow/1", ["no flow 'NoSuchFlow'", "flows: BrokenFlow, ForeachFlow, RetryCatchFlow"]),
    ("/runs/ForeachFlow/99", ["flow ForeachFlow has no run '99'"]),
    ("/runs/ForeachFlow/1/nostep/0", ["run ForeachFlow/1 has no step 'nostep'"]),
    ("/runs/ForeachFlow/1/square/7", ["step ForeachFlow/1/square has no task '7'"]),
    ("/runs/ForeachFlow/1/end/0/artifacts/nothing", ["has no artifact 'nothing'", "total"]),
    ("/runs/ForeachFlow/1/end/0/cards/0/default-_", ["has no card 'default-_'"]),
    ("/flows/NoSuchFlow", ["no flow 'NoSuchFlow'"]),
    ("/no/such/page", ["there is no page at /no/such/page"]),
])
def test_unknown_names_are_404_pages(client, url: str, words: list[str]) -> None:
    assert_error(client.get(url), 404, *words)


def test_the_ui_changes_nothing_and_answers_only_to_its_own_host(client) -> None:
    assert_error(client.post("/runs/ForeachFlow/1"), 405, "only shows")
    assert client.get("/", headers={"host": "attacker.example"}).status_code == 400
    page = client.get("/runs/ForeachFlow/1")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"


def test_a_datastore_removed_while_serving_gives_503_pages(copy_of) -> None:
    from starlette.testclient import TestClient

    from flowc.ui.app import create_app

    ds = copy_of()
    with TestClient(create_app(str(ds)), base_url="http://127.0.0.1") as c:
        assert c.get("/runs/ForeachFlow/1").status_code == 200
        shutil.rmtree(ds)
        for url in ("/", "/flows/ForeachFlow", "/runs/ForeachFlow/1", "/runs/ForeachFlow/1/end/0",
                    "/api/runs/ForeachFlow/1"):
            assert_error(c.get(url), 503, f"the datastore {ds} is not there any more")


def test_a_run_without_a_stored_ir_is_drawn_from_where_its_tasks_went(copy_of) -> None:
    from starlette.testclient import TestClient

    from flowc.ui.app import create_app

    ds = copy_of()
    (ds / "RetryCatchFlow" / "runs" / "1" / "ir.json").unlink()  # as an orchestrator's run has none
    with TestClient(create_app(str(ds)), base_url="http://127.0.0.1") as c:
        page = c.get("/runs/RetryCatchFlow/1")
    assert page.status_code == 200 and "the picture shows the steps its tasks went through" in page.text
    steps = re.findall(r'<g class="node (\w+) done" data-step="(\w+)"', page.text)
    assert sorted(steps) == sorted([("linear", "start"), ("linear", "flaky"), ("linear", "broken"),
                                    ("linear", "slow"), ("join", "join"), ("end", "end")])


def test_flowc_run_stores_the_ir_with_the_run(datastore) -> None:
    ir = json.loads((datastore / "RetryCatchFlow" / "runs" / "1" / "ir.json").read_text())
    assert ir["name"] == "RetryCatchFlow" and [s["name"] for s in ir["steps"]][0] == "start"
