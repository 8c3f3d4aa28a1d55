from flowc import FlowSpec, step


class MergeConflict(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3]
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.square = self.input ** 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.merge_artifacts(inputs)  # expect: FC205@9
        self.next(self.end)

    @step
    def end(self):
        pass
