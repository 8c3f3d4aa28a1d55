from flowc import FlowSpec, step


class Twice(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.a)  # expect: FC112@9

    @step
    def a(self):
        self.next(self.end)

    @step
    def end(self):
        pass
