from flowc import FlowSpec, step
from mylib import SharedSteps


class MixedFlow(SharedSteps, FlowSpec):  # expect: FC005@17
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        print(self.from_mixin)
