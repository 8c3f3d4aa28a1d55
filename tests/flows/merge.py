from flowc import FlowSpec, step


class MergeFlow(FlowSpec):
    """merge_artifacts with include=, and a conflict resolved before merging."""

    @step
    def start(self):
        self.shared = "same everywhere"
        self.counter = 0
        self.next(self.left, self.right)

    @step
    def left(self):
        self.counter = 1
        self.left_only = "L"
        self.next(self.join)

    @step
    def right(self):
        self.counter = 2
        self.right_only = "R"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.counter = max(i.counter for i in inputs)
        self.merge_artifacts(inputs)
        self.next(self.pick)

    @step
    def pick(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.x = 1
        self.next(self.join2)

    @step
    def b(self):
        self.x = 2
        self.next(self.join2)

    @step
    def join2(self, inputs):
        self.merge_artifacts(inputs, include=["counter", "left_only", "right_only", "shared"])
        self.xs = sorted(i.x for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        self.result = (self.shared, self.counter, self.left_only, self.right_only, self.xs)
