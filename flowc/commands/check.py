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
    p.add_argument("--flow", metavar="NAME", help="check only the flow of this name (as compile and run take it)")


def main(args: argparse.Namespace) -> int:
    from flowc.commands._output import print_diagnostics, remember
    from flowc.compiler import analyze_file
    from flowc.compiler.discover import flow_files

    files = flow_files(args.paths)
    diags = []
    flows = 0
    seen: set[str] = set()
    for path in files:
        analysis = analyze_file(path)
        for shown, lines in analysis.sources.items():  # the flow and the modules of its base classes
            remember(shown, lines)
        if args.flow is None:
            diags.extend(analysis.diagnostics)
            flows += len(analysis.flows)
            continue
        seen.update(f.name for f in analysis.flows)
        if any(f.name == args.flow for f in analysis.flows):
            diags.extend([*analysis.by_flow.get(None, ()), *analysis.by_flow.get(args.flow, ())])
            flows += 1
    if args.flow is not None and not flows:
        from flowc.commands._suggest import did_you_mean

        print(f"flowc check: no flow named {args.flow!r}{did_you_mean(args.flow, seen)} "
              f"(flows: {', '.join(sorted(seen)) or 'none'})", file=sys.stderr)
        return 2
    print_diagnostics(diags, args.format)
    errors = sum(1 for d in diags if d.is_error)
    warnings = sum(1 for d in diags if d.severity == "warning")
    failed = errors > 0 or (args.strict and warnings > 0)
    if args.format == "text" and not (args.quiet and not diags):
        summary = (f"checked {len(files)} file{'s' if len(files) != 1 else ''}, {flows} flow{'s' if flows != 1 else ''}: "
                   f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}")
        print(summary, file=sys.stderr)
    return 1 if failed else 0
