"""Why the test session's Prefect server is 3.8.8's (tests/support/engines.py):
create and delete automations in a loop against a new server, and say whether
its /health stops answering (PrefectHQ/prefect issue 23055: 3.7.x's server on
SQLite deadlocks its event loop when an automation changes while the
triggers service holds the automations lock).

    .venv/bin/python -m tests.targets.prefect.automation_churn .venv/bin/python 90
    .venv/bin/python -m tests.targets.prefect.automation_churn .venv-prefect38/bin/python 90

Not a test: it measures Prefect, and the deadlock needs luck to show.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.support.engines import PrefectServer


def call(api: str, method: str, path: str, body: object = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(api + path, method=method, data=data,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=20) as answer:
        return json.loads(answer.read() or b"null")


def churn(python: str, seconds: float) -> int:
    os.environ.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    server = PrefectServer(os.path.abspath(python), Path(tempfile.mkdtemp(prefix="flowc-prefect-churn-")))
    try:
        server.wait_ready(timeout=120)
        version = call(server.api_url, "GET", "/admin/version")
        automation = {"trigger": {"type": "event", "expect": ["flowc.churn"], "posture": "Reactive",
                                  "threshold": 1, "within": 0}, "actions": [{"type": "do-nothing"}]}
        began, changes, refused = time.monotonic(), 0, 0
        while time.monotonic() - began < seconds:
            try:
                made = call(server.api_url, "POST", "/automations/", {"name": f"churn-{changes}", **automation})
                call(server.api_url, "DELETE", f"/automations/{made['id']}")
                changes += 1
            except OSError:  # 503 while SQLite is busy is Prefect's answer under load, not a hang
                refused += 1
                problem = server.problem(timeout=20)
                if problem is not None:
                    print(f"Prefect {version}: after {changes} changes in {time.monotonic() - began:.0f} s, "
                          f"the server {problem}")
                    return 1
        print(f"Prefect {version}: {changes} changes in {seconds:.0f} s ({refused} refused), /health answered")
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(churn(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 90.0))
