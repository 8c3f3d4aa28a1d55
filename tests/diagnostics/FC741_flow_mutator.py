from metaflow import FlowMutator, FlowSpec, step


class AddParameters(FlowMutator):
    def mutate(self, mutable_flow):
        mutable_flow.add_parameter("extra", None)


@AddParameters  # expect: FC741@2
class WithFlowMutator(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
