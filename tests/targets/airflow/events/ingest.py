from flowc import FlowSpec, step
from metaflow.integrations import ArgoEvent


class Ingest(FlowSpec):
    """Publishes two events from its steps; its successful end starts Train (@trigger_on_finish)."""

    @step
    def start(self):
        from flowc.events import publish

        self.rows = 42
        publish("data_ready", {"rows": self.rows, "label": 'said "hi" \\ {{ ds }} <b>', "extra": [1, 2]})
        self.next(self.check)

    @step
    def check(self):
        ArgoEvent(name="quality.checked").publish({"score": 0.75})
        self.next(self.end)

    @step
    def end(self):
        pass
