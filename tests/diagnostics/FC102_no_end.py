from flowc import FlowSpec, step


class NoEnd(FlowSpec):  # expect: FC102@7
    @step
    def start(self):
        self.next(self.finish)

    @step
    def finish(self):  # expect: FC107@9
        pass
