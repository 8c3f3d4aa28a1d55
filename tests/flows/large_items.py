from flowc import FlowSpec, Parameter, step


class LargeItemsFlow(FlowSpec):
    """A foreach over large items: only indices may ride in XCom, never the items."""

    width = Parameter("width", default=16, help="how many items")
    item_kb = Parameter("item_kb", default=64, help="size of each item in KiB")

    @step
    def start(self):
        self.items = [chr(65 + i % 26) * (self.item_kb * 1024) for i in range(self.width)]
        self.next(self.measure, foreach="items")

    @step
    def measure(self):
        self.length = len(self.input)
        self.first = self.input[0]
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.length for i in inputs)
        self.firsts = "".join(i.first for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        self.ok = self.total == self.width * self.item_kb * 1024
