"""The Starlette application: routes, templates, static files, headers.

Read-only (GET only), and careful about who may talk to it: requests must
name a host it serves (a web page elsewhere cannot reach it through a DNS
name that points at this machine), and every page forbids scripts and
frames from anywhere but here.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import fmt, views
from .reads import Datastore

HERE = Path(__file__).parent
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
LOOPBACK = ["127.0.0.1", "localhost", "::1", "[::1]"]


def templates() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(fmt.FILTERS)
    env.globals.update(fmt.GLOBALS)
    return env


class Headers:
    """Security headers on every response that does not set its own policy."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = {b"content-security-policy": PAGE_CSP.encode(), b"x-content-type-options": b"nosniff",
                         b"referrer-policy": b"no-referrer", b"cache-control": b"no-store"}
                headers += [(k, v) for k, v in extra.items() if k not in names]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(datastore: str, host: str = "127.0.0.1") -> Starlette:
    """The UI of one datastore (a folder or an fsspec URL)."""
    routes = [
        Route("/", views.index),
        Route("/flows/{flow}", views.flow),
        Route("/runs/{flow}/{run}", views.run),
        Route("/runs/{flow}/{run}/{step}/{task}", views.task),
        Route("/runs/{flow}/{run}/{step}/{task}/artifacts/{name}", views.artifact),
        Route("/runs/{flow}/{run}/{step}/{task}/cards/{attempt:int}/{stem}", views.card),
        Route("/api/runs", views.runs_state),
        Route("/api/runs/{flow}/{run}", views.run_state),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    hosts = ["*"] if host in ("0.0.0.0", "::", "") else sorted({host, f"[{host}]", *LOOPBACK})
    app = Starlette(routes=routes, middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts),
                                               Middleware(Headers)],
                    exception_handlers={HTTPException: views.http_error})
    app.state.store = Datastore(datastore)
    app.state.templates = templates()
    return app
