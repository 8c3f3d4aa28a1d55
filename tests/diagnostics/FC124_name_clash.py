from flowc import FlowSpec, Parameter, step


class Clash(FlowSpec):
    rate = Parameter("train", default=1)  # expect: FC124@12

    @step
    def start(self):
        self.next(self.train)

    @step
    def train(self):
        self.end = 5  # expect: FC124@9
        self.next(self.end)

    @step
    def end(self):
        pass
