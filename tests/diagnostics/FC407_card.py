from flowc import FlowSpec, card, step


class WithCard(FlowSpec):
    @card(type="default")  # expect: FC407@6
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
