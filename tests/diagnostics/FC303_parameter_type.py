from flowc import FlowSpec, Parameter, step


class BadType(FlowSpec):
    when = Parameter("when", type=complex, default=None)  # expect: FC303@35

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
