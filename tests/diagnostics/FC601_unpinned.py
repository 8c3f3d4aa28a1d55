from flowc import FlowSpec, pypi, pypi_base, step


@pypi_base(packages={"pandas": ">=2.0"})  # expect: FC601@2
class Unpinned(FlowSpec):
    @pypi(packages={"numpy": "latest", "not a name!": "1.0"})  # expect: FC601@6, FC601@6
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
