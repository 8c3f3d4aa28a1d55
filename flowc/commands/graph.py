"""`flowc graph FLOW.py`: draw the DAG (text, mermaid, dot or an SVG picture)."""

from __future__ import annotations

import argparse
import sys


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FLOW.py")
    p.add_argument("--flow", help="which flow, when the file defines several")
    p.add_argument("--format", choices=["text", "mermaid", "dot", "svg"], default="text",
                   help="svg: a standalone picture, as cards and `flowc ui` draw it")
    p.add_argument("-o", "--output", help="write to this file instead of stdout")


def main(args: argparse.Namespace) -> int:
    from flowc.compiler import load_flow
    from flowc.compiler.draw import FORMATS

    text = FORMATS[args.format](load_flow(args.file, args.flow))
    if not args.output:
        sys.stdout.write(text)
        return 0
    try:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        print(f"flowc graph: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}", file=sys.stderr)
    return 0
