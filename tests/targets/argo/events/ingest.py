from flowc import FlowSpec, current, step


class Ingest(FlowSpec):
    """The upstream of the chain: publishes an event from a step, and its end event when it succeeds."""

    @step
    def start(self):
        from flowc import events

        self.rows = 42
        self.published = events.publish("ingest.ready", {"rows": self.rows, "region": "us-east", "note": "{{x}}"})
        self.next(self.end)

    @step
    def end(self):
        self.run_pathspec = f"{current.flow_name}/{current.run_id}"
