from flowc import FlowSpec, Parameter, step


class NestedSwitchFlow(FlowSpec):
    """A switch on one case of another switch, a case with two steps, and a
    foreach that only one case runs."""

    mode = Parameter("mode", default="deep", help="shallow or deep")
    depth = Parameter("depth", default=2, help="1 or 2")

    @step
    def start(self):
        self.route = self.mode
        self.next({"shallow": self.shallow, "deep": self.deep}, condition="route")

    @step
    def shallow(self):
        self.items = [10]
        self.next(self.fan, foreach="items")

    @step
    def fan(self):
        self.got = self.input
        self.next(self.fan_join)

    @step
    def fan_join(self, inputs):
        self.trail = ["shallow", sum(i.got for i in inputs)]
        self.next(self.merge)

    @step
    def deep(self):
        self.level = "one" if self.depth == 1 else "two"
        self.next({"one": self.one, "two": self.two_a}, condition="level")

    @step
    def one(self):
        self.trail = ["deep", 1]
        self.next(self.deep_merge)

    @step
    def two_a(self):
        self.partial = 2
        self.next(self.two_b)

    @step
    def two_b(self):
        self.trail = ["deep", self.partial]
        self.next(self.deep_merge)

    @step
    def deep_merge(self):
        self.trail = self.trail + ["merged"]
        self.next(self.merge)

    @step
    def merge(self):
        self.final = self.trail
        self.next(self.end)

    @step
    def end(self):
        self.done = True
