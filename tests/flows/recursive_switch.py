from flowc import FlowSpec, Parameter, step


class RecursiveSwitchFlow(FlowSpec):
    """A switch that loops back onto its own step until a condition holds."""

    target = Parameter("target", default=3, help="iterations to run")

    @step
    def start(self):
        self.count = 0
        self.history = []
        self.next(self.loop)

    @step
    def loop(self):
        self.count += 1
        self.history = self.history + [self.count]
        self.status = "again" if self.count < self.target else "done"
        self.next({"again": self.loop, "done": self.finish}, condition="status")

    @step
    def finish(self):
        self.final = self.count
        self.next(self.end)

    @step
    def end(self):
        self.report = (self.final, self.history)
