"""A linear flow driven by parameters of every type."""

from flowc import FlowSpec, JSONType, Parameter, step


class ParamsFlow(FlowSpec):
    """Build a greeting from typed parameters, one step at a time."""

    greeting = Parameter("greeting", default="hello", help="the word to start with")
    times = Parameter("times", default=2, help="how many times to repeat it")
    scale = Parameter("scale", default=1.5, help="a float multiplier")
    shout = Parameter("shout", default=False, help="upper-case the result")
    config = Parameter("config", type=JSONType, default='{"names": ["ada", "grace"]}', help="who to greet")

    @step
    def start(self):
        self.names = list(self.config["names"])
        self.next(self.compose)

    @step
    def compose(self):
        words = [self.greeting] * self.times
        self.message = " ".join(words) + ", " + " and ".join(self.names)
        self.next(self.finish)

    @step
    def finish(self):
        self.result = self.message.upper() if self.shout else self.message
        self.weight = self.scale * len(self.names)
        self.next(self.end)

    @step
    def end(self):
        print(self.result, self.weight)


if __name__ == "__main__":
    ParamsFlow()
