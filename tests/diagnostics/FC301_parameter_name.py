from flowc import FlowSpec, Parameter, step


class BadParams(FlowSpec):
    unnamed = Parameter(default=1)  # expect: FC301@15
    spaced = Parameter("has space", default=1)  # expect: FC301@24

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
