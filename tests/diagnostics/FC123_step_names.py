from flowc import FlowSpec, step


class Names(FlowSpec):
    @step
    def start(self):
        self.next(self.Train)

    @step
    def Train(self):  # expect: FC123@9
        self.next(self.input)

    @step
    def input(self):  # expect: FC123@9
        self.next(self.end)

    @step
    def end(self):
        pass
