from flowc import FlowSpec, step


class FailingFlow(FlowSpec):
    """A step that always fails, with no @catch: the execution must fail."""

    @step
    def start(self):
        self.before = 1
        self.next(self.boom)

    @step
    def boom(self):
        raise RuntimeError("boom on purpose")
        self.next(self.end)

    @step
    def end(self):
        self.after = 2
