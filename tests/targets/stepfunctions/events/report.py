from flowc import FlowSpec, Parameter, current, step, trigger


@trigger(event={"name": "data_ready", "parameters": {"rows": "rows", "label": "label", "region": "region"}})
class Report(FlowSpec):
    """Starts on data_ready; its parameters come from the payload (region: a field it lacks)."""

    rows = Parameter("rows", default=0)
    label = Parameter("label", default="none")
    region = Parameter("region", default="eu")

    @step
    def start(self):
        self.event_name = current.trigger.event.name
        self.payload = current.trigger.event.payload
        self.next(self.end)

    @step
    def end(self):
        pass
