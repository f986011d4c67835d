"""The document fuzz suite at benchmark scale (issue 11): many more cases than the test.

Run: ``.venv/bin/python -m benchmarks.fuzz_documents [--cases 20000] [--seed 11]
[--asl N]``. Every case is loaded, validated and compiled as ``sfnflow validate`` does
(``tests.support.fuzz_documents``); prints one table: cases, accepted, rejected, tracebacks
(any exception but ``WorkflowInvalid``), the slowest case and its label, and how many
distinct accepted definitions asl-validator checked (``--asl``, default all; ~0.16 s of CPU
each) with the invalid ones. Exits 1 if any case crashed or any checked definition is invalid.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from rich.console import Console
from rich.table import Table

from tests.support.asl_validator import validate_asl
from tests.support.fuzz_documents import cases, run_case


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--asl", type=int, default=None,
                        help="asl-validator checks at most this many distinct definitions")
    args = parser.parse_args(argv)
    console = Console(width=120)

    started = time.perf_counter()
    cpu = time.process_time()
    verdicts: Counter[str] = Counter()
    slowest = (0.0, "")
    crashes: dict[str, str] = {}  # last line of the traceback -> first case that raised it
    compiled = {}
    for case in cases(args.cases, args.seed):
        outcome = run_case(case)
        verdicts[outcome.verdict] += 1
        slowest = max(slowest, (outcome.seconds, case.label))
        if outcome.verdict == "crashed":
            crashes.setdefault(outcome.error.strip().splitlines()[-1], case.label)
        if outcome.compiled is not None:
            compiled.setdefault(outcome.compiled.manifest["version"], (case.label,
                                                                       outcome.compiled))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    checked = list(compiled.values())[:args.asl]
    problems = validate_asl(dict(checked)) if checked else {}
    invalid = {label: found for label, found in problems.items() if found}

    table = Table(title=f"document fuzz: seed {args.seed}")
    for column in ("cases", "accepted", "rejected", "tracebacks", "slowest case (CPU ms)",
                   "mean ms (cpu)", "asl-validator checked", "invalid ASL"):
        table.add_column(column, justify="right")
    table.add_row(f"{args.cases:,}", f"{verdicts['accepted']:,}", f"{verdicts['rejected']:,}",
                  f"{verdicts['crashed']:,}", f"{slowest[0] * 1000:,.0f}",
                  f"{cpu / max(args.cases, 1) * 1000:.1f}", f"{len(checked):,}",
                  f"{len(invalid):,}")
    console.print(table)
    console.print(f"slowest: {slowest[1]}", highlight=False)
    console.print(f"wall {wall:.1f} s, cpu {cpu:.1f} s", highlight=False)
    for error, label in crashes.items():
        console.print(f"[red]crash[/] {error}\n  first case: {label}", highlight=False)
    for label, found in invalid.items():
        console.print(f"[red]invalid ASL[/] {label}: {found[:3]}", highlight=False)
    return 1 if crashes or invalid else 0


if __name__ == "__main__":
    sys.exit(main())
