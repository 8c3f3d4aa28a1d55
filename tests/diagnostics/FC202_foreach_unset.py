from flowc import FlowSpec, step


class ForeachUnset(FlowSpec):
    @step
    def start(self):
        self.next(self.body, foreach="items")  # expect: FC202@9

    @step
    def body(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
