from flowc import FlowSpec, Parameter, step


class RequiredParamsFlow(FlowSpec):
    """A required parameter, and one without a default."""

    dataset = Parameter("dataset", required=True, help="which dataset to use")
    limit = Parameter("limit", type=int, help="optional: no default")

    @step
    def start(self):
        self.chosen = self.dataset
        self.limited = self.limit is not None
        self.next(self.end)

    @step
    def end(self):
        self.summary = f"{self.chosen}:{self.limited}"
