from flowc import FlowSpec, retry, step


class RetryTwice(FlowSpec):
    @retry(times=1)
    @retry(times=2)  # expect: FC405@6
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
