from flowc import FlowSpec, Parameter, current, step, trigger


@trigger(event={"name": "ingest.ready",
                "parameters": {"rows": "rows", "region": "region", "label": "label", "note": "note"}})
class Report(FlowSpec):
    """Starts on an event a step of Ingest published; payload fields become parameters."""

    rows = Parameter("rows", default=0, type=int)
    region = Parameter("region", default="eu")
    label = Parameter("label", default="no label")  # not in the payload: keeps its default
    note = Parameter("note", default="")

    @step
    def start(self):
        event = current.trigger.event
        self.seen = {"rows": self.rows, "region": self.region, "label": self.label, "note": self.note}
        self.event_name = event.name
        self.payload = event.payload
        self.no_upstream_run = current.trigger.run is None
        self.next(self.end)

    @step
    def end(self):
        pass
