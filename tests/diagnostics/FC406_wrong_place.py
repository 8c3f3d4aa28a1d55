from flowc import FlowSpec, retry, schedule, step


@retry(times=2)  # expect: FC406@2
class WrongPlace(FlowSpec):
    @schedule(daily=True)  # expect: FC406@6
    @step
    def start(self):
        self.next(self.end)

    @step
    @retry(times=1)  # expect: FC406@6
    def end(self):
        pass
