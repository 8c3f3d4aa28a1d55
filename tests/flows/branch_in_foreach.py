from flowc import FlowSpec, step


class BranchInForeachFlow(FlowSpec):
    """Each item of a foreach splits into two branches that join again, item by item."""

    @step
    def start(self):
        self.words = ["ab", "cde", "f"]
        self.next(self.split, foreach="words")

    @step
    def split(self):
        self.word = self.input
        self.next(self.upper, self.length)

    @step
    def upper(self):
        self.up = self.word.upper()
        self.next(self.pair)

    @step
    def length(self):
        self.n = len(self.word)
        self.next(self.pair)

    @step
    def pair(self, inputs):
        self.pair_ = (inputs.upper.up, inputs.length.n)
        self.next(self.after)

    @step
    def after(self):
        self.text = f"{self.pair_[0]}:{self.pair_[1]}"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.texts = [i.text for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass
