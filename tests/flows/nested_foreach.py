from flowc import FlowSpec, step


class NestedForeachFlow(FlowSpec):
    """A foreach inside a foreach; the inner body reads both levels."""

    @step
    def start(self):
        self.rows = [1, 2, 3]
        self.next(self.row, foreach="rows")

    @step
    def row(self):
        self.r = self.input
        self.cols = ["x", "y"]
        self.next(self.cell, foreach="cols")

    @step
    def cell(self):
        self.label = f"{self.r}{self.input}"
        self.stack = [(i, n) for i, n, _ in self.foreach_stack()]
        self.next(self.row_join)

    @step
    def row_join(self, inputs):
        self.labels = [i.label for i in inputs]
        self.r = inputs[0].r
        self.next(self.all_join)

    @step
    def all_join(self, inputs):
        self.grid = [i.labels for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        self.count = sum(len(row) for row in self.grid)
