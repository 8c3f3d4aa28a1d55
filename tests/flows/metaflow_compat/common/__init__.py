"""Code shared by several flows: a base flow, mixins with steps, helpers.

Not a flow itself; the flows beside this package import from it.
"""

from .base import BaseFlow

__all__ = ["BaseFlow"]
