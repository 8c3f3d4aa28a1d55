"""`flowc compile FLOW.py --target NAME`: emit one orchestrator's files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FLOW.py")
    p.add_argument("-t", "--target", required=True, help="argo, airflow, prefect, stepfunctions (see `flowc targets`)")
    p.add_argument("--flow", help="which flow, when the file defines several")
    p.add_argument("-o", "--output", help="file (single-file targets) or folder; default: standard output")
    p.add_argument("--unsupported", choices=["error", "warn"], default="error",
                   help="what a construct the target cannot express is (default: error)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="any target option")
    p.set_defaults(accepts_extra=True)


def target_flags(target_cls) -> argparse.ArgumentParser:
    """`--image X`, `--namespace Y`...: one flag per option the target declares."""
    parser = argparse.ArgumentParser(prog=f"flowc compile --target {target_cls.name}", add_help=False)
    for opt in target_cls.all_options().values():
        flag = "--" + opt.name.replace("_", "-")
        if opt.type is bool:
            parser.add_argument(flag, dest=opt.name, action="store_const", const="true", help=opt.help)
            parser.add_argument("--no-" + opt.name.replace("_", "-"), dest=opt.name, action="store_const",
                                const="false")
        else:
            parser.add_argument(flag, dest=opt.name, help=opt.help)
    return parser


def resolve_target(args: argparse.Namespace, flow_file: str):
    """The target instance with options from pyproject.toml, then flags."""
    from flowc import config
    from flowc.targets import registry
    from flowc.targets.base import COMMON_OPTIONS, OptionError

    try:
        cls = registry.get(args.target)
    except registry.UnknownTarget:
        print(f"flowc: unknown target {args.target!r}; targets: {', '.join(registry.names())}", file=sys.stderr)
        raise SystemExit(2)
    flags, rest = target_flags(cls).parse_known_args(args.extra)
    if rest:
        print(f"flowc compile: unrecognized arguments for target {cls.name}: {' '.join(rest)}", file=sys.stderr)
        raise SystemExit(2)
    try:
        project = config.load(Path(flow_file).resolve().parent)
        from_config, origins = config.target_options(project, cls.name, {o.name for o in COMMON_OPTIONS})
        for key, value in from_config.items():  # each checked on its own, to name its line
            cls.resolve_options({key: value}, origin=origins[key])
        given = {k: v for k, v in vars(flags).items() if v is not None}
        for item in args.set:
            key, sep, value = item.partition("=")
            if not sep:
                raise OptionError(f"--set {item!r}: write KEY=VALUE")
            given[key] = value
        cls.resolve_options(given, origin="flag")
        options = {**from_config, **given}
    except (OptionError, config.ConfigError) as exc:
        print(f"flowc: {exc}", file=sys.stderr)
        raise SystemExit(2)
    return cls(options, unsupported_level="warning" if args.unsupported == "warn" else "error")


def write_output(files: dict[str, bytes], output: str | None, kind: str) -> list[str]:
    from flowc.commands._write import write_if_changed

    if output is None:
        if len(files) != 1:
            print("flowc: this target writes several files; give a folder with -o", file=sys.stderr)
            raise SystemExit(2)
        sys.stdout.buffer.write(next(iter(files.values())))
        sys.stdout.flush()
        return []
    out = Path(output)
    single = kind == "file" and len(files) == 1 and not output.endswith("/") and not out.is_dir()
    written = []
    for rel, data in sorted(files.items()):
        path = out if single else out / rel
        if write_if_changed(path, data):
            written.append(str(path))
    return written


def main(args: argparse.Namespace) -> int:
    from flowc.commands._output import print_diagnostics
    from flowc.compiler import load_flow

    target = resolve_target(args, args.file)
    flow = load_flow(args.file, args.flow)
    if not target.option("code_package"):
        from flowc.packaging import code_package

        _, target.package_sha = code_package(flow, args.file)
        print(f"tasks fetch the code from {target.code_package_url(flow)}: upload it with "
              f"`flowc package {args.file} --datastore {target.option('datastore')}`", file=sys.stderr)
    result = target.compile(flow)
    if result.diagnostics:
        print_diagnostics(result.diagnostics, "text", sys.stderr)
    written = write_output(result.files, args.output, target.OUTPUT_KIND)
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return 0
