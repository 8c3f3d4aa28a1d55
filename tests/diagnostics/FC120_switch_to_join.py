from flowc import FlowSpec, step


class SwitchIntoJoin(FlowSpec):
    @step
    def start(self):
        self.mode = "x"
        self.next(self.left, self.right)

    @step
    def left(self):
        self.next({"x": self.join, "y": self.detour}, condition="mode")  # expect: FC120@25

    @step
    def detour(self):
        self.next(self.join)

    @step
    def right(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
