from metaflow import FlowSpec, current, step, trigger_on_finish


@trigger_on_finish(flow="Ingest")
class Train(FlowSpec):
    """Trains on what the Ingest run that just finished loaded."""

    @step
    def start(self):
        t = current.trigger
        self.upstream = t.run.pathspec
        self.upstream_rows = t.run["start"].task.data.rows
        self.kind = t.event.type
        self.event_name = t.event.name
        self.next(self.end)

    @step
    def end(self):
        self.seen_in_end = current.trigger.run.pathspec
