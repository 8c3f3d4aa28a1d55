"""Steps and Parameters that flows mix in next to their base flow."""

from flowc import Parameter, step

from .helpers import scale


class FeatureMixin:
    """A `features` step that builds a list from the flow's alpha."""

    n_features = Parameter("n_features", default=3, help="how many features to build")

    @step
    def features(self):
        self.features_list = [scale(i, self.alpha) for i in range(self.n_features)]
        self.next(self.end)


class FanOutMixin:
    """A foreach over `width` items, joined with merge_artifacts."""

    width = Parameter("width", default=3, help="how many items to fan out over")

    @step
    def fan_out(self):
        self.items = list(range(self.width))
        self.next(self.square, foreach="items")

    @step
    def square(self):
        self.squared = self.input * self.input
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.total = sum(i.squared for i in inputs)
        self.merge_artifacts(inputs, exclude=["squared"])
        self.next(self.end)

    def log(self, message):
        """A helper method, not a step."""
        return f"[{self.label}] {message}"
