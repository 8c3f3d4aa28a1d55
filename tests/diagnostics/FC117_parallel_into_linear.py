from flowc import FlowSpec, step


class NotAJoin(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.meet)

    @step
    def b(self):
        self.next(self.meet)

    @step
    def meet(self):  # expect: FC117@9
        self.next(self.end)

    @step
    def end(self):
        pass
