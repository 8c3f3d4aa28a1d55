"""glibc's fast bins turned off before a large parse (compiler/allocator.py):
only in flowc's own process, once, and only for a large file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from flowc.compiler import allocator
from tests.conftest import REPO


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """mallopt as the C library would be asked (recorded, not made: this is the test's own process)."""
    import ctypes

    made: list[tuple[int, int]] = []

    class Libc:
        def mallopt(self, option: int, value: int) -> int:
            made.append((option, value))
            return 1

    monkeypatch.setattr(ctypes, "CDLL", lambda name: Libc())
    monkeypatch.setattr(allocator, "_state", {"allowed": False, "done": False})
    return made


def test_a_process_not_flowcs_own_keeps_its_allocator(calls: list) -> None:
    allocator.before_parse(10 * allocator.LARGE)
    assert calls == []


def test_flowcs_own_process_turns_fast_bins_off_once_for_a_large_file(calls: list) -> None:
    allocator.allow()
    allocator.before_parse(allocator.LARGE - 1)
    assert calls == []
    allocator.before_parse(allocator.LARGE)
    allocator.before_parse(2 * allocator.LARGE)
    assert calls == [(allocator.M_MXFAST, 0)]


def test_the_parse_of_a_large_file_asks_for_it(calls: list) -> None:
    from flowc.compiler.parse import parse_text

    allocator.allow()
    text = "x = 1\n" * (allocator.LARGE // 6 + 1)
    parsed, error = parse_text(text, "big.py")
    assert error is None and parsed is not None
    assert calls == [(allocator.M_MXFAST, 0)]


def test_the_cli_process_allows_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from flowc import cli

    monkeypatch.setattr(allocator, "_state", {"allowed": False, "done": False})
    monkeypatch.setattr(cli, "main", lambda argv=None: 0)
    monkeypatch.setattr(sys, "argv", ["flowc", "targets"])

    def leave(code: int) -> None:
        raise SystemExit(code)

    monkeypatch.setattr(os, "_exit", leave)
    import gc

    try:
        with pytest.raises(SystemExit):
            cli.run()
    finally:  # what run() does to its process, undone for this one
        from flowc.compiler import dataclass_code

        dataclass_code.uninstall()
        gc.enable()
    assert allocator._state["allowed"]


def test_the_real_c_library_takes_it(tmp_path) -> None:
    """On this machine's C library, in a process of its own: the parse after it gives the same tree."""
    script = ("import sys\nfrom flowc.compiler import allocator, parse\nallocator.allow()\n"
              "text = 'def f(a, b):\\n    return (a + b) * [a, b]\\n' * 8000\n"
              "plain = parse._parse_module(text).code\nparsed, error = parse.parse_text(text, 'big.py')\n"
              "assert allocator._state['done'] and error is None and parsed.module.code == plain == text\n"
              "print('ok')\n")
    r = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
