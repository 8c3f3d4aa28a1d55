from flowc import FlowSpec, step


class EmptyForeach(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.join, foreach="items")  # expect: FC118@19

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
