from flowc import FlowSpec, step


class SwitchBranchInForeachFlow(FlowSpec):
    """A switch and a branch inside a foreach body; both cases end the body."""

    @step
    def start(self):
        self.items = [1, 2, 3, 4]
        self.next(self.classify, foreach="items")

    @step
    def classify(self):
        self.n = self.input
        self.kind = "even" if self.n % 2 == 0 else "odd"
        self.next({"even": self.even, "odd": self.odd}, condition="kind")

    @step
    def even(self):
        self.label = f"{self.n} is even"
        self.next(self.fork)

    @step
    def odd(self):
        self.label = f"{self.n} is odd"
        self.next(self.fork)

    @step
    def fork(self):
        self.next(self.left, self.right)

    @step
    def left(self):
        self.side = "L"
        self.next(self.meet)

    @step
    def right(self):
        self.side = "R"
        self.next(self.meet)

    @step
    def meet(self, inputs):
        self.label = inputs.left.label
        self.n = inputs.left.n
        self.sides = sorted(i.side for i in inputs)
        self.next(self.decide)

    @step
    def decide(self):
        self.final = "big" if self.n > 2 else "small"
        self.next({"big": self.big, "small": self.small}, condition="final")

    @step
    def big(self):
        self.out = self.label.upper()
        self.next(self.join)

    @step
    def small(self):
        self.out = self.label
        self.next(self.join)

    @step
    def join(self, inputs):
        self.outs = [i.out for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass
