"""`flowc ui`: browse the runs of a datastore in a web browser (read-only)."""

from __future__ import annotations

import argparse
import importlib.util
import sys

DEFAULT_PORT = 8747
EXTRA = ("starlette", "uvicorn")


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--datastore", help="folder or fsspec URL (default: $FLOWC_DATASTORE, else .flowc)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT}; 0 picks a free one)")


def main(args: argparse.Namespace) -> int:
    missing = [name for name in EXTRA if importlib.util.find_spec(name) is None]
    if missing:
        print(f"flowc ui: the web UI needs {' and '.join(missing)}, not installed here: "
              "pip install 'flowc[ui]'", file=sys.stderr)
        return 1
    if not 0 <= args.port <= 65535:
        print(f"flowc ui: --port must be between 0 and 65535, not {args.port}", file=sys.stderr)
        return 2
    from flowc.runtime.client import default_datastore
    from flowc.ui.serve import serve

    return serve(args.datastore or default_datastore(), args.host, args.port)
