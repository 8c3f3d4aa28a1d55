"""`flowc ir FLOW.py`: the flow's IR as canonical JSON."""

from __future__ import annotations

import argparse
import sys


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FLOW.py")
    p.add_argument("--flow", help="which flow, when the file defines several")
    p.add_argument("-o", "--output", help="write to this file instead of standard output")


def main(args: argparse.Namespace) -> int:
    from flowc.compiler import ir, load_flow

    text = ir.dump(load_flow(args.file, args.flow))
    if args.output:
        from flowc.commands._write import write_if_changed

        write_if_changed(args.output, text.encode("utf-8"))
    else:
        sys.stdout.write(text)
    return 0
