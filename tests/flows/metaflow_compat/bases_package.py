"""A flow whose base class comes through the package's __init__ (itself a
relative import) and whose mixin is named by its module: `import common.mixins`."""

import common.mixins
from common import BaseFlow
from flowc import step


class BasesPackageFlow(common.mixins.FanOutMixin, BaseFlow):
    """Base flow + fan-out mixin; process overridden to go to the foreach."""

    @step
    def process(self):
        self.result = self.seed + self.alpha
        self.note = self.log("fanning out")
        self.next(self.fan_out)
