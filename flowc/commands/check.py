"""`flowc check PATH...`: every diagnostic of every flow, exit 1 on any error."""

from __future__ import annotations

import argparse
import sys


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="flow files or folders (default: .)")
    p.add_argument("--format", choices=["text", "json", "github"], default="text",
                   help="text for people, json for editors and CI, github for Actions annotations")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing when clean")


def main(args: argparse.Namespace) -> int:
    from flowc.commands._output import print_diagnostics, remember
    from flowc.compiler import analyze_file
    from flowc.compiler.discover import flow_files

    files = flow_files(args.paths)
    diags = []
    flows = 0
    for path in files:
        analysis = analyze_file(path)
        remember(analysis.path, analysis.source_lines)
        diags.extend(analysis.diagnostics)
        flows += len(analysis.flows)
    print_diagnostics(diags, args.format)
    errors = sum(1 for d in diags if d.is_error)
    warnings = sum(1 for d in diags if d.severity == "warning")
    failed = errors > 0 or (args.strict and warnings > 0)
    if args.format == "text" and not (args.quiet and not diags):
        summary = (f"checked {len(files)} file{'s' if len(files) != 1 else ''}, {flows} flow{'s' if flows != 1 else ''}: "
                   f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}")
        print(summary, file=sys.stderr)
    return 1 if failed else 0
