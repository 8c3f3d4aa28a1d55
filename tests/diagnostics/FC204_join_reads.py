from flowc import FlowSpec, step


class JoinReads(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.score = 1
        self.next(self.join)

    @step
    def b(self):
        self.score = 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.best = self.score  # expect: FC204@21
        self.next(self.end)

    @step
    def end(self):
        pass
