from flowc import FlowSpec, step


class ForeachName(FlowSpec):
    @step
    def start(self):
        self.items = [1]
        self.next(self.body, foreach=self.items)  # expect: FC125@38

    @step
    def body(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
