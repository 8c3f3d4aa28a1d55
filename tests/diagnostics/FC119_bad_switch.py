from flowc import FlowSpec, step


class BadSwitch(FlowSpec):
    @step
    def start(self):
        self.mode = "a"
        self.next({"a": self.end}, condition="mode")  # expect: FC119@9

    @step
    def end(self):
        pass
