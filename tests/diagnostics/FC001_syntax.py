from flowc import FlowSpec, step


class Broken(FlowSpec):
    @step
    def start(self)  # expect: FC001@22
        self.next(self.end)
