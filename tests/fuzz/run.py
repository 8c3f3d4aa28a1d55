"""The large fuzz run: generated flows through check and every target, with counts.

    python tests/fuzz/run.py --cases 10000 [--seed 0] [--seconds 10] [--show 3]

Prints per stage how many cases were ok, rejected, internal errors, hangs and
invalid outputs, and the first few failures in full; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fuzz.generate import source  # noqa: E402
from tests.fuzz.harness import TARGETS, run_case  # noqa: E402

FAILURES = ("internal", "hang", "invalid")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=10.0, help="time bound per case and stage")
    ap.add_argument("--show", type=int, default=3, help="failures printed in full")
    args = ap.parse_args(argv)
    counts: dict[str, collections.Counter] = {s: collections.Counter() for s in ("check",) + TARGETS}
    intents: collections.Counter = collections.Counter()
    failures = []
    start = time.monotonic()
    for case in range(args.cases):
        rng = random.Random(f"{args.seed}:{case}")
        text, intent = source(rng)
        intents[intent] += 1
        result = run_case(text, args.seconds)
        for stage, (kind, detail) in result.items():
            counts[stage][kind] += 1
            if kind in FAILURES:
                failures.append((case, stage, kind, detail, text))
    elapsed = time.monotonic() - start
    print(f"cases: {args.cases} (seed {args.seed}) in {elapsed:.1f} s; intents: {dict(sorted(intents.items()))}")
    for stage, c in counts.items():
        print(f"  {stage:14} " + "  ".join(f"{k}={c[k]}" for k in ("ok", "rejected") + FAILURES))
    total = collections.Counter(kind for _, _, kind, _, _ in failures)
    print("failures: " + ", ".join(f"{k}={total[k]}" for k in FAILURES))
    for case, stage, kind, detail, text in failures[:args.show]:
        print(f"\n--- case {case} {stage}: {kind}\n{detail}\n{text[:2000]}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
