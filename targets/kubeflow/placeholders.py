"""User text that KFP would read as a placeholder: refused, never passed on.

KFP resolves ``{{$...}}`` placeholders (and whole arguments spelled
``{"IfPresent": ...}`` or ``{"Concat": ...}``) in what it runs: an
executor's command and arguments (its launcher, and kfp.local), and, on
backends that resolve them there too, its image and env; the platform spec's
values reach the pod the same way. Nothing escapes ``{{`` there, so text of
the flow's that lands in an executor or the platform spec (an @environment
value, an image, an annotation, a package pin, the file's name, an option)
and holds ``{{`` is FC501 at the decorator that holds it: what KFP runs holds
no ``{{`` but flowc's own placeholders. Text that stays data (the pipeline's
description from the docstring, a parameter's help and default, which KFP
substitutes once as a value) is written as it is.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Iterator

from flowc.compiler import ir
from flowc.compiler.spans import Span

from ..base import Target

OPEN = "{{"
STRUCTS = ('{"IfPresent": ', '{"Concat": ')  # an argument that is one of these is read as a structure


def strings(value: Any) -> Iterator[str]:
    """Every text inside a decorator, a default value, an option (keys too)."""
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            if f.name != "span":
                yield from strings(getattr(value, f.name))
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            yield from strings(v)


def user_texts(target: Target, flow: ir.Flow) -> Iterator[tuple[Any, Span, str]]:
    """(a value holding user text that reaches an executor or the platform spec, where
    it is written, what it is)."""
    yield os.path.basename(flow.source.path), flow.span, "the flow file's name"  # the command's --flow
    for name in sorted(target.options):
        yield target.options[name], flow.span, f"option {name}"
    for f in dataclasses.fields(flow.decorators):
        deco = getattr(flow.decorators, f.name)
        if deco is not None:
            yield deco, deco.span, f"@{f.name} on flow {flow.name}"
    for s in flow.steps:
        for f in dataclasses.fields(s.decorators):
            decos = getattr(s.decorators, f.name)
            for deco in decos if isinstance(decos, (list, tuple)) else (decos,):
                if deco is not None:
                    yield deco, getattr(deco, "span", s.span), f"@{f.name} on step '{s.name}'"


def check(target: Target, flow: ir.Flow) -> None:
    """FC501 for each place whose text KFP would read as a placeholder."""
    for value, span, what in user_texts(target, flow):
        bad = next((t for t in strings(value) if OPEN in t or t.startswith(STRUCTS)), None)
        if bad is not None:
            target.unsupported(f"{what} holds {bad!r}: KFP (and the Argo Workflows it runs on) would read it as "
                               "a placeholder, and neither can escape '{{'", span,
                               "remove the double braces, or pass the text at run time as a parameter's value")
