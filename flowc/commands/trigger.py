"""`flowc trigger EVENT [--payload JSON] [PATH ...]`: try event chains on this machine.

The event goes to the local event log; every flow under PATH (default: the
current folder) whose @trigger / @trigger_on_finish events have all arrived
starts with `flowc run --trigger ...` (parameters mapped from the payload),
and what those runs publish, their end events included, may start more
(flowc/local_events.py). It stops when nothing more starts, or at
--max-runs, which stops a flow that triggers itself.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("event", metavar="EVENT", help="the event's name, e.g. data_updated")
    p.add_argument("paths", metavar="PATH", nargs="*", help="flow files or folders to start (default: .)")
    p.add_argument("--payload", default="{}", metavar="JSON", help="the event's payload, a JSON object")
    p.add_argument("--datastore", default=None, help="folder holding the runs and the event log "
                                                     "(default: .flowc, or $FLOWC_DATASTORE)")
    p.add_argument("--max-runs", type=int, default=50, help="start at most this many runs (default: 50)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only what starts and how it ends")
    p.set_defaults(accepts_extra=True)  # paths after the options (argparse gives them back as extra)


def main(args: argparse.Namespace) -> int:
    from flowc.compiler import analyze_file
    from flowc.compiler.discover import flow_files
    from flowc.local_events import LocalEventsError, append, consumed, mark_consumed, read_log, ready
    from flowc.runtime.client import default_datastore
    from flowc.runtime.events import EventError, make_event

    unknown = [x for x in args.extra if x.startswith("-")]
    if unknown:
        print(f"flowc trigger: unrecognized argument {unknown[0]!r} (see flowc trigger --help)", file=sys.stderr)
        return 2
    paths = list(args.paths) + list(args.extra) or ["."]
    datastore = args.datastore or default_datastore()
    try:
        payload = json.loads(args.payload)
        if not isinstance(payload, dict):
            raise ValueError("it must be a JSON object")
        event = make_event(args.event, payload)
    except (ValueError, EventError) as exc:
        print(f"flowc trigger: --payload {args.payload!r}: {exc}", file=sys.stderr)
        return 2
    flows = []
    for path in flow_files(paths):
        analysis = analyze_file(path)
        for flow in analysis.flows:
            if analysis.ok:
                flows.append((str(path), flow))
            else:
                print(f"flowc trigger: skipping {path}: it has errors (flowc check {path})", file=sys.stderr)
    try:
        before = len(read_log(datastore))
        seen = consumed(datastore)
        for path, flow in flows:  # a flow not seen before waits for events from now on
            if _key(path, flow) not in seen:
                mark_consumed(datastore, _key(path, flow), before)
        append(datastore, event)
    except (LocalEventsError, OSError) as exc:
        print(f"flowc trigger: {exc}", file=sys.stderr)
        return 2
    print(f"event {event['name']} published ({len(flows)} flow(s) under {', '.join(paths)})")
    started, failed = 0, 0
    while True:
        log, state = read_log(datastore), consumed(datastore)
        batch = [(p, f, evs) for p, f in flows if (evs := ready(f, _key(p, f), log, state))]
        if not batch:
            break
        for path, flow, events in batch:
            if started >= args.max_runs:
                print(f"flowc trigger: stopped after {started} runs (--max-runs); "
                      "do the flows trigger one another in a loop?", file=sys.stderr)
                return 1
            mark_consumed(datastore, _key(path, flow), len(log))
            started += 1
            names = ", ".join(e["name"] for e in events)
            print(f"starting {flow.name} ({path}), triggered by {names}", flush=True)
            command = [sys.executable, "-m", "flowc", "run", path, "--flow", flow.name, "--datastore", datastore]
            command += [x for e in events for x in ("--trigger", json.dumps(e))]
            if args.quiet:
                command.append("--quiet")
            code = subprocess.call(command)
            if code != 0:
                failed += 1
                print(f"flowc trigger: {flow.name} failed (exit {code})", file=sys.stderr)
    print(f"{started} run(s) started, {failed} failed")
    return 1 if failed else 0


def _key(path: str, flow) -> str:
    return f"{os.path.abspath(path)}:{flow.name}"
