"""A flow with no steps of its own: start, process and end and both
Parameters all come from the base flow in the `common` package."""

from common.base import BaseFlow


class BasesInheritedFlow(BaseFlow):
    """Every step is inherited."""
