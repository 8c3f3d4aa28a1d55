"""Run a task's step in a child process that this process watches.

Why: a step can swallow any exception (``except Exception`` around a loop
catches the in-process timeout), and a task can be killed by the system
(SIGKILL, the out-of-memory killer). Only a process outside the step can
end it at its deadline and record what happened, and so let @catch go on
(as Metaflow does) on every target and in ``flowc run`` alike.

The child runs in its own process group (so its subprocesses end with it)
and dies with this process (a pipe whose end it watches, and on Linux
PR_SET_PDEATHSIG), so killing the task command never leaves a step running.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable

# bytes the child writes on its status pipe
USER_CODE_STARTED, USER_CODE_ENDED, REPORTED = b"s", b"e", b"r"

# seconds a step may run past its @timeout before it is ended from outside:
# the in-process timeout (an exception in the step) comes first, so a step
# that lets it through fails as Metaflow's does, with its stack
GRACE_SECONDS = 2.0

_status_fd: int | None = None


@dataclass
class Outcome:
    code: int | None  # exit status of the child; None when ended by a signal
    signal: int | None  # the signal that ended it
    timed_out: bool  # ended here, at its deadline
    interrupted: int | None  # the signal this process received and passed on (SIGINT, SIGTERM)
    reported: bool  # the child came back through the runtime (it recorded its own outcome)


def available() -> bool:
    return hasattr(os, "fork") and hasattr(os, "killpg")


def mark(status: bytes) -> None:
    """Called in the child around the user's code (no-op when not supervised)."""
    if _status_fd is not None:
        try:
            os.write(_status_fd, status)
        except OSError:
            pass


def supervise(child: Callable[[], int], timeout: float | None) -> Outcome:
    """Run ``child()`` in a forked process; end it (and its process group)
    ``timeout + GRACE_SECONDS`` seconds after it starts the user's code."""
    global _status_fd
    sys.stdout.flush()
    sys.stderr.flush()
    life_r, life_w = os.pipe()
    status_r, status_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(life_w)
            os.close(status_r)
            os.setpgid(0, 0)
            _die_with_parent(life_r)
            _status_fd = status_w
            code = child()
            mark(REPORTED)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
            mark(REPORTED)
        except BaseException:  # the runtime's own error: shown, and reported as a failure
            import traceback

            traceback.print_exc()
            mark(REPORTED)
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    os.close(life_r)
    os.close(status_w)
    try:
        os.setpgid(pid, pid)  # also here: no race with a kill before the child ran
    except OSError:
        pass
    received: list[int] = []

    def forward(signum, frame):
        received.append(signum)
        _kill_group(pid, signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)} \
        if threading.current_thread() is threading.main_thread() else {}
    deadline: float | None = None
    timed_out = False
    status_open = True
    seen = bytearray()

    def read_status(wait: float) -> bool:
        """Read what the child wrote; False once the pipe is closed."""
        nonlocal deadline
        try:
            ready, _, _ = select.select([status_r], [], [], wait)
        except InterruptedError:
            return True
        if not ready:
            return True
        data = os.read(status_r, 64)
        seen.extend(data)
        for b in data:
            if bytes([b]) == USER_CODE_STARTED and timeout:
                deadline = time.monotonic() + timeout + GRACE_SECONDS
            elif bytes([b]) == USER_CODE_ENDED:
                deadline = None
        return bool(data)
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            now = time.monotonic()
            if deadline is not None and now >= deadline and not timed_out:
                timed_out = True
                _kill_group(pid, signal.SIGKILL)
            wait = 0.05 if deadline is None else max(0.0, min(0.05, deadline - now))
            if status_open:
                status_open = read_status(wait)  # closed: the child (and any fork of it) exited
            elif deadline is None:
                done, status = os.waitpid(pid, 0)  # it is exiting: nothing left to watch
                break
            else:
                time.sleep(min(wait, 0.005))
        while status_open and REPORTED not in seen and select.select([status_r], [], [], 0)[0]:
            status_open = read_status(0)  # what the child wrote just before it exited
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        os.close(status_r)
        os.close(life_w)
    if timed_out:
        _kill_group(pid, signal.SIGKILL)  # whatever the step started
    interrupted = received[0] if received else None
    reported = REPORTED in seen
    if os.WIFSIGNALED(status):
        return Outcome(None, os.WTERMSIG(status), timed_out, interrupted, reported)
    return Outcome(os.WEXITSTATUS(status), None, timed_out, interrupted, reported)


LIFELINE_ENV = "FLOWC_LIFELINE_FD"


def watch_lifeline() -> None:
    """End this task command when the process that started it ends: a runner
    that starts tasks as new processes passes the read end of a pipe it holds
    open (FLOWC_LIFELINE_FD); EOF on it means the runner is gone."""
    fd = os.environ.pop(LIFELINE_ENV, None)  # never seen by the step's own subprocesses
    if not fd or not fd.isdigit():
        return
    life_r = int(fd)
    try:
        os.set_inheritable(life_r, False)
    except OSError:
        return

    # the step's process follows (it watches this one)
    _on_eof(life_r, lambda: os.kill(os.getpid(), signal.SIGKILL), "flowc-lifeline")


def _on_eof(fd: int, end, name: str) -> None:
    """Call end() once the pipe read end fd reaches EOF (its writer is gone),
    from a daemon thread."""

    def watch() -> None:
        try:
            while os.read(fd, 1):
                pass
        except OSError:
            pass
        end()

    threading.Thread(target=watch, daemon=True, name=name).start()


def _kill_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except OSError:
        try:
            os.kill(pid, signum)
        except OSError:
            pass


def _die_with_parent(life_r: int) -> None:
    """End this process group when the supervisor ends, however it ends."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux); harmless elsewhere if absent
    except (OSError, AttributeError):
        pass

    _on_eof(life_r, lambda: _kill_group(os.getpid(), signal.SIGKILL), "flowc-supervisor-watch")
