from flowc import FlowSpec, retry, step


class UnknownArg(FlowSpec):
    @retry(tims=3)  # expect: FC402@12
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
