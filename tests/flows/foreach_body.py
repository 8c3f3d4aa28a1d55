from flowc import FlowSpec, step


class ForeachBodyFlow(FlowSpec):
    """A foreach whose body is three steps long."""

    @step
    def start(self):
        self.seeds = [3, 5, 7]
        self.next(self.prepare, foreach="seeds")

    @step
    def prepare(self):
        self.seed = self.input
        self.data = list(range(self.seed))
        self.next(self.train)

    @step
    def train(self):
        self.model = sum(self.data) * self.seed
        self.next(self.evaluate)

    @step
    def evaluate(self):
        self.score = self.model % 11
        self.seen_input = self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.scores = {i.seed: i.score for i in inputs}
        self.inputs_seen = [i.seen_input for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        self.best = max(self.scores, key=self.scores.get)
