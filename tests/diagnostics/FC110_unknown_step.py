from flowc import FlowSpec, step


class Typo(FlowSpec):
    @step
    def start(self):
        self.next(self.trian)  # expect: FC110@19

    @step
    def train(self):
        self.next(self.end)

    @step
    def end(self):
        pass
