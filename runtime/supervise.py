"""Run a task's step in a child process that this process watches.

Why: a step can swallow any exception (``except Exception`` around a loop
catches the in-process timeout), and a task can be killed by the system
(SIGKILL, the out-of-memory killer). Only a process outside the step can
end it at its deadline and record what happened, and so let @catch go on
(as Metaflow does) on every target and in ``flowc run`` alike.

The child runs in its own process group (so its subprocesses end with it)
and dies with this process (a pipe whose end it watches, and on Linux
PR_SET_PDEATHSIG), so killing the task command never leaves a step running.

The watcher also keeps the child's output: fds 1 and 2 of the child are
pipes that the watcher reads in the same loop that watches the deadline
(no thread, no second copy of the process), passing it on live and keeping
it for the task's logs. ``start`` and ``Child`` watch without blocking, for
a runner that watches many tasks in one loop (runtime/scheduler.py);
``supervise`` is the blocking form the task command uses.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it costs every task command milliseconds
    from typing import Callable

# bytes the child writes on its status pipe
USER_CODE_STARTED, USER_CODE_ENDED, REPORTED = b"s", b"e", b"r"

# seconds a step may run past its @timeout before it is ended from outside:
# the in-process timeout (an exception in the step) comes first, so a step
# that lets it through fails as Metaflow's does, with its stack
GRACE_SECONDS = 2.0

_status_fd: int | None = None


class Outcome:
    """How a watched child ended."""

    def __init__(self, code: int | None, signal: int | None, timed_out: bool, interrupted: int | None,
                 reported: bool, stdout: bytes = b"", stderr: bytes = b""):
        self.code = code  # exit status of the child; None when ended by a signal
        self.signal = signal  # the signal that ended it
        self.timed_out = timed_out  # ended here, at its deadline
        self.interrupted = interrupted  # the signal this process received and passed on (SIGINT, SIGTERM)
        self.reported = reported  # the child came back through the runtime (it recorded its own outcome)
        self.stdout, self.stderr = stdout, stderr  # what it wrote on fds 1 and 2 (when started with capture)


def available() -> bool:
    return hasattr(os, "fork") and hasattr(os, "killpg")


def mark(status: bytes) -> None:
    """Called in the child around the user's code (no-op when not supervised)."""
    if _status_fd is not None:
        try:
            os.write(_status_fd, status)
        except OSError:
            pass


class Child:
    """A child started by ``start``: read its pipes when they are readable
    (``read``), look at its deadline (``check``), and once it has exited,
    ``finish`` it for its Outcome."""

    def __init__(self, pid: int, timeout: float | None, status_r: int, life_w: int, outputs: dict[int, int]):
        self.pid, self.timeout, self.status_r, self.life_w = pid, timeout, status_r, life_w
        self.outputs = outputs  # pipe read end -> the child's fd (1, 2)
        self.deadline: float | None = None
        self.timed_out = False
        self.interrupted: int | None = None
        self.seen = bytearray()
        self.kept: dict[int, list] = {1: [], 2: []}
        self.status_open = True
        self.closed: list[int] = []  # output pipes at their end

    def fds(self) -> list[int]:
        """The pipes still open: wait for any of them to be readable."""
        return ([self.status_r] if self.status_open else []) + list(self.outputs)

    def read(self, fd: int) -> bytes | None:
        """Read what is there on one of ``fds()`` without blocking; the bytes
        read from an output pipe (b"" if none yet), None once it is closed."""
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return b""
        except OSError:
            data = b""
        if fd == self.status_r:
            if not data:
                self.status_open = False
                return None
            self.seen.extend(data)
            for b in data:
                if b == USER_CODE_STARTED[0] and self.timeout:
                    self.deadline = time.monotonic() + self.timeout + GRACE_SECONDS
                elif b == USER_CODE_ENDED[0]:
                    self.deadline = None
            return b""
        if not data:
            self.closed.append(fd)  # closed in finish(): a loop watching it stops watching it first
            del self.outputs[fd]
            return None
        self.kept[self.outputs[fd]].append(data)
        return data

    def check(self, now: float | None = None) -> float | None:
        """End the child if it is past its deadline; the seconds left until it
        (None: no deadline)."""
        if self.deadline is None or self.timed_out:
            return None
        left = self.deadline - (time.monotonic() if now is None else now)
        if left <= 0:
            self.timed_out = True
            kill_group(self.pid, signal.SIGKILL)
            return None
        return left

    def interrupt(self, signum: int) -> None:
        """Pass a stop signal on to the child's process group, and remember it."""
        if self.interrupted is None:
            self.interrupted = signum
        kill_group(self.pid, signum)

    def finish(self, status: int) -> Outcome:
        """The child has exited (``status`` from waitpid): read what is left in
        its pipes and close them."""
        if self.status_open:
            while self.status_open and REPORTED not in self.seen and select.select([self.status_r], [], [], 0)[0]:
                self.read(self.status_r)  # what the child wrote just before it exited
        for fd in list(self.outputs):
            while self.read(fd):  # drained; a subprocess that keeps the pipe open is not waited for
                pass
        for fd in [*self.outputs, *self.closed]:
            os.close(fd)
        self.outputs, self.closed = {}, []
        os.close(self.status_r)
        os.close(self.life_w)
        if self.timed_out:
            kill_group(self.pid, signal.SIGKILL)  # whatever the step started
        reported = REPORTED in self.seen
        out, err = b"".join(self.kept[1]), b"".join(self.kept[2])
        if os.WIFSIGNALED(status):
            return Outcome(None, os.WTERMSIG(status), self.timed_out, self.interrupted, reported, out, err)
        return Outcome(os.WEXITSTATUS(status), None, self.timed_out, self.interrupted, reported, out, err)


def start(child: Callable[[], int], timeout: float | None, capture: bool = False,
          spawn: Callable[..., int] | None = None) -> Child:
    """Start ``child()`` in a new process, in a process group of its own,
    that exits with what it returns. With ``capture``, its fds 1 and 2 are
    pipes that the returned Child reads (non-blocking).

    The process is forked here, or, with ``spawn``, by another process:
    ``spawn(child, life_r, status_w, outputs)`` forks it there, has the new
    process call ``run_child`` with those fds, and returns its pid
    (runtime/forkserver.py)."""
    _load_kernel_calls()
    sys.stdout.flush()
    sys.stderr.flush()
    life_r, life_w = os.pipe()
    status_r, status_w = os.pipe()
    pipes = [os.pipe() for _ in (1, 2)] if capture else []
    outputs_w = [w for _, w in pipes]
    if spawn is None:
        pid = os.fork()
        if pid == 0:
            run_child(child, life_r, status_w, outputs_w, close=(life_w, status_r, *(r for r, _ in pipes)))
        try:
            os.setpgid(pid, pid)  # also here: no race with a kill before the child ran
        except OSError:
            pass
    else:
        try:
            pid = spawn(child, life_r, status_w, outputs_w)
        except BaseException:
            for fd in (life_r, life_w, status_r, status_w, *(fd for pipe in pipes for fd in pipe)):
                os.close(fd)
            raise
    os.close(life_r)
    os.close(status_w)
    outputs = {}
    for (r, w), fd in zip(pipes, (1, 2)):
        os.close(w)
        os.set_blocking(r, False)
        outputs[r] = fd
    os.set_blocking(status_r, False)
    return Child(pid, timeout, status_r, life_w, outputs)


def run_child(child: Callable[[], int], life_r: int, status_w: int, outputs: list[int],
              close: tuple[int, ...] = ()) -> None:
    """The new process of ``start``, given its ends of the pipes (the
    lifeline, the status pipe, and with capture its fds 1 and 2), and the
    fds it must not keep (``close``): runs ``child()`` in a process group
    of its own and exits with what it returns; never returns."""
    global _status_fd
    code = 1
    try:
        for fd in close:
            os.close(fd)
        for w, fd in zip(outputs, (1, 2)):
            os.dup2(w, fd)
            os.close(w)
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


def supervise(child: Callable[[], int], timeout: float | None, tee: bool = False) -> Outcome:
    """Run ``child()`` in a forked process; end it (and its process group)
    ``timeout + GRACE_SECONDS`` seconds after it starts the user's code.
    With ``tee``, what it writes is shown on this process's fds 1 and 2 as it
    comes and kept in the Outcome (the task's logs)."""
    watched = start(child, timeout, capture=tee)
    pid = watched.pid

    def forward(signum, frame):
        watched.interrupt(signum)

    import threading

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)} \
        if threading.current_thread() is threading.main_thread() else {}
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            left = watched.check()
            fds = watched.fds()
            if not fds and left is None:
                done, status = os.waitpid(pid, 0)  # it is exiting: nothing left to watch
                break
            wait = 0.05 if left is None else max(0.0, min(0.05, left))
            if not fds:
                time.sleep(min(wait, 0.005))
                continue
            try:
                ready, _, _ = select.select(fds, [], [], wait)
            except InterruptedError:
                continue
            for fd in ready:
                shown_on = watched.outputs.get(fd)  # this process's fd 1 or 2 (the child's own)
                data = watched.read(fd)
                if data and shown_on:
                    _write_all(shown_on, data)
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    for fd, shown_on in list(watched.outputs.items()):  # what it wrote just before it exited is shown too
        while data := watched.read(fd):
            _write_all(shown_on, data)
    return watched.finish(status)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            select.select([], [fd], [], 1.0)
        except OSError:
            return


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

    import threading

    threading.Thread(target=watch, daemon=True, name=name).start()


def kill_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except OSError:
        try:
            os.kill(pid, signum)
        except OSError:
            pass



_prctl = None  # libc's prctl, found once before any fork (in a child, ctypes costs more than the fork)
_fcntl = None  # the fcntl module, likewise loaded before any fork (False where it is missing)


def _load_kernel_calls() -> None:
    """prctl and fcntl, with which every task ends with its supervisor
    (_die_with_parent): loaded once, before any fork."""
    global _prctl, _fcntl
    if _prctl is None:
        try:
            import ctypes

            _prctl = ctypes.CDLL(None, use_errno=True).prctl
        except (OSError, AttributeError):  # not Linux: the lifeline pipe alone
            _prctl = False
    if _fcntl is None:
        try:
            import fcntl

            _fcntl = fcntl if hasattr(fcntl, "F_SETSIG") else False
        except ImportError:
            _fcntl = False


def _die_with_parent(life_r: int) -> None:
    """End this process group when the supervisor ends, however it ends.

    The kernel does it: this process is killed when its parent dies
    (PR_SET_PDEATHSIG), and the whole group (the step's own subprocesses
    too) once the lifeline pipe's last writer is gone (the pipe signals its
    owner, the group, with SIGKILL: O_ASYNC, F_SETOWN, F_SETSIG). A thread
    watching the pipe does the same where the kernel cannot; starting one
    cost a forked task a third of its time."""
    die_with_parent()
    if _signal_group_on_eof(life_r):
        return
    _on_eof(life_r, lambda: kill_group(os.getpid(), signal.SIGKILL), "flowc-supervisor-watch")


def die_with_parent() -> None:
    """Have the kernel SIGKILL this process when its parent ends (Linux:
    PR_SET_PDEATHSIG; elsewhere nothing)."""
    _load_kernel_calls()
    if _prctl:
        _prctl(1, signal.SIGKILL)


def _signal_group_on_eof(life_r: int) -> bool:
    """Have the kernel SIGKILL this process group when ``life_r`` reaches EOF;
    False where it cannot (not Linux), or where the group is not this
    process's own (it would take the supervisor with it)."""
    if not _fcntl or os.getpgrp() != os.getpid():
        return False
    try:
        _fcntl.fcntl(life_r, _fcntl.F_SETSIG, signal.SIGKILL)
        _fcntl.fcntl(life_r, _fcntl.F_SETOWN, -os.getpgrp())
        _fcntl.fcntl(life_r, _fcntl.F_SETFL, _fcntl.fcntl(life_r, _fcntl.F_GETFL) | os.O_ASYNC)
    except OSError:
        return False
    if select.select([life_r], [], [], 0)[0]:  # the supervisor was gone before the kernel was told
        kill_group(os.getpid(), signal.SIGKILL)
    return True
