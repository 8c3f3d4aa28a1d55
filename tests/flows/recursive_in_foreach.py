from flowc import FlowSpec, step


class RecursiveInForeachFlow(FlowSpec):
    """A recursive switch inside a foreach: each item loops a different number of times."""

    @step
    def start(self):
        self.goals = [1, 3, 2]
        self.next(self.setup, foreach="goals")

    @step
    def setup(self):
        self.goal = self.input
        self.steps = []
        self.next(self.climb)

    @step
    def climb(self):
        self.steps = self.steps + [len(self.steps) + 1]
        self.state = "more" if len(self.steps) < self.goal else "enough"
        self.next({"more": self.climb, "enough": self.report}, condition="state")

    @step
    def report(self):
        self.summary = (self.goal, self.steps)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.summaries = [i.summary for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        self.total = sum(len(s[1]) for s in self.summaries)
