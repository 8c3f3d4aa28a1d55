from flowc import FlowSpec, Parameter, current, step, trigger


@trigger(events=[{"name": "data_ready", "parameters": {"rows": "rows", "label": "label", "region": "region"}},
                 "quality.checked"])
class Report(FlowSpec):
    """Starts once both data_ready and quality.checked arrived; its parameters come from
    data_ready's payload (region: a field it lacks, so the default stands)."""

    rows = Parameter("rows", default=0)
    label = Parameter("label", default="none")
    region = Parameter("region", default="eu")

    @step
    def start(self):
        self.names = sorted(e.name for e in current.trigger.events)
        self.payloads = {e.name: e.payload for e in current.trigger.events}
        self.next(self.end)

    @step
    def end(self):
        pass
