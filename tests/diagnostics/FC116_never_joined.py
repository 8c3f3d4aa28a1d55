from flowc import FlowSpec, step


class NeverJoined(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.body, foreach="items")  # expect: FC116@9

    @step
    def body(self):
        self.next(self.end)

    @step
    def end(self):
        pass
