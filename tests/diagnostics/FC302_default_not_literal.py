import os

from flowc import FlowSpec, Parameter, step


class DynamicDefault(FlowSpec):
    home = Parameter("home", default=os.environ.get("HOME"))  # expect: FC302@38
    later = Parameter("later", default=lambda ctx: 1)  # expect: FC302@40

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
