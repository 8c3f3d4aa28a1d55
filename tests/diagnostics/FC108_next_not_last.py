from flowc import FlowSpec, step


class NotLast(FlowSpec):
    @step
    def start(self):
        self.x = 1
        if self.x:
            self.next(self.end)  # expect: FC108@13
        self.next(self.end)

    @step
    def end(self):
        pass
