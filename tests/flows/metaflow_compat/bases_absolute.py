"""A flow built from a base flow and a mixin imported from the project's
`common` package by absolute imports: it overrides one inherited step and
adds a Parameter of its own."""

from flowc import Parameter, step

from common.base import BaseFlow
from common.mixins import FeatureMixin


class BasesAbsoluteFlow(FeatureMixin, BaseFlow):
    """Base flow + feature mixin; process overridden to add an offset."""

    offset = Parameter("offset", default=10, help="added to the base's result")

    @step
    def process(self):
        self.result = self.seed * self.alpha + self.offset
        self.next(self.features)
