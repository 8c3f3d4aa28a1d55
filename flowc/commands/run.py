"""`flowc run FLOW.py [--PARAM VALUE ...]`: run a whole flow on this machine."""

from __future__ import annotations

import argparse
import json
import os
import sys


ADD_HELP = False  # `flowc run FLOW.py --help` lists the flow's own parameters


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FLOW.py", nargs="?")
    add_run_options(p)
    p.set_defaults(accepts_extra=True)


def add_run_options(p: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    """The options in flowc.compiler.cli_options (which `flowc check` reads too)."""
    from flowc.compiler.cli_options import RUN_OPTIONS

    for flags, kwargs in RUN_OPTIONS.items():
        if flags[-1] in skip:
            continue
        if flags[-1] == "--max-workers":
            kwargs = {**kwargs, "default": None, "type": _positive_int}  # runtime/scheduler.default_workers
        p.add_argument(*flags, **kwargs)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def param_parser(flow, prog: str) -> argparse.ArgumentParser:
    from flowc.runtime.help_format import LazyWidthFormatter

    pp = argparse.ArgumentParser(prog=prog, add_help=False, description=flow.docstring, allow_abbrev=False,
                                 formatter_class=LazyWidthFormatter)
    group = pp.add_argument_group(f"parameters of {flow.name}")
    for param in flow.parameters:
        default = "required" if param.required else f"default: {param.default!r}"
        split = f", split on {param.separator!r}" if param.separator else ""
        flag = {}
        if param.is_flag:  # `--name` alone flips the default, as click's flags do
            flag = {"nargs": "?", "const": "false" if param.default is True else "true"}
        group.add_argument(f"--{param.name}", dest=param.name, metavar=param.type.upper(),
                           help=f"{param.help or ''} ({param.type}{split}, {default})".strip(), **flag)
    for inc in flow.includes:
        default = "required" if inc.required else f"default: {inc.path}"
        group.add_argument(f"--{inc.name}", dest=inc.name, metavar="PATH",
                           help=f"{inc.help or ''} (a file to include, {default})".strip())
    if flow.configs:
        names = ", ".join(c.name for c in flow.configs)
        configs = pp.add_argument_group(f"configs of {flow.name} ({names})")
        configs.add_argument("--config", nargs=2, action="append", default=[], metavar=("NAME", "PATH"),
                             help="read config NAME from the file PATH instead of its default")
        configs.add_argument("--config-value", nargs=2, action="append", default=[], metavar=("NAME", "JSON"),
                             help="give config NAME as a JSON value")
    return pp


def config_overrides(flow, given: argparse.Namespace, prog: str):
    """The --config / --config-value overrides (compiler/configs.py), checked
    as Metaflow checks them; None when there are none. Exit 2 on a mistake."""
    if not flow.configs:  # no such options (a parameter may be named config)
        return None
    files = dict(getattr(given, "config", None) or [])
    values = dict(getattr(given, "config_value", None) or [])
    if not files and not values:
        return None
    known = {c.name for c in flow.configs}
    for name in list(files) + list(values):
        if name not in known:
            from flowc.commands._suggest import did_you_mean

            print(f"{prog}: {flow.name} has no config {name!r} (configs: {', '.join(sorted(known))})"
                  f"{did_you_mean(name, sorted(known))}", file=sys.stderr)
            raise SystemExit(2)
    both = sorted(set(files) & set(values))
    if both:
        print(f"{prog}: config {both[0]!r} is given both as a file (--config) and as a value (--config-value)",
              file=sys.stderr)
        raise SystemExit(2)
    from flowc.compiler.configs import ConfigInputs  # loads the compiler: only when there are overrides

    return ConfigInputs(files=files, values=values)


def included_paths(flow, values: dict, prog: str) -> None:
    """`--NAME PATH` of an IncludeFile: made absolute (tasks run elsewhere); exit 2 if unreadable."""
    for inc in flow.includes:
        if inc.name not in values and inc.path is None and inc.required:
            print(f"{prog}: included file '{inc.name}' is required: give --{inc.name} PATH", file=sys.stderr)
            raise SystemExit(2)
        if inc.name in values:
            path = os.path.abspath(values[inc.name])
            if not os.path.isfile(path):
                print(f"{prog}: --{inc.name} {values[inc.name]}: no such file", file=sys.stderr)
                raise SystemExit(2)
            values[inc.name] = path


def main(args: argparse.Namespace) -> int:
    if args.file is None:
        if args.help:
            from flowc.cli import command_parser

            command_parser("run").print_help()
            return 0
        print("flowc run: give a flow file: flowc run FLOW.py", file=sys.stderr)
        return 2
    from flowc.commands._local import EnvironmentProblem, load_flow_cached, local_notes, prepare_environments, write_ir
    from flowc.runtime import params as params_mod
    from flowc.runtime.client import default_datastore
    from flowc.runtime.datastore import DatastoreError, FlowDatastore
    from flowc.runtime.plan import FlowPlan
    from flowc.runtime.progress import Reporter
    from flowc.runtime.scheduler import LocalRunner, RunError

    flow = load_flow_cached(args.file, args.flow)
    pp = param_parser(flow, f"flowc run {args.file}")
    if args.help:
        from flowc.cli import command_parser

        command_parser("run").print_help()
        print()
        pp.print_help()
        return 0
    given, rest = pp.parse_known_args(args.extra)
    if rest:
        print(f"flowc run: unknown option {rest[0]} (parameters of {flow.name}: "
              f"{', '.join('--' + p.name for p in flow.parameters) or 'none'})", file=sys.stderr)
        return 2
    datastore = args.datastore or default_datastore()
    try:
        triggered = _triggering_events(flow, datastore, args.trigger, vars(given))
    except ValueError as exc:
        print(f"flowc run: {exc}", file=sys.stderr)
        return 2
    overrides = config_overrides(flow, given, "flowc run")
    if overrides is not None:
        flow = load_flow_cached(args.file, args.flow, overrides)
    own = ("config", "config_value") if flow.configs else ()  # options, not parameters (FC306 keeps them apart)
    values = {k: v for k, v in vars(given).items() if v is not None and k not in own}
    included_paths(flow, values, "flowc run")
    include_names = {i.name for i in flow.includes}
    try:
        params_mod.resolve([_param_dict(p) for p in flow.parameters],
                           {k: v for k, v in values.items() if k not in include_names})
    except params_mod.ParameterError as exc:
        print(f"flowc run: {exc}", file=sys.stderr)
        return 2
    ir_text = _ir_text(flow)
    plan = FlowPlan.from_json(ir_text)
    if args.plan:
        sys.stdout.write(describe_plan(flow))
        return 0
    ds = FlowDatastore(datastore, flow.name)
    try:
        ds.check()
    except DatastoreError as exc:
        print(f"flowc run: {exc}", file=sys.stderr)
        return 2
    try:
        pythons = prepare_environments(flow, not args.no_environments, lambda m: print(m, file=sys.stderr))
    except EnvironmentProblem as exc:
        print(f"flowc run: {exc}", file=sys.stderr)
        return 2
    ir_path = write_ir(flow, ir_text)
    runner = LocalRunner(plan, args.file, ir_path, datastore, run_id=args.run_id, params=values,
                         max_workers=args.max_workers, python=pythons.get, trigger=triggered,
                         env=events_env(datastore))
    try:
        run_id = runner.start_run()
    except RunError as exc:
        print(f"flowc run: {exc}", file=sys.stderr)
        return 2
    ds.write_run_file(run_id, "flow.json", _flow_record(args.file, flow, overrides))
    ds.write_run_file(run_id, "ir.json", ir_text.encode("utf-8"))  # what `flowc ui` draws
    reporter = Reporter(flow.name, run_id, quiet=args.quiet)
    runner.reporter = reporter
    show_ui_address(ds, flow.name, run_id, reporter)
    for note in local_notes(flow):
        reporter.info(f"note: {note}")
    result = runner.run()
    return report_end(result, runner, reporter, flow)


def _triggering_events(flow, datastore: str, given: list[str], values: dict) -> list[dict] | None:
    """``--trigger`` values as events; the parameters their payloads map are filled
    into ``values`` where the command line gave none (as an orchestrator would)."""
    if not given:
        return None
    from flowc.local_events import LocalEventsError, mapped_parameters, parse_trigger

    try:
        events = [parse_trigger(datastore, text) for text in given]
    except LocalEventsError as exc:
        raise ValueError(str(exc)) from None
    for name, value in mapped_parameters(flow, events).items():
        if values.get(name) is None:
            values[name] = value
    return events


def events_env(datastore: str) -> dict[str, str]:
    """What the run's tasks publish goes to the local event log (or FLOWC_EVENTS, if set)."""
    from flowc.local_events import backend_for
    from flowc.runtime.events import ENV_BACKEND

    backend = backend_for(datastore)
    return {ENV_BACKEND: backend} if backend else {}


def show_ui_address(ds, flow: str, run_id: str, reporter) -> None:
    """`View it: URL` when a `flowc ui` on this machine serves the datastore
    (it leaves its address there); one small read when none does."""
    from flowc.ui.address import run_page

    url = run_page(ds.storage, flow, run_id)
    if url:
        reporter.info(f"View it: {url}")


EXIT_INTERRUPTED = 130  # as a shell reports a command ended by Ctrl-C


def report_end(result, runner, reporter, flow) -> int:
    from flowc.runtime.client import default_datastore

    flag = "" if runner.datastore_url == default_datastore() else f" --datastore {runner.datastore_url}"
    if result.interrupted is not None:
        reporter.interrupted(result.interrupted, runner.ds.location(f"runs/{result.run_id}"),
                             f"flowc resume {flow.name}/{result.run_id}{flag}")
        return EXIT_INTERRUPTED
    reporter.summary(result.ok, runner.ds.location(f"runs/{result.run_id}"), list(flow.order), flag)
    if result.ok:
        return 0
    for step, task, attempt in result.failed:
        if not task:
            continue
        failure = runner.ds.read_attempt_file(result.run_id, step, task, attempt, "failure.json")
        failure = json.loads(failure) if failure else None
        print(f"\nstep {step}, task {task} failed (attempt {attempt}):", file=sys.stderr)
        if failure:
            print(failure["traceback"].rstrip() if reporter.quiet else failure["error"], file=sys.stderr)
    print(f"\nresume with: flowc resume {flow.name}/{result.run_id}{flag}", file=sys.stderr)
    return 1


def _param_dict(p) -> dict:
    from flowc.compiler.ir import to_data

    return to_data(p)


def _ir_text(flow) -> str:
    from flowc.compiler import ir

    return ir.dump(flow)


def _flow_record(path: str, flow, overrides=None) -> bytes:
    import json

    record = {"flow_file": os.path.abspath(path), "flow": flow.name, "source_sha": flow.source.sha256}
    if overrides is not None:  # `flowc resume` compiles the flow with the same configs
        record["configs"] = {"files": {k: os.path.abspath(v) for k, v in overrides.files.items()},
                             "values": overrides.values}
    return json.dumps(record, indent=1).encode()


def describe_plan(flow) -> str:
    """The dry run: every step in order, with how many tasks it will have."""
    lines = [f"flowc run would run {flow.name} ({flow.source.path}):"]
    for n, s in enumerate(flow.ordered_steps(), 1):
        indent = "  " * len(s.foreach_stack)
        if s.foreach_stack:
            tasks = "one task per item of " + " x ".join(
                f"self.{flow.step(f).foreach}" for f in s.foreach_stack)
        else:
            tasks = "one task"
        extra = ""
        if s.kind == "switch":
            extra = f"; then one of: {', '.join(s.next)} (by self.{s.condition})"
        elif s.is_join:
            extra = f"; joins the {flow.step(s.closes).kind} of {s.closes}"
        d = s.decorators
        if d.retry:
            extra += f"; retried up to {d.retry.times} times"
        if d.timeout:
            extra += f"; times out after {d.timeout.seconds} s"
        if d.catch:
            extra += "; failures caught" + (f" into self.{d.catch.var}" if d.catch.var else "")
        lines.append(f"  {n:>2}. {indent}{s.name}: {tasks}{extra}")
    for p in flow.parameters:
        lines.append(f"  parameter {p.name} = " + ("(required)" if p.required else repr(p.default)))
    for c in flow.configs:
        lines.append(f"  config {c.name} from " + (c.source.file if c.source else "its value"))
    for i in flow.includes:
        lines.append(f"  included file {i.name} = " + (i.path or "(required)" if i.required else repr(i.path)))
    return "\n".join(lines) + "\n"
