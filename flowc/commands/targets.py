"""`flowc targets`: the targets and what each can express."""

from __future__ import annotations

import argparse
import sys


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", help="show one target's options")


def main(args: argparse.Namespace) -> int:
    from flowc.targets import registry
    from flowc.targets.base import CONSTRUCTS

    names = [args.name] if args.name else registry.names()
    try:
        classes = [registry.get(n) for n in names]
    except registry.UnknownTarget as exc:
        print(f"flowc targets: {exc}", file=sys.stderr)
        return 2
    notes: list[str] = []
    table: dict[str, list[str]] = {}
    for construct in CONSTRUCTS:
        row = []
        for c in classes:
            cap = c.CAPABILITIES.get(construct)
            mark = "yes" if cap and cap.supported else "no"
            if cap and cap.note:
                notes.append(f"[{len(notes) + 1}] {c.name} {construct}: {cap.note}")
                mark += f" [{len(notes)}]"
            row.append(mark)
        table[construct] = row
    width = max(len(c) for c in CONSTRUCTS) + 2
    cols = [max([len(c.name)] + [len(row[i]) for row in table.values()]) + 2 for i, c in enumerate(classes)]
    print("construct".ljust(width) + "".join(c.name.ljust(w) for c, w in zip(classes, cols)).rstrip())
    for construct, row in table.items():
        print((construct.ljust(width) + "".join(m.ljust(w) for m, w in zip(row, cols))).rstrip())
    if notes:
        print()
        print("\n".join(notes))
    if args.name:
        cls = classes[0]
        print(f"\noptions of {cls.name} (flags --name, or [tool.flowc.{cls.name}] in pyproject.toml):")
        for opt in cls.all_options().values():
            print(f"  {opt.name:<22} {opt.help} (default: {opt.default!r})")
    return 0
