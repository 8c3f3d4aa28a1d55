from flowc import FlowSpec, Parameter, step


class Duplicate(FlowSpec):
    first = Parameter("alpha", default=1)
    second = Parameter("alpha", default=2)  # expect: FC305@14

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
