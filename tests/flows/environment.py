import os

from flowc import FlowSpec, environment, step


class EnvironmentFlow(FlowSpec):
    """@environment sets variables before the step's code runs."""

    @environment(vars={"MODE": "fast", "THREADS": 4})
    @step
    def start(self):
        self.mode = os.environ.get("MODE")
        self.threads = os.environ.get("THREADS")
        self.next(self.end)

    @step
    def end(self):
        self.mode_in_end = os.environ.get("MODE")
