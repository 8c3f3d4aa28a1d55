"""`flowc runs [FLOW]`: the runs in the datastore, newest first."""

from __future__ import annotations

import argparse
import time


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("flow", nargs="?", help="one flow (default: all)")
    p.add_argument("--datastore", help="folder or fsspec URL (default: .flowc)")
    p.add_argument("-n", "--limit", type=int, default=20)


def main(args: argparse.Namespace) -> int:
    from flowc.runtime.client import Flow, default_datastore
    from flowc.runtime.storage import open_storage

    datastore = args.datastore or default_datastore()
    flows = [args.flow] if args.flow else open_storage(datastore).list("")
    rows = []
    for name in flows:
        for run in list(Flow(name, datastore))[: args.limit]:
            started = run.created_at
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)) if started else "-"
            rows.append((run.pathspec, run.status, when))
    if not rows:
        print(f"no runs in {datastore}")
        return 0
    width = max(len(r[0]) for r in rows) + 2
    for pathspec, status, when in rows:
        print(f"{pathspec:<{width}}{status:<12}{when}")
    return 0
