from metaflow import FlowSpec, IncludeFile, step


class WithInclude(FlowSpec):
    data = IncludeFile("data", default="data.csv")  # expect: FC006@12

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
