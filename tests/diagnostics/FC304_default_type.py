from flowc import FlowSpec, JSONType, Parameter, step


class DefaultType(FlowSpec):
    count = Parameter("count", type=int, default="three")  # expect: FC304@50
    config = Parameter("config", type=JSONType, default="{not json")  # expect: FC304@57

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
