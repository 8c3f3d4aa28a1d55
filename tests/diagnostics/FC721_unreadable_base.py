from flowc import FlowSpec, step


def make_base():
    return object


class UnreadableBaseFlow(make_base(), FlowSpec):  # expect: FC721@26
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
