from flowc import FlowSpec, step


class SwitchInForeachFlow(FlowSpec):
    """Each item of a foreach takes its own case; the cases meet before the join."""

    @step
    def start(self):
        self.numbers = [1, 2, 3, 4, 5]
        self.next(self.classify, foreach="numbers")

    @step
    def classify(self):
        self.n = self.input
        self.parity = "even" if self.n % 2 == 0 else "odd"
        self.next({"even": self.halve, "odd": self.triple}, condition="parity")

    @step
    def halve(self):
        self.value = self.n // 2
        self.next(self.tag)

    @step
    def triple(self):
        self.value = self.n * 3 + 1
        self.next(self.tag)

    @step
    def tag(self):
        self.label = f"{self.n}->{self.value}"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.labels = [i.label for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        self.count = len(self.labels)
