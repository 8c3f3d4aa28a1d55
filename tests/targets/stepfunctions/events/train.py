from flowc import FlowSpec, current, step, trigger_on_finish


@trigger_on_finish(flow="Ingest")
class Train(FlowSpec):
    """Starts when a run of Ingest succeeds, and reads that run."""

    @step
    def start(self):
        run = current.trigger.run
        self.upstream = run.pathspec
        self.upstream_rows = run.data.rows
        self.event_name = current.trigger.event.name
        self.next(self.end)

    @step
    def end(self):
        pass
