from metaflow import FlowSpec, StepMutator, step


class AddRetries(StepMutator):
    def mutate(self, mutable_step):
        mutable_step.add_decorator("retry", deco_kwargs={"times": 3})


class WithStepMutator(FlowSpec):
    @AddRetries  # expect: FC740@6
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
