from flowc import FlowSpec, step


class Twice(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def start(self):  # expect: FC127@9
        self.next(self.end)

    @step
    def end(self):
        pass
