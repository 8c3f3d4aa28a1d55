from flowc import FlowSpec, Parameter, step, trigger


@trigger(event={"name": "table.ready", "parameters": {"table": "name"}})
class Unfilled(FlowSpec):
    table = Parameter("table", required=True)  # filled by the event: no warning
    day = Parameter("day", required=True)  # expect: FC307@11
    limit = Parameter("limit", default=10, required=True)  # a default to fall back on: no warning

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
