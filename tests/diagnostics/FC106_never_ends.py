from flowc import FlowSpec, step


class NeverEnds(FlowSpec):
    @step
    def start(self):
        self.mode = "x"
        self.next({"x": self.end, "y": self.trap}, condition="mode")

    @step
    def trap(self):  # expect: FC106@9
        self.mode = "p"
        self.next({"p": self.trap, "q": self.trap}, condition="mode")

    @step
    def end(self):
        pass
