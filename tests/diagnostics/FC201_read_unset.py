from flowc import FlowSpec, step


class ReadUnset(FlowSpec):
    @step
    def start(self):
        self.data = [1, 2]
        self.next(self.a, self.b)

    @step
    def a(self):
        self.left = 1
        self.next(self.join)

    @step
    def b(self):
        print(self.left)  # expect: FC201@15
        self.next(self.join)

    @step
    def join(self, inputs):
        self.merge_artifacts(inputs)
        self.next(self.end)

    @step
    def end(self):
        print(self.dta)  # expect: FC201@15
