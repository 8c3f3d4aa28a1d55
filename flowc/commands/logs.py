"""`flowc logs FLOW/RUN/STEP[/TASK]`: a task's stdout and stderr, from any runner."""

from __future__ import annotations

import argparse
import sys


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("pathspec", metavar="FLOW/RUN/STEP[/TASK]")
    p.add_argument("--datastore", help="folder or fsspec URL (default: .flowc)")
    p.add_argument("--attempt", type=int, help="which attempt (default: the last)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--stdout", action="store_true", help="only stdout")
    which.add_argument("--stderr", action="store_true", help="only stderr")


def main(args: argparse.Namespace) -> int:
    from flowc.runtime.client import default_datastore, resolve

    try:
        _, step, tasks = resolve(args.pathspec, args.datastore or default_datastore())
    except (KeyError, ValueError) as exc:  # no such run; not FLOW/RUN
        print(f"flowc logs: {exc.args[0]}", file=sys.stderr)
        return 2
    if step is None:
        print("flowc logs: name a step: FLOW/RUN/STEP[/TASK]", file=sys.stderr)
        return 2
    for task in tasks:
        attempts = task.attempts()
        attempt = args.attempt if args.attempt is not None else (attempts[-1] if attempts else 0)
        if len(tasks) > 1:
            print(f"== {task.pathspec} (attempt {attempt})")
        if not args.stderr:
            sys.stdout.write(task._log("stdout", attempt))
        if not args.stdout:
            err = task._log("stderr", attempt)
            if err:
                sys.stdout.write(err if args.stderr else f"-- stderr\n{err}")
    return 0
