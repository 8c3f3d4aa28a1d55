from flowc import FlowSpec, step


class BranchSwitchFlow(FlowSpec):
    """A switch inside one branch of a static split: the join waits for
    whichever case ran on that branch, and for the other branch."""

    @step
    def start(self):
        self.mode = "slow"
        self.next(self.left, self.right)

    @step
    def left(self):
        self.next({"fast": self.fast, "slow": self.slow}, condition="mode")

    @step
    def fast(self):
        self.how = "fast"
        self.next(self.join)

    @step
    def slow(self):
        self.how = "slow"
        self.next(self.join)

    @step
    def right(self):
        self.how = "right"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.hows = sorted(i.how for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        self.result = self.hows
