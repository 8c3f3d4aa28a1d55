from flowc import FlowSpec, step


class BadNext(FlowSpec):
    @step
    def start(self):
        self.next("end")  # expect: FC111@19

    @step
    def middle(self):
        self.next(self.end, color="red")  # expect: FC111@29

    @step
    def end(self):
        pass
