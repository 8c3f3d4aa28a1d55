"""Reads guarded against a missing artifact (hasattr, getattr with a default,
try/except AttributeError), class attributes as the foreach and switch
values, and a step that renames itself: Metaflow runs all of it, so flowc
checks it with warnings at most and runs it the same way."""

from flowc import FlowSpec, Parameter, step


class BasesGuardedReadsFlow(FlowSpec):
    """Guarded reads and class attributes."""

    modes = ["small", "large"]
    route = "fast"
    threshold = Parameter("threshold", default=3, help="a read-only parameter")

    @step
    def start(self):
        self.name = "renamed"  # Metaflow keeps it for this step only
        try:
            self.threshold = 10  # parameters are read-only: AttributeError
        except AttributeError:
            self.threshold_locked = True
        self.next({"fast": self.fast, "slow": self.slow}, condition="route")

    @step
    def fast(self):
        self.cached = getattr(self, "cache", None)
        if hasattr(self, "cache"):
            self.cached = self.cache
        self.next(self.fan)

    @step
    def slow(self):
        self.cached = "slow"
        self.next(self.fan)

    @step
    def fan(self):
        try:
            self.previous = self.history
        except AttributeError:
            self.previous = []
        self.next(self.size, foreach="modes")

    @step
    def size(self):
        self.mode = self.input
        self.score = len(self.input)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.scores = sorted(i.score for i in inputs)
        self.merge_artifacts(inputs, exclude=["mode", "score"])
        try:
            self.last_mode = self.mode
        except AttributeError:
            self.last_mode = None
        self.next(self.end)

    @step
    def end(self):
        self.summary = [self.previous, self.scores, self.threshold_locked, self.last_mode, self.name, self.cached]
