"""`flowc resume FLOW/RUN [--from STEP]`: rerun what failed, reuse the rest."""

from __future__ import annotations

import argparse
import json
import os
import sys


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", metavar="RUN_ID", help="FLOW/RUN or RUN")
    p.add_argument("--from", dest="from_step", metavar="STEP", help="rerun this step and everything after it")
    p.add_argument("--flow-file", help="the flow module (default: the one the run was started from)")
    from flowc.commands.run import add_run_options

    add_run_options(p, skip=("--help", "--plan"))


def main(args: argparse.Namespace) -> int:
    from flowc.commands._local import EnvironmentProblem, load_flow_cached, prepare_environments, write_ir
    from flowc.commands.run import events_env, report_end, show_ui_address
    from flowc.runtime.client import default_datastore, find_run
    from flowc.runtime.plan import FlowPlan
    from flowc.runtime.progress import Reporter
    from flowc.runtime.scheduler import LocalRunner, RunError, descendants
    from flowc.compiler import ir

    datastore = args.datastore or default_datastore()
    try:
        origin = find_run(args.run, datastore)
    except (KeyError, ValueError) as exc:  # no such run; not FLOW/RUN
        print(f"flowc resume: {exc.args[0]}", file=sys.stderr)
        return 2
    record = origin._ds.read_run_file(origin.id, "flow.json")
    flow_file = args.flow_file or (json.loads(record)["flow_file"] if record else None)
    if not flow_file or not os.path.exists(flow_file):
        print(f"flowc resume: cannot find the flow module of {origin.pathspec}; pass --flow-file FLOW.py", file=sys.stderr)
        return 2
    overrides = json.loads(record).get("configs") if record else None
    if overrides:  # the run's --config / --config-value: the resumed run sees the same configs
        from flowc.compiler.configs import ConfigInputs

        overrides = ConfigInputs(files=overrides.get("files") or {}, values=overrides.get("values") or {})
    flow = load_flow_cached(flow_file, args.flow or origin.flow_name, overrides or None)
    ir_text = ir.dump(flow)
    plan = FlowPlan.from_json(ir_text)
    rerun: set[str] = set()
    if args.from_step:
        if args.from_step not in plan.steps:
            from flowc.commands._suggest import did_you_mean

            print(f"flowc resume: {flow.name} has no step {args.from_step!r}"
                  f"{did_you_mean(args.from_step, plan.steps)}", file=sys.stderr)
            return 2
        rerun = descendants(plan, args.from_step)
    params = origin.info.get("params", {})
    try:
        pythons = prepare_environments(flow, not args.no_environments, lambda m: print(m, file=sys.stderr))
    except EnvironmentProblem as exc:
        print(f"flowc resume: {exc}", file=sys.stderr)
        return 2
    runner = LocalRunner(plan, flow_file, write_ir(flow, ir_text), datastore, run_id=args.run_id, params=params,
                         max_workers=args.max_workers, origin_run_id=origin.id, rerun_steps=rerun,
                         python=pythons.get, env=events_env(datastore))
    try:
        run_id = runner.start_run()
    except RunError as exc:
        print(f"flowc resume: {exc}", file=sys.stderr)
        return 2
    runner.ds.write_run_file(run_id, "flow.json", record or b"{}")
    runner.ds.write_run_file(run_id, "ir.json", ir_text.encode("utf-8"))  # what `flowc ui` draws
    from flowc.runtime.trigger import RUN_FILE

    trigger = origin._ds.read_run_file(origin.id, RUN_FILE)
    if trigger is not None:  # the resumed run was started by the same events (a cloned start step keeps them)
        runner.ds.write_run_file(run_id, RUN_FILE, trigger)
    reporter = Reporter(flow.name, run_id, quiet=args.quiet)
    runner.reporter = reporter
    show_ui_address(runner.ds, flow.name, run_id, reporter)
    reporter.info(f"resuming {origin.pathspec}" + (f" from step {args.from_step}" if args.from_step else ""))
    return report_end(runner.run(), runner, reporter, flow)
