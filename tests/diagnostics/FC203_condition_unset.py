from flowc import FlowSpec, step


class ConditionUnset(FlowSpec):
    @step
    def start(self):
        self.next({"a": self.a, "b": self.end}, condition="route")  # expect: FC203@9

    @step
    def a(self):
        self.next(self.end)

    @step
    def end(self):
        pass
