from flowc import FlowSpec, step


class Ingest(FlowSpec):
    """Publishes data_ready from a step; its successful end starts Train (@trigger_on_finish)."""

    @step
    def start(self):
        from flowc.events import publish

        self.rows = 42
        publish("data_ready", {"rows": self.rows, "label": 'said "hi" \\ <b>', "extra": [1, 2]})
        self.next(self.end)

    @step
    def end(self):
        pass
