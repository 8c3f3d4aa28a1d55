"""`flowc package FLOW.py --datastore URL`: upload the flow's code package."""

from __future__ import annotations

import argparse
import sys


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FLOW.py")
    p.add_argument("--flow", help="which flow, when the file defines several")
    p.add_argument("--datastore", required=True, help="where tasks will fetch it: a folder or an fsspec URL")
    p.add_argument("--dry-run", action="store_true", help="print the URL and the files, upload nothing")
    add_config_options(p)


def add_config_options(p: argparse.ArgumentParser) -> None:
    """--config NAME PATH / --config-value NAME JSON, as Metaflow spells them;
    `flowc compile` and `flowc package` must be given the same ones."""
    p.add_argument("--config", nargs=2, action="append", default=[], metavar=("NAME", "PATH"),
                   help="read the flow's config NAME from the file PATH instead of its default")
    p.add_argument("--config-value", nargs=2, action="append", default=[], metavar=("NAME", "JSON"),
                   help="give the flow's config NAME as a JSON value")


def load_with_configs(args: argparse.Namespace, flow_file: str, prog: str):
    """The flow's IR, compiled with the command line's config overrides."""
    from flowc.commands.run import config_overrides
    from flowc.compiler import load_flow

    flow = load_flow(flow_file, args.flow)
    if not args.config and not args.config_value:
        return flow
    overrides = config_overrides(flow, args, prog)
    return load_flow(flow_file, args.flow, overrides)


def main(args: argparse.Namespace) -> int:
    from flowc.packaging import code_package, package_extras, package_url
    from flowc.runtime.datastore import DatastoreError, FlowDatastore

    flow = load_with_configs(args, args.file, "flowc package")
    data, sha = code_package(flow, args.file)
    url = package_url(args.datastore, flow, sha)
    files = [flow.source.path.rsplit("/", 1)[-1], f"{flow.name}.ir.json", *package_extras(flow)]
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
