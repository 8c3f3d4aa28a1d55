from flowc import FlowSpec, step


class Ambiguous(FlowSpec):
    @step(start=True)
    def begin(self):
        self.next(self.end)

    @step
    def start(self):  # expect: FC104@9
        self.next(self.end)

    @step
    def end(self):
        pass
