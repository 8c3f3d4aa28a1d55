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
        status = run.status
        print(f"{run.pathspec}: {STATUS_WORDS.get(status, status)}")
        if run.interrupted_tasks:
            print(f"  running when interrupted: {', '.join(run.interrupted_tasks)}")
        failed = []
        for step in run:
            steps_tasks = step.tasks()
            ok = sum(1 for t in steps_tasks if t.done)
            bad = [t for t in steps_tasks if t.failed]
            failed += bad
            stopped = sum(1 for t in bad if _interrupted(t))
            print(f"  {step.id:<24} {ok}/{len(steps_tasks)} task{'s' if len(steps_tasks) != 1 else ''} done"
                  + (f", {len(bad) - stopped} failed" if len(bad) > stopped else "")
                  + (f", {stopped} interrupted" if stopped else ""))
        for task in failed:
            show_failure(task)
        return 0
    for task in tasks:
        meta = task.metadata
        last = task.last_attempt
        if task.done:
            status = "done"
        elif task.failed:
            status = "interrupted" if _interrupted(task) else "failed"
        else:
            status = "not done" if last is None else "not done (running, or stopped before recording)"
        extra = f", caught {meta['caught']}" if meta.get("caught") else ""
        tries = len(task.attempts())
        attempt = "-" if last is None else f"{last}" + (f" ({task.attempts().index(last) + 1} of {tries})" if tries > 1 else "")
        print(f"{task.pathspec}: {status} (attempt {attempt}{extra})")
        if not task.done:
            show_failure(task, header=False)
        for name in task.artifacts:
            try:
                value = short.repr(getattr(task.data, name))
            except Exception as exc:  # an artifact whose class is not importable here
                value = f"<cannot load: {type(exc).__name__}>"
            print(f"  {name:<24} {value}")
    return 0


STATUS_WORDS = {"succeeded": "done"}
TAIL_LINES = 20


def show_failure(task, header: bool = True) -> None:
    """A failed task's error, where it is stored, and its last log lines (last attempt)."""
    last = task.last_attempt
    if last is None:
        return
    record = task.failure(last)
    if header:
        print(f"\n{task.pathspec}: {'interrupted' if _interrupted(task) else 'failed'} (attempt {last})")
    if record:
        print(f"  error:   {record.get('error', '?')}")
        print(f"  record:  {task.failure_location(last)}")
    tail = task.log_tail(TAIL_LINES, last)
    if tail:
        print(f"  last {len(tail)} log line{'s' if len(tail) != 1 else ''} (attempt {last}; "
              f"all: flowc logs {task.pathspec}):")
        for line in tail:
            print(f"    {line}")


def _interrupted(task) -> bool:
    """Its last attempt was stopped by Ctrl-C or SIGTERM (runtime/task.py's TaskInterrupted)."""
    record = task.failure(task.last_attempt) if task.last_attempt is not None else None
    return bool(record) and str(record.get("error", "")).startswith("TaskInterrupted")
