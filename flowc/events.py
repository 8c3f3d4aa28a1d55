"""Publish events from a step: ``flowc.events.publish("data_updated", {"table": "x"})``.

A flow with ``@trigger(event="data_updated")`` starts when it arrives, on
whichever orchestrator the flows run (docs/events.md). Flows written for
Metaflow may use ``from metaflow.integrations import ArgoEvent`` instead.
"""

from flowc.runtime.events import EventError, publish

__all__ = ["publish", "EventError"]
