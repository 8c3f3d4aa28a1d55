"""`flowc graph FLOW.py`: draw the DAG (text, mermaid or dot)."""

from __future__ import annotations

import argparse
import sys


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FLOW.py")
    p.add_argument("--flow", help="which flow, when the file defines several")
    p.add_argument("--format", choices=["text", "mermaid", "dot"], default="text")


def main(args: argparse.Namespace) -> int:
    from flowc.compiler import load_flow
    from flowc.compiler.draw import FORMATS

    sys.stdout.write(FORMATS[args.format](load_flow(args.file, args.flow)))
    return 0
