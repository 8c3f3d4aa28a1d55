from metaflow import FlowSpec, Parameter, current, step, trigger
from metaflow.integrations import ArgoEvent


@trigger(event={"name": "data_ready", "parameters": {"table_name": "table", "rows": "rows", "note": "missing"}})
class Report(FlowSpec):
    """Reports on a table when its data is ready."""

    table_name = Parameter("table_name", default="none")
    rows = Parameter("rows", default=0)
    note = Parameter("note", default="no note")

    @step
    def start(self):
        self.got = (self.table_name, self.rows, self.note)
        self.event = (current.trigger.event.name, current.trigger.event.payload)
        ArgoEvent(name="report_done").add_to_payload("table", self.table_name).publish()
        self.next(self.end)

    @step
    def end(self):
        pass
