from flowc import FlowSpec, step


class Reserved(FlowSpec):
    @step
    def start(self):
        self.index = 3  # expect: FC207@9
        self.next(self.end)

    @step
    def end(self):
        pass
