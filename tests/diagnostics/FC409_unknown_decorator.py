import functools

from flowc import FlowSpec, step


def my_timer(func):
    return func


class Custom(FlowSpec):
    @my_timer  # expect: FC409@6
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
