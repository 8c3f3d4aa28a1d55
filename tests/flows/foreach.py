from flowc import FlowSpec, step


class ForeachFixtureFlow(FlowSpec):
    """A foreach over a list of strings, joined in order."""

    @step
    def start(self):
        self.words = ["alpha", "beta", "gamma", "delta"]
        self.next(self.upper, foreach="words")

    @step
    def upper(self):
        self.word = self.input.upper()
        self.position = self.index
        self.next(self.join)

    @step
    def join(self, inputs):
        self.words_upper = [i.word for i in inputs]
        self.positions = [i.position for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        self.joined = "-".join(self.words_upper)
