from flowc import FlowSpec, step


class NextInEnd(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        self.next(self.start)  # expect: FC109@9
