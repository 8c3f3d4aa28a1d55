from flowc import FlowSpec, step


class Loop(FlowSpec):
    @step
    def start(self):
        self.next(self.a)

    @step
    def a(self):
        self.next(self.b)

    @step
    def b(self):
        self.next(self.a)  # expect: FC113@19

    @step
    def end(self):
        pass
