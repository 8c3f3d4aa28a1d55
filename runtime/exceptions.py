"""What @catch stores: the failure, in the shape Metaflow stores it.

Flows written for Metaflow read a caught failure as ``error.type``
(``"builtins.ValueError"``), ``error.exception`` (the message) and
``error.stacktrace``, and may test ``type(error).__name__``; so the class
carries Metaflow's name, and pickles to plain attributes (a caught exception
of any class can be stored and read back anywhere).
"""

from __future__ import annotations

import traceback


class MetaflowExceptionWrapper(Exception):
    def __init__(self, exc: BaseException | None = None):
        super().__init__()
        self.exception: str | None = None
        self.type: str | None = None
        self.stacktrace: str | None = None
        if exc is not None:
            self.exception = str(exc)
            self.type = f"{type(exc).__module__}.{type(exc).__name__}"
            tb = exc.__traceback__
            self.stacktrace = "".join(traceback.format_exception(type(exc), exc, tb)) if tb is not None else None

    def __reduce__(self):
        return MetaflowExceptionWrapper, (None,), self.__dict__

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        if self.stacktrace:
            return self.stacktrace
        return f"[no stacktrace]\n{self.type}: {self.exception}"

