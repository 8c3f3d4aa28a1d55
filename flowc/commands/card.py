"""`flowc card list|get|view FLOW/RUN/STEP[/TASK]`: the cards a task stored
(runtime/card_store.py), as Metaflow's `card` command, from any runner's
datastore."""

from __future__ import annotations

import argparse
import os
import sys


def configure(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    for name, text in (("list", "list a task's cards (type, id, attempt)"),
                       ("get", "write a card's HTML to a file, or to stdout"),
                       ("view", "write a card's HTML to a file and print its path (--open: show it in a browser)")):
        q = sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".", allow_abbrev=False)
        q.add_argument("pathspec", metavar="FLOW/RUN/STEP[/TASK]")
        q.add_argument("--datastore", help="folder or fsspec URL (default: .flowc)")
        q.add_argument("--id", dest="card_id", help="only the card with this id")
        q.add_argument("--type", dest="card_type", help="only cards of this type (default, blank)")
        q.add_argument("--attempt", type=int, help="the cards of this attempt (default: the last that has any)")
        if name == "get":
            q.add_argument("-o", "--output", help="where to write the HTML (default: stdout)")
        if name == "view":
            q.add_argument("--open", action="store_true", help="open the card in a web browser")
            q.add_argument("-o", "--output", help="the file to write (default: a file in the temporary folder)")


def _fail(message: str) -> int:
    print(f"flowc card: {message}", file=sys.stderr)
    return 2


def main(args: argparse.Namespace) -> int:
    from flowc.runtime import card_store
    from flowc.runtime.client import default_datastore, resolve
    from flowc.runtime.datastore import DatastoreError

    try:
        run, step, tasks = resolve(args.pathspec, args.datastore or default_datastore())
    except (KeyError, ValueError) as exc:  # no such flow, run, step or task
        return _fail(exc.args[0])
    except DatastoreError as exc:
        return _fail(str(exc))
    if step is None:
        return _fail("name a step: FLOW/RUN/STEP[/TASK]")
    found = []
    for task in tasks:
        refs = card_store.list_cards(run._ds, run.id, step.id, task.id, args.attempt)
        found += [r for r in refs if (args.card_id is None or r.id == args.card_id)
                  and (args.card_type is None or r.type == args.card_type)]
    which = "".join(f" {k} {v!r}" for k, v in (("with id", args.card_id), ("of type", args.card_type)) if v)
    if not found:
        return _fail(f"{args.pathspec} has no card{which}"
                     f"{'' if args.attempt is None else f' in attempt {args.attempt}'}: "
                     "cards are stored by steps with @card (see `flowc card list`)")
    if args.action == "list":
        rows = [(f"{run.flow_name}/{r.pathspec}", r.type, r.id or "-", str(r.attempt)) for r in found]
        widths = [max(len(row[i]) for row in rows + [("task", "type", "id", "attempt")]) for i in range(4)]
        for row in [("task", "type", "id", "attempt")] + rows:
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        return 0
    if len(found) > 1:
        listed = ", ".join(f"{r.step}/{r.task} {r.type} {r.id or '(no id)'}" for r in found)
        return _fail(f"{args.pathspec} has {len(found)} cards ({listed}): name the task, or pick one with --id or --type")
    ref = found[0]
    html = card_store.read_card_html(run._ds, ref)
    if html is None:
        return _fail(f"the {ref.type} card of {ref.pathspec} has its data but no HTML (its task is still writing it?)")
    if args.action == "get":
        if args.output in (None, "-"):
            sys.stdout.write(html)
            return 0
        return _write(args.output, html)
    path = args.output or os.path.join(_view_folder(), f"{run.flow_name}-{ref.run}-{ref.step}-{ref.task}-{ref.stem}.html")
    code = _write(path, html)
    if code == 0 and args.open:
        import webbrowser

        webbrowser.open("file://" + os.path.abspath(path))
    return code


def _view_folder() -> str:
    import tempfile

    folder = os.path.join(tempfile.gettempdir(), "flowc-cards")
    os.makedirs(folder, exist_ok=True)
    return folder


def _write(path: str, html: str) -> int:
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(html)
    except OSError as exc:
        return _fail(f"cannot write {path}: {exc.strerror or exc}")
    print(path)
    return 0
