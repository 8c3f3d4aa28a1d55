"""What @catch stores: the failure, in the shape Metaflow stores it.

Flows written for Metaflow read a caught failure as ``error.type``
(``"builtins.ValueError"``), ``error.exception`` (the message) and
``error.stacktrace``, and may test ``type(error).__name__``; so the class
carries Metaflow's name, and pickles to plain attributes (a caught exception
of any class can be stored and read back anywhere).
"""

from __future__ import annotations



class MetaflowExceptionWrapper(Exception):
    def __init__(self, exc: BaseException | None = None):
        super().__init__()
        self.exception: str | None = None
        self.type: str | None = None
        self.stacktrace: str | None = None
        if exc is not None:
            self.exception = str(exc)
            self.type = getattr(exc, "metaflow_type", None) or f"{type(exc).__module__}.{type(exc).__name__}"
            tb = exc.__traceback__
            import traceback  # only for a failure: not loaded by every task

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



class TimeoutException(Exception):
    """A step ran past its @timeout (Metaflow's type name and message)."""

    metaflow_type = "metaflow.plugins.timeout_decorator.TimeoutException"

    @staticmethod
    def message(step: str, seconds: int) -> str:
        hours, rest = divmod(int(seconds), 3600)
        minutes, secs = divmod(rest, 60)
        return f"Step {step} timed out after {hours} hours, {minutes} minutes, {secs} seconds"


class FailureHandledByCatch(Exception):
    """What @catch stores when the task died without raising (killed, out of
    memory, timed out and ended from outside): Metaflow's type and message."""

    metaflow_type = "metaflow.plugins.catch_decorator.FailureHandledByCatch"

    def __init__(self, retry_count: int):
        super().__init__(f"Task execution kept failing over {retry_count} attempts. Your code did not raise an "
                         "exception. Something in the execution environment caused the failure.")
