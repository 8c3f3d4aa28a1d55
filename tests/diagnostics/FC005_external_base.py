from flowc import FlowSpec, step
from mylib import SharedSteps


class MixedFlow(SharedSteps, FlowSpec):  # expect: FC005@7
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        print(self.from_mixin)
