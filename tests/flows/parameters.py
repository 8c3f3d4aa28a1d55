from flowc import FlowSpec, JSONType, Parameter, step


class ParametersFlow(FlowSpec):
    """One parameter of every type, with defaults."""

    text = Parameter("text", default="hello", help="a string")
    count = Parameter("count", default=3, help="an int")
    ratio = Parameter("ratio", default=0.25, help="a float")
    flag = Parameter("flag", default=True, help="a bool")
    options = Parameter("options", type=JSONType, default='{"depth": 2, "tags": ["a", "b"]}', help="a JSON object")
    weights = Parameter("weights", default=[0.5, 0.5], help="a JSON list")
    learning_rate = Parameter("lr", default=0.01, help="attribute and name differ")

    @step
    def start(self):
        self.seen = {
            "text": self.text,
            "count": self.count,
            "ratio": self.ratio,
            "flag": self.flag,
            "options": self.options,
            "weights": self.weights,
            "lr": self.learning_rate,
        }
        self.types = {k: type(v).__name__ for k, v in self.seen.items()}
        self.next(self.end)

    @step
    def end(self):
        self.echo = self.text * self.count
