"""Orchestrator backends. One module per target, each a small ``Target``
subclass (targets/base.py) registered by name (targets/registry.py);
templates for the targets that emit Python live in targets/templates/."""

from .registry import get, names, register

__all__ = ["get", "names", "register"]
