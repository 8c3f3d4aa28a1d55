"""Forked tasks start from a small process of their own, not from the runner.

Why: after a fork, every page the parent writes that a running child still
shares is copied first. The runner writes all the time (it reads each
task's output and result, reports, schedules), so forking tasks from it
made it copy ~330 pages per task, a fifth of a wide foreach's CPU. The
fork server is forked from the runner once, before the first task; it
does nothing but fork tasks, so it writes almost nothing (~100 pages per
task), and the runner copies a page it writes once, not once per task
(a foreach over 2,000: the runner's page copies went from 660,000 to
7,000, its CPU from 3.0 to 1.0 s).

Each task is still the same process ``supervise.start`` would fork (its
pipes are made by the runner and passed here with the request, its
process group is its own, it ends with the runner): only its parent is
this process, which therefore reaps it and sends its exit status back.

    runner                                  fork server
    spawn(body, fds)  -- request, fds -->   fork: the child runs body
                      <-- pid ----------
    poll(pid)         <-- pid, status --    waitid, WNOWAIT (SIGCHLD)
    release(pid)      -- release ------->   waitpid

A task that has ended stays a zombie until the runner releases it: its pid
(and so its process group) cannot be given to another process while the
runner may still signal it (a step past its deadline, a stopped run), as
when the runner reaped its tasks itself.

The server ends when the runner closes its socket, or dies with it. If the
server dies, the tasks it started are reported killed (they die with it),
and the next task starts a new server.
"""

from __future__ import annotations

import errno
import gc
import os
import pickle
import selectors
import signal
import socket
import struct
import sys

from . import supervise

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable

_REQUEST = struct.Struct("!cIB")  # FORK (the pickled body's length) or RELEASE (a pid); how many output fds
_FORK, _RELEASE = b"f", b"r"
_PID = struct.Struct("!q")  # the pid of the new task (negative: the errno of a failed fork)
_EXIT = struct.Struct("!qi")  # pid, wait status: one record per task that ended
_KILLED = signal.SIGKILL  # the wait status of a process killed by SIGKILL


def available() -> bool:
    return (hasattr(os, "fork") and hasattr(os, "waitid") and hasattr(socket, "send_fds")
            and hasattr(socket, "AF_UNIX"))


class ForkServer:
    """The runner's side: starts the server (fork), asks it for tasks
    (``spawn``, the ``spawn`` of supervise.start), and reads their exit
    statuses (``poll``; ``fileno`` is readable when one arrived)."""

    def __init__(self, prepare: Callable[[], None] | None = None) -> None:
        """``prepare()``, if given, runs in the server before its first task:
        what every task would otherwise do for itself, done once."""
        requests, served = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        exits_r, exits_w = os.pipe()
        runner = os.getpid()
        sys.stdout.flush()
        sys.stderr.flush()
        gc.freeze()  # the server's collections never write to the pages it shares with the runner
        pid = os.fork()
        if pid == 0:
            try:
                requests.close()
                os.close(exits_r)
                serve(served, exits_w, runner, prepare)
            finally:
                os._exit(0)
        served.close()
        os.close(exits_w)
        os.set_blocking(exits_r, False)
        self.pid = pid
        self.requests = requests
        self.exits = exits_r
        self.statuses: dict[int, int] = {}  # exited tasks not yet polled
        self.started: set[int] = set()  # tasks running, as far as this side knows
        self.alive = True
        self._pending = b""

    def fileno(self) -> int:
        return self.exits

    def spawn(self, body: Callable[[], int], life_r: int, status_w: int, outputs: list[int]) -> int:
        """Fork ``body`` (picklable: the server has only what the runner
        had when it started) in the server, as supervise.run_child; its pid."""
        data = pickle.dumps(body, pickle.HIGHEST_PROTOCOL)
        try:
            socket.send_fds(self.requests, [_REQUEST.pack(_FORK, len(data), len(outputs)) + data],
                            [life_r, status_w, *outputs])
            (pid,) = _PID.unpack(_read_exactly(self.requests, _PID.size))
        except (OSError, EOFError) as exc:
            self.alive = False
            raise ServerGone(f"the fork server is gone: {exc}") from None
        if pid < 0:
            raise OSError(-pid, os.strerror(-pid))
        self.started.add(pid)
        return pid

    def release(self, pid: int) -> None:
        """Let the server reap a task whose exit status was read, once it will
        not be signalled again."""
        if not self.alive:
            return
        try:
            self.requests.sendall(_REQUEST.pack(_RELEASE, pid, 0))
        except OSError:
            self.alive = False  # its tasks are reported killed as the loop next reads the exit pipe

    def poll(self, pid: int) -> int | None:
        """The task's wait status once it has exited, else None."""
        if pid not in self.statuses:
            self._read_exits()
        return self.statuses.pop(pid, None)

    def _read_exits(self) -> None:
        while self.alive:
            try:
                data = os.read(self.exits, 4096)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:  # the server ended: its tasks died with it (PR_SET_PDEATHSIG, their lifeline)
                self.alive = False
                for pid in self.started:
                    self.statuses.setdefault(pid, _KILLED)
                self.started.clear()
                return
            data = self._pending + data
            whole = len(data) - len(data) % _EXIT.size
            for pid, status in _EXIT.iter_unpack(data[:whole]):
                self.started.discard(pid)
                self.statuses[pid] = status
            self._pending = data[whole:]

    def close(self) -> None:
        """End the server (it ends once its socket closes) and reap it. A
        task it started that has not been reported ended died with it."""
        self.requests.close()
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        self._read_exits()  # the statuses it sent before it ended
        self.alive = False
        for pid in self.started:
            self.statuses.setdefault(pid, _KILLED)
        self.started.clear()
        os.close(self.exits)


class ServerGone(OSError):
    """The fork server died (the runner starts another)."""


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    """``size`` more bytes from the socket (none for a size of 0 or less)."""
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError("the socket closed")
        data += chunk
    return data


# ---------------------------------------------------------------- the server


def serve(sock: socket.socket, exits_w: int, runner: int, prepare: Callable[[], None] | None = None) -> None:
    """The server's loop: fork a task for each request; send the exit status
    of each task that ends. Returns when the runner closes the socket."""
    # Ctrl-C and SIGTERM are the runner's to handle (it stops every task, and
    # waits for their exit statuses from here)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    supervise.die_with_parent()
    if os.getppid() != runner:  # the runner died before the kernel was told
        return
    if prepare is not None:
        prepare()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, _ignore)  # a handler, so that the signal reaches the wake-up pipe
    signal.set_wakeup_fd(wake_w)
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    own = (sock.fileno(), exits_w, wake_r, wake_w)  # a task closes these
    running: set[int] = set()  # tasks whose end has not been sent
    try:
        while True:
            for key, _ in selector.select():
                if key.fileobj is sock:
                    request = _receive(sock)
                    if request is None:
                        return
                    kind, body_or_pid, outputs, fds = request
                    if kind == _RELEASE:
                        _release(body_or_pid)
                        continue
                    pid = _fork(body_or_pid, outputs, fds, own)
                    if pid > 0:
                        running.add(pid)
                    sock.sendall(_PID.pack(pid))
                else:
                    try:
                        while os.read(wake_r, 4096):
                            pass
                    except BlockingIOError:
                        pass
            _send_exits(running, exits_w)
    finally:
        signal.set_wakeup_fd(-1)


def _ignore(signum: int, frame: object) -> None:
    pass


def _receive(sock: socket.socket) -> tuple[bytes, bytes | int, int, list[int]] | None:
    """One request: (FORK, the pickled body, how many output fds it has, its
    fds: life_r, status_w, outputs...) or (RELEASE, a pid, 0, []); None once
    the runner has closed the socket."""
    try:
        head, fds, _flags, _addr = socket.recv_fds(sock, _REQUEST.size, 8)
        if not head:
            return None
        head += _read_exactly(sock, _REQUEST.size - len(head))
        kind, number, outputs = _REQUEST.unpack(head)
        if kind == _RELEASE:
            return kind, number, 0, fds
        return kind, _read_exactly(sock, number), outputs, fds
    except (OSError, EOFError):
        return None


def _fork(data: bytes, outputs: int, fds: list[int], own: tuple[int, ...]) -> int:
    """Fork the task; its pid (or minus the errno of a failed fork)."""
    if len(fds) != 2 + outputs:  # cut short (this process is out of fds)
        for fd in fds:
            os.close(fd)
        return -errno.EMFILE
    life_r, status_w, *outputs_w = fds
    gc.freeze()
    try:
        pid = os.fork()
    except OSError as exc:
        pid = -(exc.errno or 1)
    if pid == 0:
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        supervise.run_child(_Unpickled(data), life_r, status_w, outputs_w, close=own)
    if pid > 0:
        try:
            os.setpgid(pid, pid)  # also here: no race with a kill before the child ran
        except OSError:
            pass
    for fd in fds:
        os.close(fd)
    return pid


class _Unpickled:
    """The task's body, unpickled in the task (never in the server, whose
    pages stay as its children share them)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __call__(self) -> int:
        return pickle.loads(self.data)()


def _send_exits(running: set[int], exits_w: int) -> None:
    """Send the exit status of each task that ended, leaving it a zombie
    (WNOWAIT) until the runner releases it."""
    for pid in list(running):
        try:
            ended = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            running.discard(pid)
            continue
        if ended is None:
            continue
        running.discard(pid)
        os.write(exits_w, _EXIT.pack(pid, _wait_status(ended)))


def _wait_status(ended: os.waitid_result) -> int:
    """waitid's account of an end, as waitpid's status."""
    if ended.si_code == os.CLD_EXITED:
        return (ended.si_status & 0xFF) << 8
    return ended.si_status | (0x80 if ended.si_code == os.CLD_DUMPED else 0)


def _release(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
