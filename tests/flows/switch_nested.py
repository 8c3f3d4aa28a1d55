from flowc import FlowSpec, step


class SwitchNestedFlow(FlowSpec):
    """A switch in a foreach level that also holds a nested foreach."""

    @step
    def start(self):
        self.rows = [1, 2, 3]
        self.next(self.row, foreach="rows")

    @step
    def row(self):
        self.r = self.input
        self.kind = "odd" if self.r % 2 else "even"
        self.next({"odd": self.odd, "even": self.even}, condition="kind")

    @step
    def odd(self):
        self.tag = "o"
        self.next(self.expand)

    @step
    def even(self):
        self.tag = "e"
        self.next(self.expand)

    @step
    def expand(self):
        self.cols = list(range(self.r))
        self.next(self.cell, foreach="cols")

    @step
    def cell(self):
        self.value = f"{self.tag}{self.r}.{self.input}"
        self.next(self.cell_join)

    @step
    def cell_join(self, inputs):
        self.values = [i.value for i in inputs]
        self.next(self.row_join)

    @step
    def row_join(self, inputs):
        self.grid = [i.values for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        self.count = sum(len(v) for v in self.grid)
