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
    if args.attempt is not None and args.attempt < 0:
        print(f"flowc logs: --attempt counts from 0, not {args.attempt}", file=sys.stderr)
        return 2
    code = 0
    for task in tasks:
        attempts = task.attempts()
        last = task.last_attempt
        if args.attempt is not None and args.attempt not in attempts:
            valid = ", ".join(map(str, attempts)) or "none (it has not started)"
            print(f"flowc logs: {task.pathspec} has no attempt {args.attempt}; its attempts: {valid}",
                  file=sys.stderr)
            code = 2
            continue
        attempt = args.attempt if args.attempt is not None else (last if last is not None else 0)
        print(f"== {task.pathspec}: {attempt_words(attempt, attempts, last)}", file=sys.stderr if len(tasks) == 1
              else sys.stdout, flush=True)
        if not args.stderr:
            sys.stdout.write(task._log("stdout", attempt))
        if not args.stdout:
            err = task._log("stderr", attempt)
            if err:
                sys.stdout.write(err if args.stderr else f"-- stderr\n{err}")
        sys.stdout.flush()
    return code


def attempt_words(attempt: int, attempts: list[int], last: int | None) -> str:
    """``attempt 1 (2 of 2, the last)``: attempts count from 0, as in the datastore."""
    if not attempts:
        return f"attempt {attempt} (no logs stored)"
    nth = attempts.index(attempt) + 1 if attempt in attempts else "?"
    which = ", the last" if attempt == last else f"; the last is {last}, see --attempt" if last is not None else ""
    return f"attempt {attempt} ({nth} of {len(attempts)}{which})"
