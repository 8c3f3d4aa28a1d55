from flowc import FlowSpec, step


class NoStart(FlowSpec):  # expect: FC101@7
    @step
    def begin(self):
        self.next(self.end)

    @step
    def end(self):
        pass
