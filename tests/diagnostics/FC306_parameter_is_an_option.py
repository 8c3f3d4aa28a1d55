from flowc import FlowSpec, Parameter, step


class OptionNames(FlowSpec):
    store = Parameter("datastore", default="x")  # expect: FC306@13
    workers = Parameter("max_workers", default=2)  # expect: FC306@15
    n = Parameter("n", default=1000)

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
