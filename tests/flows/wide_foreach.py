from flowc import FlowSpec, Parameter, step


class WideForeachFlow(FlowSpec):
    """A foreach as wide as a parameter says (1,000 items by default)."""

    width = Parameter("width", default=1000, help="how many items")

    @step
    def start(self):
        self.items = list(range(self.width))
        self.next(self.square, foreach="items")

    @step
    def square(self):
        self.value = self.input * self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.value for i in inputs)
        self.count = len(inputs)
        self.next(self.end)

    @step
    def end(self):
        self.ok = self.count == self.width
