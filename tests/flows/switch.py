from flowc import FlowSpec, Parameter, step


class SwitchFixtureFlow(FlowSpec):
    """A three-way switch whose cases meet again."""

    size = Parameter("size", default=50, help="decides the route")

    @step
    def start(self):
        if self.size > 100:
            self.route = "big"
        elif self.size > 10:
            self.route = "medium"
        else:
            self.route = "small"
        self.next({"big": self.big, "medium": self.medium, "small": self.small}, condition="route")

    @step
    def big(self):
        self.factor = 100
        self.next(self.merge)

    @step
    def medium(self):
        self.factor = 10
        self.next(self.merge)

    @step
    def small(self):
        self.factor = 1
        self.next(self.merge)

    @step
    def merge(self):
        self.value = self.size * self.factor
        self.next(self.end)

    @step
    def end(self):
        self.summary = f"{self.route}:{self.value}"
