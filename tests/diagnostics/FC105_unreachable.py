from flowc import FlowSpec, step


class Orphan(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def lonely(self):  # expect: FC105@9
        self.next(self.end)

    @step
    def end(self):
        pass
