"""`flowc targets`: the targets and what each can express."""

from __future__ import annotations

import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", help="show one target's options")


def main(args: argparse.Namespace) -> int:
    from flowc.targets import registry
    from flowc.targets.base import CONSTRUCTS

    names = [args.name] if args.name else registry.names()
    classes = [registry.get(n) for n in names]
    width = max(len(c) for c in CONSTRUCTS) + 2
    cols = [max(len(c.name), 5) + 2 for c in classes]
    print("construct".ljust(width) + "".join(c.name.ljust(w) for c, w in zip(classes, cols)))
    notes = []
    for construct in CONSTRUCTS:
        row = construct.ljust(width)
        for c, w in zip(classes, cols):
            cap = c.CAPABILITIES.get(construct)
            mark = "yes" if cap and cap.supported else "no"
            if cap and cap.note:
                notes.append(f"[{len(notes) + 1}] {c.name} {construct}: {cap.note}")
                mark += f" [{len(notes)}]"
            row += mark.ljust(w)
        print(row)
    if notes:
        print()
        print("\n".join(notes))
    if args.name:
        cls = classes[0]
        print(f"\noptions of {cls.name} (flags --name, or [tool.flowc.{cls.name}] in pyproject.toml):")
        for opt in cls.all_options().values():
            print(f"  {opt.name:<22} {opt.help} (default: {opt.default!r})")
    return 0
