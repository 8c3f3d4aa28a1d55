from flowc import FlowSpec, step


class BaseSteps(FlowSpec):
    """An abstract base: no start or end, completed by its subclasses."""

    @step
    def middle(self):
        self.value = 1
        self.next(self.end)


class FirstFlow(BaseSteps):
    @step
    def start(self):
        self.next(self.middle)

    @step
    def end(self):
        pass


class SecondFlow(BaseSteps):
    @step
    def start(self):
        self.next(self.middle)

    @step
    def end(self):
        print(self.value)
