from flowc import FlowSpec, Parameter, step, trigger_on_finish


@trigger_on_finish(flow="Ingest")
class AfterIngest(FlowSpec):
    size = Parameter("size", type=int, required=True)  # expect: FC307@12
    tag = Parameter("tag", default="v1")

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
