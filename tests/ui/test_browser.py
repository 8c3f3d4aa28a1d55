"""`flowc ui` in a real headless Chromium (Debian's, driven by Playwright):
the runs page, a run with a foreach, one with a retried and a caught step,
a task's artifacts and its card; screenshots go to test-artifacts/ui/.
Nothing is fetched from anywhere but the UI itself."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.ui.test_serve import start_ui, stop

CHROMIUM = "/usr/bin/chromium"
SHOTS = REPO / "test-artifacts" / "ui"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")


@pytest.fixture
def browser_page():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a test requirement")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            yield page
        finally:
            browser.close()


def test_browse_runs_a_run_a_task_its_artifact_and_its_card(browser_page, datastore: Path, tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    shutil.copytree(datastore, ds)
    SHOTS.mkdir(parents=True, exist_ok=True)
    proc, url = start_ui(ds)
    page = browser_page
    elsewhere: list[str] = []
    page.on("request", lambda r: None if r.url.startswith((url, "data:", "about:")) else elsewhere.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(url + "/")
        assert page.locator("h1").inner_text() == "Flows and runs"
        assert page.locator("tr", has_text="BrokenFlow/1").locator(".badge").inner_text() == "failed"
        page.screenshot(path=SHOTS / "01-runs.png", full_page=True)

        page.click("text=ForeachFlow/1")
        page.wait_for_url(url + "/runs/ForeachFlow/1")
        assert page.locator('svg.dag g.node[data-step="square"]').count() == 1
        assert page.locator(".timeline .bar.done").count() == 6
        page.screenshot(path=SHOTS / "02-foreach-run.png", full_page=True)

        page.goto(url + "/runs/RetryCatchFlow/1")
        assert page.locator(".timeline .bar.caught").count() == 1 and page.locator(".timeline .bar.failed").count() == 2
        page.screenshot(path=SHOTS / "03-retry-catch-run.png", full_page=True)
        page.click("table.tasks >> text=broken/0")
        page.wait_for_url(url + "/runs/RetryCatchFlow/1/broken/0")
        assert page.locator("#artifact-partial pre.value").inner_text() == "True"
        assert "ValueError: always fails" in page.locator("details.log").first.inner_text()
        card = page.frame_locator("figure.card iframe")
        assert card.locator("#card-title").inner_text() == "Model card"
        assert card.locator("#card-script").inner_text() == "script ran in the sandbox"
        page.screenshot(path=SHOTS / "04-task-with-card.png", full_page=True)

        page.click("#artifact-error a")
        page.wait_for_url(url + "/runs/RetryCatchFlow/1/broken/0/artifacts/error")
        assert "ValueError" in page.locator("pre.value").inner_text()

        response = page.goto(url + "/runs/ForeachFlow/1/end/0/artifacts/mystery")
        assert response.status == 500
        assert "cannot be loaded here" in page.locator(".message").inner_text()
        page.screenshot(path=SHOTS / "05-unreadable-artifact.png", full_page=True)

        page.goto(url + "/runs/ForeachFlow/2")  # still going: the page polls its state
        assert page.locator("header .live").inner_text() == "live"
        with page.expect_response(lambda r: r.url == url + "/api/runs/ForeachFlow/2", timeout=10_000) as polled:
            pass
        assert polled.value.json()["finished"] is False
        page.screenshot(path=SHOTS / "06-running-run.png", full_page=True)
    finally:
        stop(proc)
    assert not elsewhere, elsewhere
    assert not errors, errors
