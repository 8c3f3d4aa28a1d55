from flowc import FlowSpec, Parameter, step


class AssignParam(FlowSpec):
    alpha = Parameter("alpha", default=0.5)

    @step
    def start(self):
        self.alpha = 0.9  # expect: FC206@9
        self.next(self.end)

    @step
    def end(self):
        pass
