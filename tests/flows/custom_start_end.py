from flowc import FlowSpec, step


class CustomStartEndFlow(FlowSpec):
    """Entry and exit steps named by annotation instead of start/end."""

    @step(start=True)
    def begin(self):
        self.trail = ["begin"]
        self.next(self.middle)

    @step
    def middle(self):
        self.trail = self.trail + ["middle"]
        self.next(self.finish)

    @step(end=True)
    def finish(self):
        self.trail = self.trail + ["finish"]
