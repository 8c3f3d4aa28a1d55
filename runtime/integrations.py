"""``metaflow.integrations`` for flows written for Metaflow: ``ArgoEvent``.

``ArgoEvent(name).publish(payload)`` publishes through flowc's events
(runtime/events.py), so it works on every target, not only on Argo.
"""

from __future__ import annotations

from typing import Any, Optional

from .events import EventError, publish


class ArgoEvent:
    """Metaflow's event publisher: ``ArgoEvent(name="data_updated").publish({"table": "x"})``.
    ``url`` and ``access_token`` are accepted; where the event goes is flowc's
    backend (``FLOWC_EVENTS``) on every target."""

    def __init__(self, name: str, url: Optional[str] = None, payload: Optional[dict] = None,
                 access_token: Optional[str] = None):
        self.name = name
        self.url = url
        self._payload = dict(payload or {})

    def add_to_payload(self, key: str, value: Any) -> "ArgoEvent":
        self._payload[key] = str(value)  # Metaflow keeps payload values as text
        return self

    def safe_publish(self, payload: Optional[dict] = None, ignore_errors: bool = True) -> Optional[str]:
        return self.publish(payload, force=True, ignore_errors=ignore_errors)

    def publish(self, payload: Optional[dict] = None, force: bool = True, ignore_errors: bool = True) -> Optional[str]:
        body = {**self._payload, **(payload or {})}
        try:
            return publish(self.name, body)["id"]
        except EventError as exc:
            if not ignore_errors:
                raise
            import sys

            print(f"ArgoEvent: {exc}", file=sys.stderr)
            return None


__all__ = ["ArgoEvent"]
