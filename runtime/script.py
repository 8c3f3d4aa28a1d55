"""`python flow.py run ...`: a flow module run as a script hands itself to flowc's CLI."""

from __future__ import annotations

import sys

_COMMANDS = {"run": "run", "resume": "resume", "check": "check", "show": "graph"}


def main_for_script(flow_class: type) -> None:
    module = sys.modules.get(flow_class.__module__)
    if module is None or module.__name__ != "__main__" or getattr(sys, "_flowc_in_task", False):
        return  # imported (by the runtime, a test, a notebook): do nothing
    path = getattr(module, "__file__", None)
    argv = sys.argv[1:]
    command = argv[0] if argv else "run"
    if command not in _COMMANDS:
        print(f"flowc: unknown command {command!r}; use one of: {', '.join(_COMMANDS)}", file=sys.stderr)
        sys.exit(2)
    from flowc.cli import main

    rest = argv[1:]
    if command == "resume":
        sys.exit(main(["resume", *rest, "--flow-file", path]))
    sys.exit(main([_COMMANDS[command], path, "--flow", flow_class.__name__, *rest]))
