from flowc import FlowSpec, batch, conda, kubernetes, pypi, step


class Conflicts(FlowSpec):
    @pypi(packages={"pandas": "2.2.2"})
    @conda(packages={"pandas": "2.2.2"})  # expect: FC408@6
    @kubernetes(cpu=1)
    @batch(cpu=1)  # expect: FC408@6
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
