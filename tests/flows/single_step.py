from flowc import FlowSpec, step


class SingleStepFlow(FlowSpec):
    """A flow of one step, which is both its start and its end."""

    @step
    def only(self):
        self.answer = 42
