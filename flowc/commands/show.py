"""`flowc show FLOW/RUN[/STEP[/TASK]]`: status and artifacts."""

from __future__ import annotations

import argparse
import reprlib


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("pathspec", metavar="FLOW/RUN[/STEP[/TASK]]")
    p.add_argument("--datastore", help="folder or fsspec URL (default: .flowc)")


def main(args: argparse.Namespace) -> int:
    import sys

    from flowc.runtime.client import default_datastore, resolve

    try:
        run, step, tasks = resolve(args.pathspec, args.datastore or default_datastore())
    except (KeyError, ValueError) as exc:  # no such run; not FLOW/RUN
        print(f"flowc show: {exc.args[0]}", file=sys.stderr)
        return 2
    short = reprlib.Repr()
    short.maxstring, short.maxother, short.maxlist, short.maxdict = 60, 60, 6, 6
    if step is None:
        print(f"{run.pathspec}: {run.status}")
        for step in run:
            steps_tasks = step.tasks()
            ok = sum(1 for t in steps_tasks if t.done)
            print(f"  {step.id:<24} {ok}/{len(steps_tasks)} task{'s' if len(steps_tasks) != 1 else ''} done")
        return 0
    for task in tasks:
        meta = task.metadata
        status = "done" if task.done else "not done"
        extra = f", caught {meta['caught']}" if meta.get("caught") else ""
        print(f"{task.pathspec}: {status} (attempt {meta.get('attempt', '-')}{extra})")
        for name in task.artifacts:
            try:
                value = short.repr(getattr(task.data, name))
            except Exception as exc:  # an artifact whose class is not importable here
                value = f"<cannot load: {type(exc).__name__}>"
            print(f"  {name:<24} {value}")
    return 0
