"""What a supervised step writes just before it exits is shown, not only kept
(runtime/supervise.py): a step that fails fast (a missing required parameter)
must still say why on the task's own output, which an engine's log shows."""

from __future__ import annotations

import os
import time

from flowc.runtime import supervise


def test_output_of_a_child_that_exited_before_the_first_look_is_shown(capfd, monkeypatch):
    real = os.waitpid

    def late_waitpid(pid, options):  # the supervisor looks only once the child has exited (a loaded machine)
        time.sleep(0.2)
        return real(pid, options)

    monkeypatch.setattr(supervise.os, "waitpid", late_waitpid)

    def child() -> int:
        os.write(2, b"flowc: parameter 'dataset' is required\n")
        return 2

    out = supervise.supervise(child, None, tee=True)
    assert out.code == 2 and b"'dataset' is required" in out.stderr  # kept
    assert "'dataset' is required" in capfd.readouterr().err  # and shown
