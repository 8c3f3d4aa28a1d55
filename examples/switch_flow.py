"""A switch: the flow takes one of two paths, chosen at run time."""

from flowc import FlowSpec, Parameter, step


class SwitchFlow(FlowSpec):
    """Route a dataset to a full or an incremental retrain by its size."""

    rows = Parameter("rows", default=1200, help="rows in today's data")

    @step
    def start(self):
        self.mode = "full" if self.rows > 1000 else "incremental"
        self.next({"full": self.full_retrain, "incremental": self.incremental}, condition="mode")

    @step
    def full_retrain(self):
        self.epochs = 10
        self.next(self.publish)

    @step
    def incremental(self):
        self.epochs = 1
        self.next(self.publish)

    @step
    def publish(self):
        self.summary = f"{self.mode} retrain, {self.epochs} epochs"
        self.next(self.end)

    @step
    def end(self):
        print(self.summary)


if __name__ == "__main__":
    SwitchFlow()
