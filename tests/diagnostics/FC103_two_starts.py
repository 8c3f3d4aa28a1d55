from flowc import FlowSpec, step


class TwoStarts(FlowSpec):
    @step(start=True)
    def one(self):
        self.next(self.end)

    @step(start=True)
    def two(self):  # expect: FC103@9
        self.next(self.end)

    @step
    def end(self):
        pass
