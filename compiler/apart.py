"""An analysis computed in a forked child and sent back pickled, so that the
calling process never loads libcst nor keeps the parse's garbage.

`flowc run` analyzes a flow that is not in the analysis cache this way: it
then forks every task from itself, and each fork costs with the memory the
forking process holds (libcst and its parse are ~10 MB: a tenth more CPU
per task of a wide foreach)."""

from __future__ import annotations

import os
import pickle
import sys
from dataclasses import replace

from . import dataclass_code

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable


def in_child(analyze: Callable[[], Any]) -> Any:
    """``analyze()``'s result (a pipeline.Analysis), computed in a forked
    child and without its facts, which hold libcst nodes; computed here where
    there is no fork, or where the child did not send one (an internal error
    then shows here as it would have)."""
    if not hasattr(os, "fork"):
        return analyze()
    sys.stdout.flush()
    sys.stderr.flush()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send the result, or nothing
        code = 1
        try:
            os.close(r)
            view = memoryview(pickle.dumps(replace(analyze(), facts=()), protocol=pickle.HIGHEST_PROTOCOL))
            while view:
                view = view[os.write(w, view):]
            code = 0
            os.close(w)
            dataclass_code.save()  # libcst's classes, made here: kept for the next analysis
        except BaseException:  # noqa: B036 - whatever it was, the parent analyzes again
            pass
        finally:
            os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 0:
        try:
            return pickle.loads(data)
        except Exception:  # noqa: BLE001 - a damaged result: analyze here
            pass
    return analyze()
