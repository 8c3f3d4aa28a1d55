from flowc import FlowSpec, step


class MissingNext(FlowSpec):
    @step
    def start(self):  # expect: FC107@9
        self.x = 1

    @step
    def end(self):
        pass
