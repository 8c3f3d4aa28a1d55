from flowc import FlowSpec, step


class Signatures(FlowSpec):
    @step
    def start():  # expect: FC122@9
        self.next(self.middle)

    @step
    def middle(self, inputs, extra):  # expect: FC122@30
        self.next(self.end)

    @step
    def end(self):
        pass
