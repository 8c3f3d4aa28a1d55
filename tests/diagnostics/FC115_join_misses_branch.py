from flowc import FlowSpec, step


class MissingBranch(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.join)

    @step
    def b(self):
        self.next(self.other)

    @step
    def join(self, inputs):  # expect: FC115@9
        self.next(self.end)

    @step
    def other(self, inputs):  # expect: FC115@9
        self.next(self.end)

    @step
    def end(self):
        pass
