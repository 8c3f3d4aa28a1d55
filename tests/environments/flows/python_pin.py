"""A step that pins another Python version than the one running flowc."""

import sys

from flowc import FlowSpec, pypi, step


class PythonPinFlow(FlowSpec):
    @step
    def start(self):
        self.outer = list(sys.version_info[:2])
        self.next(self.other)

    @pypi(python="3.12", packages={"tabulate": "0.9.0"})
    @step
    def other(self):
        import tabulate

        self.inner = list(sys.version_info[:2])
        self.tab = tabulate.__version__
        self.next(self.end)

    @step
    def end(self):
        pass
