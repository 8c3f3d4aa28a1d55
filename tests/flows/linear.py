from flowc import FlowSpec, step


class LinearFlow(FlowSpec):
    """start -> a -> b -> end, each step adding to what came before."""

    @step
    def start(self):
        self.x = 1
        self.log = ["start"]
        self.next(self.a)

    @step
    def a(self):
        self.x += 1
        self.log = self.log + ["a"]
        self.next(self.b)

    @step
    def b(self):
        self.y = self.x * 10
        self.log = self.log + ["b"]
        self.next(self.end)

    @step
    def end(self):
        self.result = (self.x, self.y, self.log)
