from flowc import FlowSpec, kubernetes, step


class ImageFlow(FlowSpec):
    """One step runs in an image of its own."""

    @step
    def start(self):
        self.stage = "prepared"
        self.next(self.special)

    @kubernetes(image="example.com/team/special:1.2.3", image_pull_policy="IfNotPresent")
    @step
    def special(self):
        self.stage = "special"
        self.next(self.end)

    @step
    def end(self):
        self.final = self.stage
