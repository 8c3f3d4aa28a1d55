"""`flowc compile`: emit orchestrator files.

    flowc compile FLOW.py --target T [-o PATH]   one flow, one target (standard output without -o)
    flowc compile                                every configured flow, every configured target,
                                                 into each target's output folder, with a manifest
    flowc compile --check [--diff]               exit 1 when a generated file is missing or stale
    flowc compile --fail-on-change               exit 1 when it wrote something (the pre-commit hook)
    flowc compile --lint FILE...                 check the named files that are flows (the other hook)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="*", metavar="FLOW.py",
                   help="the flow file to compile (with --target); none: every flow [tool.flowc] configures")
    p.add_argument("-t", "--target", action="append", default=[],
                   help="argo, airflow, prefect, stepfunctions, kubeflow (see `flowc targets`); with no FLOW.py, "
                        "repeatable, instead of [tool.flowc] targets")
    p.add_argument("--flow", help="which flow, when the file defines several")
    p.add_argument("-o", "--output", help="file (single-file targets) or folder; default: standard output")
    p.add_argument("--unsupported", choices=["error", "warn"], default="error",
                   help="what a construct the target cannot express is (default: error)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any option; with no FLOW.py also TARGET.OPTION=VALUE and [tool.flowc] keys")
    from flowc.commands.package import add_config_options

    add_config_options(p)
    project = p.add_argument_group("with no FLOW.py (the project's flows, from pyproject.toml)")
    project.add_argument("-C", "--project", metavar="DIR",
                         help="the project's folder (its pyproject.toml); default: the nearest above the current one")
    project.add_argument("--check", action="store_true",
                         help="write nothing; exit 1 listing each generated file that is missing or stale, and why")
    project.add_argument("--diff", action="store_true", help="with --check: a unified diff of each such file")
    project.add_argument("--fail-on-change", action="store_true",
                         help="exit 1 when a file was written or removed (pre-commit: the commit must carry them)")
    project.add_argument("--force", action="store_true",
                         help="compile every flow, even those whose inputs did not change since the manifest")
    project.add_argument("--lint", action="store_true",
                         help="check the named files that are the project's flows (or, without [tool.flowc], "
                              "that define a FlowSpec class); other files are skipped; write nothing")
    project.add_argument("--format", choices=["text", "github"], default="text",
                         help="diagnostics and stale files for people, or as GitHub Actions annotations")
    project.add_argument("-q", "--quiet", action="store_true", help="print nothing when nothing changed")
    p.set_defaults(accepts_extra=True)


def target_flags(target_cls) -> argparse.ArgumentParser:
    """`--image X`, `--namespace Y`...: one flag per option the target declares."""
    parser = argparse.ArgumentParser(prog=f"flowc compile --target {target_cls.name}", add_help=False,
                                     allow_abbrev=False)
    for opt in target_cls.all_options().values():
        flag = "--" + opt.name.replace("_", "-")
        if opt.type is bool:
            parser.add_argument(flag, dest=opt.name, action="store_const", const="true", help=opt.help)
            parser.add_argument("--no-" + opt.name.replace("_", "-"), dest=opt.name, action="store_const",
                                const="false")
        else:
            parser.add_argument(flag, dest=opt.name, help=opt.help)
    return parser


def _target_class(name: str):
    from flowc.targets import registry

    try:
        return registry.get(name)
    except registry.UnknownTarget as exc:
        print(f"flowc: {exc}", file=sys.stderr)
        raise SystemExit(2)


def _parse_target_flags(cls, extra: list[str]) -> dict[str, str]:
    parser = target_flags(cls)
    flags, rest = parser.parse_known_args(extra)
    if rest:
        from flowc.commands._suggest import did_you_mean

        known = [o for a in parser._actions for o in a.option_strings]
        print(f"flowc compile: unrecognized arguments for target {cls.name}: {' '.join(rest)}"
              f"{did_you_mean(rest[0].split('=', 1)[0], known)}", file=sys.stderr)
        raise SystemExit(2)
    return {k: v for k, v in vars(flags).items() if v is not None}


def resolve_target(args: argparse.Namespace, flow_file: str):
    """The target instance with options from pyproject.toml, then flags."""
    from flowc import config
    from flowc.targets.base import OptionError

    if len(args.target) != 1:
        print("flowc compile: name one --target for FLOW.py", file=sys.stderr)
        raise SystemExit(2)
    cls = _target_class(args.target[0])
    given = _parse_target_flags(cls, args.extra)
    try:
        project = config.load(Path(flow_file).resolve().parent)
        from_config, origins = config.target_options(project, cls.name, set(cls.all_options()))
        for key, value in from_config.items():  # each checked on its own, to name its line
            cls.resolve_options({key: value}, origin=origins[key])
        given.update(config.parse_set(args.set))
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
    if not single and out.exists() and not out.is_dir():
        print(f"flowc compile: -o {output} is a file; this writes a folder: name a folder, or remove the file",
              file=sys.stderr)
        raise SystemExit(2)
    if single and next(iter(files)).endswith(".py") and out.suffix != ".py":
        # Airflow (and Python generally) loads only .py files: a DAG written as `out/airflow` is never seen
        print(f"flowc compile: -o {output} would write Python that is never loaded (it needs a .py name); "
              f"write -o {output}.py, or -o {output}/ for a folder", file=sys.stderr)
        raise SystemExit(2)
    written = []
    for rel, data in sorted(files.items()):
        path = out if single else out / rel
        if write_if_changed(path, data):
            written.append(str(path))
    return written


def _config_flags(args: argparse.Namespace) -> str:
    """The --config / --config-value flags again, for the `flowc package` hint (same IR, same package)."""
    import shlex

    flags = [("--config", n, v) for n, v in args.config or []] + [("--config-value", n, v) for n, v in args.config_value or []]
    return "".join(f" {flag} {shlex.quote(n)} {shlex.quote(v)}" for flag, n, v in flags)


def compile_one(args: argparse.Namespace) -> int:
    from flowc.commands._output import print_diagnostics
    from flowc.compiler import load_flow

    from flowc.commands.package import load_with_configs

    (flow_file,) = args.files
    target = resolve_target(args, flow_file)
    flow = load_with_configs(args, flow_file, "flowc compile")
    if not target.option("code_package"):
        from flowc.packaging import code_package

        _, target.package_sha = code_package(flow, flow_file)
        print(f"tasks fetch the code from {target.code_package_url(flow)}: upload it with "
              f"`flowc package {flow_file} --datastore {target.option('datastore')}{_config_flags(args)}`", file=sys.stderr)
    result = target.compile(flow)
    if result.diagnostics:
        print_diagnostics(result.diagnostics, "text", sys.stderr)
    written = write_output(result.files, args.output, target.OUTPUT_KIND)
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return 0


# ------------------------------------------------------------ the project


def project_flags(args: argparse.Namespace) -> tuple[dict, dict[str, dict]]:
    """Split --target, --set and target flags into project-wide flags and
    each target's option flags. Raises config.ConfigError."""
    from flowc import config

    sets = config.parse_set(args.set)
    project: dict = {}
    if args.target:
        project["targets"] = list(args.target)
    for key in list(sets):
        if key in config.PROJECT:
            project[key] = sets.pop(key)
        elif key in config.COMMON_OPTION_NAMES:
            project[key] = sets[key]  # shown as the shared value; every target takes it below
    if not sets and not args.extra:
        return project, {}
    names = project.get("targets") or config.project_settings(config.load(_start(args)), project)["targets"].value
    classes = {name: _target_class(name) for name in names}
    per_target: dict[str, dict] = {name: {} for name in names}
    if args.extra:
        if len(classes) != 1:
            raise config.ConfigError(f"option flags {' '.join(args.extra)} need exactly one --target; "
                                     f"for several, write --set TARGET.OPTION=VALUE")
        (name, cls), = classes.items()
        per_target[name].update(_parse_target_flags(cls, args.extra))
    for key, value in sets.items():
        head, dot, option = key.partition(".")
        if dot:
            if head not in classes:
                raise config.ConfigError(f"--set {key}=...: {head} is not one of the targets compiled "
                                         f"({', '.join(names)})")
            per_target[head][option] = value
            continue
        takers = [n for n, cls in classes.items() if key in cls.all_options() or key in config.TARGET_PROJECT_KEYS]
        if not takers:
            raise config.ConfigError(f"--set {key}=...: no target compiled here ({', '.join(names)}) "
                                     f"has an option {key!r}")
        for name in takers:
            per_target[name][key] = value
    return project, per_target


def _start(args: argparse.Namespace) -> Path | None:
    folder = getattr(args, "project", None)
    if folder is None:
        return None
    if not Path(folder).is_dir():
        from flowc import config

        raise config.ConfigError(f"--project {folder}: no such folder")
    return Path(folder)


def _print_diagnostics(diags, fmt: str) -> None:
    from flowc.commands._output import print_diagnostics

    if fmt == "github":
        print_diagnostics(diags, "github", sys.stdout)
    else:
        print_diagnostics(diags, "text", sys.stderr)


def compile_project(args: argparse.Namespace) -> int:
    from flowc import config
    from flowc.commands import _project

    if args.output or args.flow:
        print("flowc compile: -o and --flow need a FLOW.py; with no FLOW.py each target writes to its output "
              "folder (change it with --set output=DIR or --set TARGET.output=DIR)", file=sys.stderr)
        return 2
    try:
        flags, per_target = project_flags(args)
        project = _project.open_project(flags, per_target, start=_start(args))
        # --check too compiles only what the manifest and the hashes say changed: a flow
        # whose inputs and generated files match the manifest would compile to those files
        result = _project.build(project, force=args.force,
                                unsupported_level="warning" if args.unsupported == "warn" else "error")
    except config.ConfigError as exc:
        print(f"flowc: {exc}", file=sys.stderr)
        return 2
    if result.diagnostics:
        _print_diagnostics(result.diagnostics, args.format)
    if result.failed:
        errors = sum(1 for d in result.diagnostics if d.is_error)
        print(f"flowc: {errors} error{'s' if errors != 1 else ''}; nothing was written", file=sys.stderr)
        return 1
    if args.check:
        return report_problems(project, _project.problems(result), args)
    changes = _project.write(result)
    for path in changes.written:
        print(f"wrote {project.shown(path)}", file=sys.stderr)
    for path in changes.removed:
        print(f"removed {project.shown(path)} (no flow generates it any more)", file=sys.stderr)
    for path, why in changes.kept:
        print(f"kept {project.shown(path)}: no flow generates it any more, but it {why}; delete it yourself",
              file=sys.stderr)
    changed = bool(changes.written or changes.removed)
    if changed or not args.quiet:
        total = sum(len(tb.manifest.files) for tb in result.targets)
        print(f"{len(project.flows)} flow file{'s' if len(project.flows) != 1 else ''}, "
              f"{len(project.targets)} target{'s' if len(project.targets) != 1 else ''}: "
              f"{total} generated file{'s' if total != 1 else ''}, {len(changes.written)} written, "
              f"{len(changes.removed)} removed", file=sys.stderr)
    if any(rec.code_package for tb in result.targets for path, rec in tb.manifest.files.items()
           if f"{tb.plan.folder}/{path}" in changes.written):
        print("the generated tasks fetch each flow's code package from the datastore: upload them with "
              "`flowc publish --target T --packages` (or `flowc package FLOW.py`)", file=sys.stderr)
    if changed and args.fail_on_change:
        print("flowc: generated files changed; add them to the commit", file=sys.stderr)
        return 1
    return 0


def report_problems(project, problems, args: argparse.Namespace) -> int:
    import difflib

    if not problems:
        if not args.quiet:
            print("every generated file is up to date", file=sys.stderr)
        return 0
    for pr in problems:
        shown = project.shown(pr.path)
        if args.format == "github":
            # on the flow's class line, where the pull request changed it
            at = (f"file={_gh_escape(pr.source, True)},line={pr.line}" if pr.source and (project.root / pr.source).exists()
                  else f"file={_gh_escape(pr.path, True)}")
            print(f"::error {at},title={_gh_escape('flowc: generated file ' + pr.kind, True)}::"
                  f"{_gh_escape(f'{pr.path} is {pr.kind}: {pr.why}; run `flowc compile` and commit the result')}")
        else:
            print(f"{shown}: {pr.kind}: {pr.why}")
        if args.diff:
            before = (pr.actual or b"").decode("utf-8", "replace").splitlines(True)
            after = (pr.expected or b"").decode("utf-8", "replace").splitlines(True)
            old_name = f"a/{pr.path}" if pr.actual is not None else "/dev/null"
            new_name = f"b/{pr.path}" if pr.expected is not None else "/dev/null"
            sys.stdout.writelines(_terminated(difflib.unified_diff(before, after, old_name, new_name)))
    print(f"flowc: {len(problems)} generated file{'s are' if len(problems) != 1 else ' is'} missing or stale; "
          f"run `flowc compile`", file=sys.stderr)
    return 1


def _gh_escape(value: str, prop: bool = False) -> str:
    """GitHub Actions' escaping of a workflow command's message or property."""
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return value.replace(":", "%3A").replace(",", "%2C") if prop else value


def _terminated(lines):
    for line in lines:
        yield line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"


def lint(args: argparse.Namespace) -> int:
    """The named files that are flows of their project, checked like `flowc check`.
    Each file's project is the nearest pyproject.toml above it (so one
    repository may hold several projects)."""
    from flowc import config
    from flowc.commands import _project, check

    chosen = []
    projects: dict[Path | None, tuple] = {}
    try:
        for name in args.files:
            f = Path(name)
            if f.suffix != ".py" or not f.is_file():
                continue
            where = config.find_pyproject(f.resolve().parent)
            if where not in projects:
                cfg = config.load(f.resolve().parent)
                flows = None
                if cfg.table:
                    settings = config.project_settings(cfg)
                    flows = set(_project.find_flows(cfg.folder, settings["flows"], settings["exclude"].value, [], cfg))
                projects[where] = (cfg, flows)
            cfg, flows = projects[where]
            if flows is not None:
                if _relative(f, cfg.folder) in flows:
                    chosen.append(name)
            elif _project.mentions_flowspec(f):
                chosen.append(name)
    except config.ConfigError as exc:
        print(f"flowc: {exc}", file=sys.stderr)
        return 2
    if not chosen:
        return 0
    fmt = "github" if args.format == "github" else "text"
    return check.main(argparse.Namespace(paths=chosen, format=fmt, strict=False, quiet=True, flow=None))


def _relative(path: Path, root: Path) -> str | None:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return None


def main(args: argparse.Namespace) -> int:
    if args.lint:
        return lint(args)
    if args.check or args.fail_on_change or args.force or args.diff:
        if args.files:
            print("flowc compile: --check, --diff, --fail-on-change and --force work on the project's flows: "
                  "name no FLOW.py", file=sys.stderr)
            return 2
    if len(args.files) > 1:
        print("flowc compile: name one FLOW.py (or none, to compile every configured flow)", file=sys.stderr)
        return 2
    if args.files:
        return compile_one(args)
    if args.config or args.config_value:
        print("flowc compile: --config and --config-value apply to one flow: name its FLOW.py", file=sys.stderr)
        return 2
    return compile_project(args)
