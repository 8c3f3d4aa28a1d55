"""Compiling never imports or runs the user's module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HOSTILE = '''
import socket
open({marker!r}, "w").write("imported")
socket.create_connection(("192.0.2.1", 9), timeout=0.5)
raise SystemExit("this module must never be imported by flowc")

from flowc import FlowSpec, step


class SideEffectFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_check_ir_and_compile_do_not_import_the_module(tmp_path: Path) -> None:
    marker = tmp_path / "imported.txt"
    flow = tmp_path / "side_effect_flow.py"
    flow.write_text(HOSTILE.format(marker=str(marker)))
    probe = (
        "import sys\n"
        "from flowc.compiler import load_flow, analyze_file, ir\n"
        f"a = analyze_file({str(flow)!r})\n"
        "assert a.ok, [d.message for d in a.diagnostics]\n"
        f"text = ir.dump(load_flow({str(flow)!r}))\n"
        "assert 'side_effect_flow' not in sys.modules\n"
        "print(len(text))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert not marker.exists(), "the module was executed"
    cli = subprocess.run([sys.executable, "-m", "flowc", "check", str(flow)], capture_output=True, text=True,
                         cwd=tmp_path, timeout=60)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert not marker.exists(), "the module was executed"
