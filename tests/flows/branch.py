from flowc import FlowSpec, step


class BranchFlow(FlowSpec):
    """A three-way static branch joined by name and by merge_artifacts."""

    @step
    def start(self):
        self.base = 10
        self.next(self.a, self.b, self.c)

    @step
    def a(self):
        self.part = self.base + 1
        self.only_a = "a"
        self.next(self.join)

    @step
    def b(self):
        self.part = self.base + 2
        self.next(self.join)

    @step
    def c(self):
        self.part = self.base + 3
        self.next(self.join)

    @step
    def join(self, inputs):
        self.parts = sorted(i.part for i in inputs)
        self.from_a = inputs.a.part
        self.merge_artifacts(inputs, exclude=["part"])
        self.next(self.end)

    @step
    def end(self):
        self.total = sum(self.parts) + self.base
        self.tag = self.only_a
