from metaflow import FlowSpec, Parameter, current, retry, step


class MetaflowImportFlow(FlowSpec):
    """Written for Metaflow; runs under flowc unchanged."""

    name_param = Parameter("who", default="world")

    @retry(times=1)
    @step
    def start(self):
        self.greeting = f"hello {self.name_param}"
        self.flow_seen = current.flow_name
        self.next(self.end)

    @step
    def end(self):
        self.shout = self.greeting.upper()
