from flowc import FlowSpec, step


class InputsName(FlowSpec):
    @step
    def start(self):
        self.next(self.fit_a, self.fit_b)

    @step
    def fit_a(self):
        self.model = "a"
        self.next(self.join)

    @step
    def fit_b(self):
        self.model = "b"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.models = [inputs.fit_a.model, inputs.fitb.model]  # expect: FC128@44
        self.next(self.end)

    @step
    def end(self):
        pass
