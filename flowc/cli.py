"""The `flowc` command line. Each subcommand lives in flowc/commands/<name>.py
with ``configure(parser)`` (argparse only, cheap to import) and ``main(args)``
(which imports what the command needs, so `flowc check` never loads a target).
Only the subcommand being run is imported and configured: a process pays for
one command, not fifteen.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

COMMANDS = {
    "check": "check the flows in files or folders and report every problem",
    "ir": "print a flow's intermediate representation as JSON",
    "graph": "draw a flow's DAG as text, Mermaid or Graphviz DOT",
    "compile": "compile a flow for an orchestrator",
    "config": "show the effective project configuration and where each value comes from",
    "publish": "copy the generated files to a folder or fsspec URL (or kubectl apply them)",
    "targets": "list the targets and the constructs each can express",
    "run": "run a flow on this machine",
    "resume": "resume a failed run, reusing what finished",
    "trigger": "publish an event locally and run the flows it starts, following chains",
    "runs": "list runs",
    "show": "show a run, step or task and its artifacts",
    "logs": "show a task's output",
    "card": "list, get or view the cards a task stored",
    "ui": "browse runs, their DAG, timeline, artifacts, logs and cards in a web browser",
    "package": "upload a flow's code package to a datastore",
    "environments": "list each step's environment; write their build contexts",
    "worker": "serve the tasks of a Step Functions state machine from its SQS queue",
}


def _module(name: str):
    return importlib.import_module(f"flowc.commands.{name.replace('-', '_')}")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with ``only``, every subcommand is listed but only
    that one is imported and configured (the one about to run)."""
    from flowc import __version__

    from flowc.runtime.help_format import LazyWidthFormatter

    parser = argparse.ArgumentParser(
        prog="flowc",
        allow_abbrev=False,
        formatter_class=LazyWidthFormatter,
        description="Compile Metaflow-style flows to Argo Workflows, Airflow, Prefect and Step Functions; run them locally.",
    )
    parser.add_argument("--version", action="version", version=f"flowc {__version__}")
    parser.add_argument("--debug", action="store_true", help="show internal tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, help_text in COMMANDS.items():
        if only is not None and name != only:
            sub.add_parser(name, help=help_text, add_help=False, formatter_class=LazyWidthFormatter)
            continue
        module = _module(name)
        p = sub.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".",
                           add_help=getattr(module, "ADD_HELP", True), allow_abbrev=False,
                           formatter_class=LazyWidthFormatter)
        module.configure(p)
        _PARSERS[name] = p
    return parser


_PARSERS: dict[str, argparse.ArgumentParser] = {}


def command_parser(name: str) -> argparse.ArgumentParser:
    """One subcommand's parser (for commands that print their own help)."""
    if name not in _PARSERS:
        build_parser()
    return _PARSERS[name]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else None)
    if command is not None and command not in COMMANDS:
        from flowc.commands._suggest import did_you_mean

        print(f"flowc: unknown command {command!r}{did_you_mean(command, COMMANDS)} "
              f"(commands: {', '.join(COMMANDS)})", file=sys.stderr)
        return 2
    try:
        args, extra = parser.parse_known_args(argv)
        if extra and not getattr(args, "accepts_extra", False):
            _unrecognized(args.command, extra)
    except SystemExit as exc:  # argparse's usage errors (exit 2), --help and --version (exit 0)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    args.extra = extra
    if _bad_datastore(args):
        return 2
    try:
        return int(_module(args.command).main(args) or 0)
    except SystemExit as exc:  # a command's own usage error
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        diagnostics = sys.modules.get("flowc.compiler.diagnostics")  # loaded if the flow was compiled
        if diagnostics is not None and isinstance(exc, diagnostics.CompileError):
            from flowc.commands._output import print_compile_error

            print_compile_error(exc)
            return 1
        config = sys.modules.get("flowc.config")  # a broken pyproject.toml is the user's to fix
        if config is not None and isinstance(exc, config.ConfigError):
            print(f"flowc {args.command}: {exc}", file=sys.stderr)
            return 2
        # an internal error: a bug in flowc, not in the flow
        if args.debug or os.environ.get("FLOWC_DEBUG"):
            raise
        print(f"flowc: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("  this is a bug in flowc; rerun with --debug for the traceback and report it", file=sys.stderr)
        return 3


def _bad_datastore(args: argparse.Namespace) -> bool:
    """A --datastore URL whose protocol fsspec does not know is a usage error, said before any work."""
    url = getattr(args, "datastore", None)
    if not isinstance(url, str):
        return False
    if "://" not in url:
        if os.path.exists(url) and not os.path.isdir(url):
            print(f"flowc {args.command}: --datastore {url} is a file; name a folder or an fsspec URL",
                  file=sys.stderr)
            return True
        return False
    protocol = url.split("://", 1)[0]
    import fsspec
    from fsspec.registry import known_implementations

    try:
        fsspec.get_filesystem_class(protocol)
    except (ValueError, ImportError) as exc:
        from flowc.commands._suggest import did_you_mean

        print(f"flowc {args.command}: --datastore {url}: {exc}{did_you_mean(protocol, known_implementations)}",
              file=sys.stderr)
        return True
    return False


def _unrecognized(command: str, extra: list[str]) -> None:
    from flowc.commands._suggest import did_you_mean

    known = [o for a in _PARSERS[command]._actions for o in a.option_strings]
    word = extra[0].split("=", 1)[0]
    hint = did_you_mean(word, known) if word.startswith("-") else ""
    print(f"flowc {command}: unrecognized argument {extra[0]!r}{hint} (see flowc {command} --help)", file=sys.stderr)
    raise SystemExit(2)


# Commands that read, write and exit. Their process runs no cyclic garbage
# collection and frees nothing on the way out: what they allocate (a libcst
# tree, the IR, the output) makes no cycles worth reclaiming, yet every
# collection walks all of it, more often the larger the flow, and freeing it
# object by object at exit costs as much again (together a third of checking
# a 10,000-step flow). Only `flowc` as a process does this: main() called in
# a long-lived process (tests, an editor) leaves the collector alone. They
# close every file they write themselves and register no exit handlers.
ONE_SHOT = frozenset({"check", "ir", "graph", "compile", "targets", "config", "environments"})


def run() -> None:
    from flowc.compiler import allocator, dataclass_code

    allocator.allow()
    dataclass_code.install()
    command = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    if command not in ONE_SHOT:
        try:
            code = main()
        finally:
            dataclass_code.save()
        sys.exit(code)
    import gc

    gc.disable()
    code = main()
    dataclass_code.save()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass  # a reader that went away (`flowc ir FLOW.py | head`) is not the command's failure
    os._exit(code if isinstance(code, int) else 1)


if __name__ == "__main__":
    run()
