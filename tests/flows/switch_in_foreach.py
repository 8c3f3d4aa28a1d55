from flowc import FlowSpec, step


class SwitchInForeachFlow(FlowSpec):
    """Each item of a foreach takes its own case of a switch."""

    @step
    def start(self):
        self.sizes = [3, 40, 500, 7]
        self.next(self.classify, foreach="sizes")

    @step
    def classify(self):
        self.size = self.input
        self.kind = "big" if self.size > 100 else "mid" if self.size > 10 else "small"
        self.next({"big": self.big, "mid": self.mid, "small": self.small}, condition="kind")

    @step
    def big(self):
        self.scaled = self.size // 100
        self.next(self.tag)

    @step
    def mid(self):
        self.scaled = self.size // 10
        self.next(self.tag)

    @step
    def small(self):
        self.scaled = self.size
        self.next(self.tag)

    @step
    def tag(self):
        self.label = f"{self.kind}:{self.scaled}"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.labels = [i.label for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        self.count = len(self.labels)
