"""A foreach: one task per item, then a join that gathers them."""

from flowc import FlowSpec, Parameter, step


class ForeachFlow(FlowSpec):
    """Square each number in parallel and sum the squares."""

    count = Parameter("count", default=5, help="how many numbers")

    @step
    def start(self):
        self.numbers = list(range(1, self.count + 1))
        self.next(self.square, foreach="numbers")

    @step
    def square(self):
        self.value = self.input * self.input
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.squares = [i.value for i in inputs]
        self.total = sum(self.squares)
        self.next(self.end)

    @step
    def end(self):
        print("sum of squares:", self.total)


if __name__ == "__main__":
    ForeachFlow()
