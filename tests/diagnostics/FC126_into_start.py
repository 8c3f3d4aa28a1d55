from flowc import FlowSpec, step


class BackToStart(FlowSpec):
    @step
    def start(self):
        self.next(self.a)

    @step
    def a(self):
        self.again = True
        self.next({"again": self.start, "done": self.end}, condition="again")  # expect: FC126@29

    @step
    def end(self):
        pass
