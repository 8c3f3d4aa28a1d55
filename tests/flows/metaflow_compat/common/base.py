"""A flow skeleton that project flows derive from: start, process and end.

Subclasses override `process` (or mix in steps) and inherit the rest,
Parameters included.
"""

from flowc import FlowSpec, Parameter, step

from .helpers import describe

DEFAULT_LABEL = "run"


class BaseFlow(FlowSpec):
    """Start, a default process step, and end."""

    alpha = Parameter("alpha", default=2, help="multiplier applied by process")
    label = Parameter("label", default=DEFAULT_LABEL, help="prefix of the summary")

    @step
    def start(self):
        self.seed = 7
        self.next(self.process)

    @step
    def process(self):
        self.result = self.seed * self.alpha
        self.next(self.end)

    @step
    def end(self):
        self.summary = describe(self.label, self.result)
