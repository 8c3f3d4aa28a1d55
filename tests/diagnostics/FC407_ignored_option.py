from flowc import FlowSpec, kubernetes, step


class IgnoredOption(FlowSpec):
    @kubernetes(port=8080)  # expect: FC407@17
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
