import time

from flowc import FlowSpec, Parameter, step


class SlowStepFlow(FlowSpec):
    """One step that takes a while: longer than the heartbeat interval."""

    seconds = Parameter("seconds", default=4.0, help="how long the slow step sleeps")

    @step
    def start(self):
        time.sleep(self.seconds)
        self.slept = self.seconds
        self.next(self.end)

    @step
    def end(self):
        self.done = True
