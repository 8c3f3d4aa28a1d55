"""`make demo`: compile every example for every target, then run one locally.

    python -m flowc.demo [--out out/demo]

Writes each target's files under out/demo/<target>/<example>/ and prints
what it wrote; a construct a target cannot express shows its diagnostic
instead (that is the design, not a failure of the demo). Then runs the
article's RecSysFlow with `flowc run`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flowc.demo", allow_abbrev=False)
    parser.add_argument("--out", default="out/demo")
    parser.add_argument("--examples", default="examples")
    args = parser.parse_args(argv)

    from flowc.commands._write import write_if_changed
    from flowc.compiler import CompileError, load_flow
    from flowc.targets import registry

    out = Path(args.out)
    examples = sorted(Path(args.examples).glob("*.py"))
    print(f"== compiling {len(examples)} examples for {len(registry.names())} targets into {out}/")
    failures = 0
    for name in registry.names():
        target_cls = registry.get(name)
        for example in examples:
            flow = load_flow(example)
            started = time.perf_counter()
            try:
                result = target_cls({}).compile(flow)
            except CompileError as exc:
                first = exc.diagnostics[0]
                print(f"  {name:<14} {example.name:<22} not expressible: {first.message} ({first.span})")
                continue
            except Exception as exc:  # a bug in a target: show it, keep going, fail the demo
                failures += 1
                print(f"  {name:<14} {example.name:<22} FAILED: {type(exc).__name__}: {exc}")
                continue
            ms = (time.perf_counter() - started) * 1000
            folder = out / name / example.stem
            size = 0
            for rel, data in sorted(result.files.items()):
                write_if_changed(folder / rel, data)
                size += len(data)
            files = ", ".join(sorted(result.files))
            print(f"  {name:<14} {example.name:<22} {len(result.files)} file(s), {size / 1024:6.1f} KB, "
                  f"{ms:6.1f} ms: {files}")
    print("\n== running examples/recsys.py locally with `flowc run`")
    sys.stdout.flush()
    from flowc.cli import main as cli

    code = cli(["run", str(Path(args.examples) / "recsys.py"), "--datastore", str(out / "datastore")])
    return 1 if (failures or code) else 0


if __name__ == "__main__":
    sys.exit(main())
