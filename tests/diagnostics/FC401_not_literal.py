import os

from flowc import FlowSpec, resources, retry, step

TIMES = 3


def gpus():
    return 2


class NotLiteral(FlowSpec):
    @retry(times=TIMES)
    @resources(gpu=gpus(), memory=int(os.environ["MEM"]))  # expect: FC401@20, FC401@35
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
