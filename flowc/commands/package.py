"""`flowc package FLOW.py --datastore URL`: upload the flow's code package."""

from __future__ import annotations

import argparse
import sys


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FLOW.py")
    p.add_argument("--flow", help="which flow, when the file defines several")
    p.add_argument("--datastore", required=True, help="where tasks will fetch it: a folder or an fsspec URL")
    p.add_argument("--dry-run", action="store_true", help="print the URL and the files, upload nothing")


def main(args: argparse.Namespace) -> int:
    from flowc.compiler import load_flow
    from flowc.packaging import code_package, package_url
    from flowc.runtime.datastore import DatastoreError, FlowDatastore

    flow = load_flow(args.file, args.flow)
    data, sha = code_package(flow, args.file)
    url = package_url(args.datastore, flow, sha)
    files = [flow.source.path.rsplit("/", 1)[-1], f"{flow.name}.ir.json", *flow.source.modules]
    if args.dry_run:
        print(url)
        print(f"  {len(data)} bytes: {', '.join(files)}", file=sys.stderr)
        return 0
    ds = FlowDatastore(args.datastore, flow.name)
    try:
        ds.check()
        key = ds.package_key(sha)
        if ds.storage.exists(key):
            print(url)
            print(f"  already there ({len(data)} bytes)", file=sys.stderr)
            return 0
        ds.storage.write_atomic(key, data)
    except DatastoreError as exc:
        print(f"flowc package: {exc}", file=sys.stderr)
        return 2
    print(url)
    print(f"  uploaded {len(data)} bytes: {', '.join(files)}", file=sys.stderr)
    return 0
