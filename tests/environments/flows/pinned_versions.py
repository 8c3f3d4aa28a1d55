"""Two steps pin two different versions of one small pure-Python package;
each asserts it runs with its own."""

from flowc import FlowSpec, pypi, step


class PinnedVersionsFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.old, self.new)

    @pypi(packages={"tabulate": "0.8.10"})
    @step
    def old(self):
        import tabulate

        assert tabulate.__version__ == "0.8.10", tabulate.__version__
        self.version = tabulate.__version__
        self.next(self.join)

    @pypi(packages={"tabulate": "0.9.0"})
    @step
    def new(self):
        import tabulate

        assert tabulate.__version__ == "0.9.0", tabulate.__version__
        self.version = tabulate.__version__
        self.next(self.join)

    @step
    def join(self, inputs):
        self.versions = sorted(i.version for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass
