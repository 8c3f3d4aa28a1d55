"""What people see while `flowc run` works.

On a terminal: each task's output prefixed by its pathspec, and one status
line kept at the bottom (steps done, tasks running / done / failed, foreach
progress). Elsewhere (CI logs, pipes): plain lines, no control characters.
``quiet`` keeps only failures and the summary.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from typing import TextIO


class Reporter:
    def __init__(self, flow: str, run_id: str, stream: TextIO | None = None, quiet: bool = False,
                 interactive: bool | None = None):
        self.flow = flow
        self.run_id = run_id
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self.started = time.time()
        self.running: dict[str, float] = {}
        self.done = 0
        self.failed = 0
        self.per_step_done: dict[str, int] = defaultdict(int)
        self.per_step_total: dict[str, int] = defaultdict(int)
        self.step_time: dict[str, float] = defaultdict(float)
        self._status_shown = False

    # ------------------------------------------------------------ output

    def _write(self, text: str) -> None:
        if self.interactive and self._status_shown:
            self.stream.write("\r\x1b[K")
            self._status_shown = False
        self.stream.write(text)
        if self.interactive:
            self._status()
        self.stream.flush()

    def _status(self) -> None:
        width = 100
        running = ", ".join(sorted(self.running)[:3]) + (" ..." if len(self.running) > 3 else "")
        fan = [f"{s} {self.per_step_done[s]}/{n}" for s, n in self.per_step_total.items()
               if n > 1 and self.per_step_done[s] < n]
        line = (f"{self.flow}/{self.run_id}: {self.done} done, {len(self.running)} running, {self.failed} failed"
                + (f" | {'; '.join(fan[:2])}" if fan else "") + (f" | {running}" if running else ""))
        self.stream.write("\x1b[2m" + line[:width] + "\x1b[0m")
        self._status_shown = True

    def info(self, text: str) -> None:
        if not self.quiet:
            self._write(text + "\n")

    def warn(self, text: str) -> None:
        self._write(text + "\n")

    # ------------------------------------------------------------ events

    def pathspec(self, step: str, task: str) -> str:
        return f"{self.flow}/{self.run_id}/{step}/{task}"

    def expect(self, step: str, count: int) -> None:
        self.per_step_total[step] += count

    def task_started(self, step: str, task: str, attempt: int) -> None:
        self.running[f"{step}/{task}"] = time.time()
        if not self.quiet and not self.interactive:
            retry = f" (retry {attempt})" if attempt else ""
            self._write(f"{self.pathspec(step, task)}: started{retry}\n")
        elif self.interactive:
            self._write("")

    def task_output(self, step: str, task: str, line: str) -> None:
        if not self.quiet:
            self._write(f"[{step}/{task}] {line}\n")

    def task_finished(self, step: str, task: str, ok: bool, cloned: bool = False) -> None:
        began = self.running.pop(f"{step}/{task}", None)
        seconds = time.time() - began if began else 0.0
        self.step_time[step] += seconds
        if ok:
            self.done += 1
            self.per_step_done[step] += 1
            if not self.quiet and not self.interactive:
                how = "reused from the original run" if cloned else f"done in {seconds:.2f} s"
                self._write(f"{self.pathspec(step, task)}: {how}\n")
            elif self.interactive:
                self._write("")
        else:
            self.failed += 1
            self._write(f"{self.pathspec(step, task)}: failed after {seconds:.2f} s\n")

    def task_retry(self, step: str, task: str, attempt: int, delay: float) -> None:
        self.running.pop(f"{step}/{task}", None)
        self._write(f"{self.pathspec(step, task)}: failed; retrying (attempt {attempt})"
                    + (f" in {delay:.0f} s" if delay else "") + "\n")

    def close(self) -> None:
        if self.interactive and self._status_shown:
            self.stream.write("\r\x1b[K")
            self._status_shown = False
            self.stream.flush()

    def summary(self, ok: bool, location: str, order: list[str], datastore_flag: str = "") -> None:
        self.close()
        elapsed = time.time() - self.started
        lines = [("Run succeeded" if ok else "Run failed") + f": {self.flow}/{self.run_id} in {elapsed:.2f} s, "
                 f"{self.done} task{'s' if self.done != 1 else ''} done"
                 + (f", {self.failed} failed" if self.failed else "")]
        if not self.quiet:
            for step in order:
                if step in self.per_step_done or step in self.step_time:
                    n = self.per_step_done.get(step, 0)
                    lines.append(f"  {step:<24} {n:>5} task{'s' if n != 1 else ' '}  {self.step_time.get(step, 0):7.2f} s")
        lines.append(f"  artifacts: {location}")
        lines.append(f"  inspect:   flowc show {self.flow}/{self.run_id}{datastore_flag}")
        self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()

    def interrupted(self, running: list[str], location: str, resume: str) -> None:
        """The end of a run stopped by Ctrl-C or SIGTERM: what was running, and how to go on."""
        self.close()
        elapsed = time.time() - self.started
        lines = [f"Run interrupted: {self.flow}/{self.run_id} after {elapsed:.2f} s, "
                 f"{self.done} task{'s' if self.done != 1 else ''} done"]
        lines.append("  running when interrupted (stopped): " + (", ".join(running) if running else "none"))
        lines.append(f"  artifacts: {location}")
        lines.append(f"  resume with: {resume}")
        self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()
