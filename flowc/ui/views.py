"""The pages: each reads what it shows (flowc.ui.reads) and renders one template.

Every failure becomes an error page with its status and a sentence, never
a traceback: an unknown name is a 404, a datastore that cannot be read a
503, anything else a 500 that says it is a bug.
"""

from __future__ import annotations

import functools
import logging
import sys
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from . import reads
from .dag import draw
from .fmt import path
from .reads import UIError
from .timeline import timeline

log = logging.getLogger("flowc.ui")
CARD_CSP = ("sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; "
            "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; frame-ancestors 'self'")


def render(request: Request, template: str, code: int = 200, /, **context) -> HTMLResponse:
    context = {"live": False, "poll": "", "stamp": "", **context}
    text = request.app.state.templates.get_template(template).render(store=request.app.state.store, **context)
    return HTMLResponse(text, status_code=code)


def error_page(request: Request, status: int, message: str) -> Response:
    titles = {404: "Not found", 405: "Not allowed", 500: "Cannot show this", 503: "Datastore unavailable"}
    try:
        return render(request, "error.html", status, title=titles.get(status, "Error"), status=status, message=message)
    except Exception:  # the error page itself must not fail: plain text, still no traceback
        return PlainTextResponse(f"{status} {titles.get(status, 'Error')}: {message}\n", status_code=status)


def page(handler):
    """Run a (blocking) handler in a thread; turn whatever goes wrong into an error page."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        try:
            return await run_in_threadpool(handler, request, **request.path_params)
        except UIError as exc:
            return error_page(request, exc.status, exc.message)
        except (OSError, reads.DatastoreError) as exc:
            return error_page(request, 503, f"cannot read the datastore {request.app.state.store.where}: "
                                            f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # a bug in flowc ui: a sentence for the page, the traceback for the terminal
            log.exception("flowc ui: internal error on %s", request.url.path)
            return error_page(request, 500, f"internal error in flowc ui ({type(exc).__name__}: {exc}); "
                                            "this is a bug in flowc: please report it")

    return endpoint


async def http_error(request: Request, exc) -> Response:
    message = {404: f"there is no page at {request.url.path}", 405: "this UI only shows; it changes nothing"}
    return error_page(request, exc.status_code, message.get(exc.status_code, str(exc.detail)))


@page
def index(request: Request) -> Response:
    store = request.app.state.store
    flows = _flows(store)
    live = any(r.status == "running" for _, rows, _ in flows for r in rows)
    return render(request, "index.html", flows=flows, live=live, poll=path("api", "runs"), stamp=_runs_stamp(flows))


@page
def flow(request: Request, flow: str) -> Response:
    store = request.app.state.store
    if flow not in store.flows():
        raise store.not_found(f"no flow {flow!r} in {store.where}")
    rows, total = reads.run_rows(store, flow)
    live = any(r.status == "running" for r in rows)
    return render(request, "flow.html", flow=flow, rows=rows, live=live, poll=path("api", "runs") + "?flow=" + quote(flow, safe=""),
                  stamp=_runs_stamp([(flow, rows, total)]))


def _flows(store, only: str | None = None):
    """(flow, its newest runs, how many it has) for every flow, or for one (all its runs)."""
    if only is not None:
        return [(only, *reads.run_rows(store, only))] if only in store.flows() else []
    return [(name, *reads.run_rows(store, name, reads.RUNS_ON_INDEX)) for name in store.flows()]


def _runs_stamp(flows) -> str:
    import hashlib

    text = "|".join(f"{r.flow}/{r.id}:{r.status}" for _, rows, _ in flows for r in rows)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@page
def runs_state(request: Request) -> Response:
    flows = _flows(request.app.state.store, request.query_params.get("flow"))
    live = any(r.status == "running" for _, rows, _ in flows for r in rows)
    return JSONResponse({"stamp": _runs_stamp(flows), "finished": not live})


@page
def run(request: Request, flow: str, run: str) -> Response:
    store = request.app.state.store
    data = reads.run_page(store, flow, run)
    svg = draw(data.ir, data.states, link=lambda step: f"#step-{step}")
    return render(request, "run.html", run=data, svg=svg, timeline=timeline(data),
                  live=data.status == "running", poll=path("api", "runs", data.flow, data.id), stamp=data.stamp)


@page
def run_state(request: Request, flow: str, run: str) -> Response:
    data = reads.run_page(request.app.state.store, flow, run)
    return JSONResponse({"status": data.status, "finished": data.status != "running", "stamp": data.stamp,
                         "steps": data.states})


@page
def task(request: Request, flow: str, run: str, step: str, task: str) -> Response:
    data = reads.task_page(request.app.state.store, flow, run, step, task)
    return render(request, "task.html", run=data.run, t=data, live=data.run.status == "running",
                  poll=path("api", "runs", data.run.flow, data.run.id), stamp=data.run.stamp)


@page
def artifact(request: Request, flow: str, run: str, step: str, task: str, name: str) -> Response:
    data, text = reads.artifact_value(request.app.state.store, flow, run, step, task, name)
    return render(request, "artifact.html", run=data.run, t=data, name=name, text=text)


@page
def card(request: Request, flow: str, run: str, step: str, task: str, attempt: int, stem: str) -> Response:
    html = reads.card_html(request.app.state.store, flow, run, step, task, attempt, stem)
    return HTMLResponse(html, headers={"content-security-policy": CARD_CSP})


def log_to_stderr() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
