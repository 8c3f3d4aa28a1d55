from flowc import FlowSpec, step


class LoneJoin(FlowSpec):
    @step
    def start(self):
        self.next(self.join)

    @step
    def join(self, inputs):  # expect: FC114@9
        self.next(self.end)

    @step
    def end(self):
        pass
