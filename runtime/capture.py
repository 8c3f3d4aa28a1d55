"""Capture a task's stdout and stderr while still showing them live.

File-descriptor level (so output of C extensions and subprocesses counts):
fds 1 and 2 go into pipes; a thread copies each pipe to the original
stream and into a buffer that the task stores in the datastore beside its
artifacts, so `flowc logs` shows it for any orchestrator.
"""

from __future__ import annotations

import os
import sys
import threading


class _Tee:
    def __init__(self, fd: int):
        self.fd = fd
        self.saved = os.dup(fd)
        self.read_end, write_end = os.pipe()
        os.dup2(write_end, fd)
        os.close(write_end)
        self.chunks: list[bytes] = []
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        while True:
            try:
                data = os.read(self.read_end, 65536)
            except OSError:
                break
            if not data:
                break
            self.chunks.append(data)
            try:
                os.write(self.saved, data)
            except OSError:
                pass

    def stop(self) -> bytes:
        os.dup2(self.saved, self.fd)  # closes the pipe's last write end: the pump sees EOF
        self.thread.join(timeout=10)
        os.close(self.read_end)
        os.close(self.saved)
        return b"".join(self.chunks)


class Capture:
    def __enter__(self) -> "Capture":
        sys.stdout.flush()
        sys.stderr.flush()
        self.out = _Tee(1)
        self.err = _Tee(2)
        return self

    def __exit__(self, *exc) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        self.stdout = self.out.stop()
        self.stderr = self.err.stop()
