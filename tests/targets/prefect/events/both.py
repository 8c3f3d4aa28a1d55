from flowc import FlowSpec, Parameter, current, step, trigger


@trigger(events=[{"name": "report_done", "parameters": {"table": "table"}},
                 {"name": "approved", "parameters": {"approver": "by", "level": "level"}}])
class Both(FlowSpec):
    """Starts once a report is done AND it was approved."""

    table = Parameter("table", default="")
    approver = Parameter("approver", default="nobody")
    level = Parameter("level", default=1)

    @step
    def start(self):
        self.names = sorted(e.name for e in current.trigger.events)
        self.got = (self.table, self.approver, self.level)
        self.next(self.end)

    @step
    def end(self):
        pass
