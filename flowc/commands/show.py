"""`flowc show FLOW/RUN[/STEP[/TASK]]`: status and artifacts."""

from __future__ import annotations

import argparse
import reprlib


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("pathspec", metavar="FLOW/RUN[/STEP[/TASK]]")
    p.add_argument("--datastore", help="folder or fsspec URL (default: .flowc)")


def main(args: argparse.Namespace) -> int:
    import sys

    from flowc.runtime.client import default_datastore, find_run

    parts = args.pathspec.split("/")
    try:
        run = find_run("/".join(parts[:2]) if len(parts) > 1 and not parts[0].isdigit() else parts[0],
                       args.datastore or default_datastore())
    except KeyError as exc:
        print(f"flowc show: {exc.args[0]}", file=sys.stderr)
        return 2
    rest = parts[2:] if len(parts) > 1 and not parts[0].isdigit() else parts[1:]
    short = reprlib.Repr()
    short.maxstring, short.maxother, short.maxlist, short.maxdict = 60, 60, 6, 6
    try:
        if not rest:
            print(f"{run.pathspec}: {run.status}")
            for step in run:
                tasks = step.tasks()
                ok = sum(1 for t in tasks if t.successful)
                print(f"  {step.id:<24} {ok}/{len(tasks)} task{'s' if len(tasks) != 1 else ''} done")
            return 0
        step = run[rest[0]]
        tasks = [step[rest[1]]] if len(rest) > 1 else step.tasks()
    except KeyError as exc:
        print(f"flowc show: {exc.args[0]}", file=sys.stderr)
        return 2
    for task in tasks:
        meta = task.metadata
        status = "done" if task.successful else "not done"
        extra = f", caught {meta['caught']}" if meta.get("caught") else ""
        print(f"{task.pathspec}: {status} (attempt {meta.get('attempt', '-')}{extra})")
        for name in task.artifacts:
            try:
                value = short.repr(getattr(task.data, name))
            except Exception as exc:  # an artifact whose class is not importable here
                value = f"<cannot load: {type(exc).__name__}>"
            print(f"  {name:<24} {value}")
    return 0
