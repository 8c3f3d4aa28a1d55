"""``python -m flowc.runtime step ...``: run one task (docs/runtime-contract.md)."""

from __future__ import annotations

import argparse
import json
import sys

from .help_format import LazyWidthFormatter

_PARSER: argparse.ArgumentParser | None = None


def parser() -> argparse.ArgumentParser:
    """Built once per process (a forked task reuses its parent's)."""
    global _PARSER
    if _PARSER is None:
        _PARSER = _build_parser()
    return _PARSER


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m flowc.runtime", description="Run one task of a flowc flow.",
                                allow_abbrev=False, formatter_class=LazyWidthFormatter)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    s = sub.add_parser("step", help="run one task", description="Run one task of a flow: the command every target runs.",
                       allow_abbrev=False, formatter_class=LazyWidthFormatter)
    s.add_argument("--flow", required=True, help="the flow module (a path inside the code package with --package)")
    s.add_argument("--ir", required=True, help="the flow's IR JSON (flowc ir)")
    s.add_argument("--step", required=True)
    s.add_argument("--run-id", required=True)
    s.add_argument("--index", required=True, help="foreach index path: 0 outside any foreach, else I[.J...]")
    s.add_argument("--attempt", type=_attempt, default=0,
                   help="0 for the first attempt; auto: one past the last attempt the datastore holds "
                        "(an engine that retries a task without telling it which try it is)")
    s.add_argument("--first-attempt", type=int, default=0,
                   help="the attempt this series of tries began with: a task that finished before it "
                        "runs again (an orchestrator's explicit rerun); one that finished since is not redone")
    s.add_argument("--datastore", required=True, help="fsspec URL or local folder")
    s.add_argument("--package", help="URL of the code package holding --flow and --ir")
    s.add_argument("--iteration", type=int, default=0, help="visit of a recursive switch step")
    s.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="a parameter (start step)")
    s.add_argument("--params", help="parameters as one JSON object (start step)")
    s.add_argument("--trigger", help="the events that started the run, as JSON: one event or a list "
                                     "(start step; docs/runtime-contract.md)")
    s.add_argument("--output", help="write OUT.json here")
    s.add_argument("--output-value", help="write here, alone, the value an engine branches on: a foreach "
                                          "split's children's index paths as a JSON array of texts, a switch's "
                                          "chosen step")
    s.add_argument("--origin-run-id", help="the run a resumed run continues")
    s.add_argument("--no-capture", action="store_true", help="do not keep stdout/stderr in the datastore")
    s.add_argument("--output-only", action="store_true",
                   help="run nothing: write OUT.json of the finished task, or fail if it has not finished "
                        "(for an orchestrator reading the result of a task that ran elsewhere)")
    s.add_argument("--environment", help="bootstrap: build this environment (JSON: id, manager, python, packages) "
                                         "and run the task in it")
    s.add_argument("--env-cache", help="where bootstrap environments are cached (a volume; default: FLOWC_ENV_CACHE)")
    return p


def _attempt(text: str) -> int:
    """An attempt number, or "auto" (-1: the runtime finds it in the datastore)."""
    return -1 if text == "auto" else int(text)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    from .secret_files import SecretFolderError, load as load_secret_folders, load_json as load_secret_json

    try:  # before any user code: secrets an engine mounted as folders, or gave as JSON, become variables
        load_secret_folders()
        load_secret_json()
    except (OSError, SecretFolderError) as exc:
        print(f"flowc: {exc}", file=sys.stderr)
        return 2
    if args.environment:
        return bootstrap(args, argv)
    from .params import ParameterError, parse_pairs
    from .task import TaskSpec, run

    try:
        given = json.loads(args.params) if args.params else {}
        if not isinstance(given, dict):
            raise ParameterError("--params must be a JSON object")
        given.update(parse_pairs(args.param))
        trigger = None
        if args.trigger and args.trigger.strip():
            from .events import normalize

            trigger = normalize(json.loads(args.trigger)) or None  # no event: not a triggered run
    except (ValueError, ParameterError) as exc:
        print(f"flowc: {exc}", file=sys.stderr)
        return 2
    spec = TaskSpec(flow=args.flow, ir=args.ir, step=args.step, run_id=args.run_id, index=args.index,
                    attempt=args.attempt, datastore=args.datastore, iteration=args.iteration, package=args.package,
                    params=given, output=args.output, output_value=args.output_value,
                    origin_run_id=args.origin_run_id,
                    first_attempt=args.first_attempt, trigger=trigger)
    if args.output_only:
        from .task import output_only

        return output_only(spec)
    return run(spec, capture=not args.no_capture)


def bootstrap(args: argparse.Namespace, argv: list[str]) -> int:
    """Build (or reuse) the step's environment, then run the same task in it."""
    import os

    from .environment import EnvironmentError_, build, step_process_env

    try:
        spec = json.loads(args.environment)
        python = build(spec, args.env_cache, log=lambda m: print(m, file=sys.stderr))
    except (ValueError, KeyError, EnvironmentError_) as exc:
        print(f"flowc: cannot prepare the step's environment: {exc}", file=sys.stderr)
        return 1
    rest, skip = [], False
    for item in argv:
        if skip:
            skip = False
            continue
        if item in ("--environment", "--env-cache"):
            skip = True
            continue
        if item.startswith(("--environment=", "--env-cache=")):
            continue
        rest.append(item)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(python, [python, "-m", "flowc.runtime", *rest], step_process_env(dict(os.environ)))
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
