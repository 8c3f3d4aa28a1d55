from flowc import FlowSpec, step


def fill(flow):
    flow.filled = True


class Dynamic(FlowSpec):
    @step
    def start(self):
        fill(self)  # expect: FC208@14
        self.next(self.end)

    @step
    def end(self):
        print(self.filled)
