from flowc import FlowSpec, step
import flowc.events


class Ingest(FlowSpec):
    """Loads a table; tells whoever listens that the data is ready."""

    @step
    def start(self):
        self.rows = 42
        flowc.events.publish("data_ready", {"table": "sales", "rows": 42})
        self.next(self.end)

    @step
    def end(self):
        pass
