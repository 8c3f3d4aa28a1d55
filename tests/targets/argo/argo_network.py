"""The cluster's network as the harness's pods see it (test code).

A step's pod reaches other things in the cluster by their Service names
(``http://argo-events-webhook-eventsource-svc:12000/...``). Here no such
name resolves, and nothing may leave the machine, so every pod the harness
runs is given this HTTP proxy (``http_proxy``, which the runtime's urllib
honours): a request to a Service the test registered is answered by it and
recorded; any other host is refused at once (502), as a name that does not
resolve in the cluster fails. Nothing is looked up in DNS and nothing is
sent anywhere but to this process, on the loopback address.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import urlsplit


@dataclass
class Request:
    host: str  # the Service's name
    port: int
    method: str
    path: str
    headers: dict[str, list[str]]
    body: bytes
    status: int = 0


# A Service: given a request, the (status, body) it answers.
Service = Callable[[Request], tuple[int, bytes]]


@dataclass
class ClusterNetwork:
    services: dict[tuple[str, int], Service] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def add(self, host: str, port: int, service: Service) -> None:
        self.services[(host, port)] = service

    @property
    def proxy_url(self) -> str:
        assert self._server is not None, "the network is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def pod_env(self) -> dict[str, str]:
        return {"http_proxy": self.proxy_url, "HTTP_PROXY": self.proxy_url, "no_proxy": "", "NO_PROXY": ""}

    def __enter__(self) -> "ClusterNetwork":
        network = self

        class Handler(BaseHTTPRequestHandler):
            def do_any(self) -> None:
                url = urlsplit(self.path)  # a proxy is sent the absolute URL
                length = int(self.headers.get("Content-Length") or 0)
                headers: dict[str, list[str]] = {}
                for key, value in self.headers.items():
                    headers.setdefault(key, []).append(value)
                req = Request(url.hostname or "", url.port or 80, self.command, url.path or "/", headers,
                              self.rfile.read(length) if length else b"")
                service = network.services.get((req.host, req.port))
                status, body = service(req) if service else (502, f"no Service {req.host}:{req.port}".encode())
                req.status = status
                with network._lock:
                    network.requests.append(req)
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_any

            def log_message(self, *args) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
