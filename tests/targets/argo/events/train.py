from flowc import FlowSpec, current, step, trigger_on_finish


@trigger_on_finish(flow="Ingest")
class Train(FlowSpec):
    """Starts when a run of Ingest finishes, and reads that run."""

    @step
    def start(self):
        trigger = current.trigger
        self.event_name = trigger.event.name
        self.event_type = trigger.event.type
        self.upstream = trigger.run.pathspec
        self.upstream_rows = trigger.run.data.rows
        self.by_flow = trigger["Ingest"].pathspec
        self.next(self.end)

    @step
    def end(self):
        self.upstream_again = current.trigger.run.pathspec
