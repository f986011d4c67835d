"""API fuzz benchmark (issue 11): many more seeded hostile requests than the test suite's
``tests/local/test_fuzz_api.py``, against ``sfnflow serve`` on loopback, and a table.

    .venv/bin/python -m benchmarks.fuzz_api                    # 3,000 cases, seed 11
    .venv/bin/python -m benchmarks.fuzz_api --cases 10000 --seed 7

One row per route: cases, answers by status class (501 apart: the answer to a method API
Gateway has no resource method for, e.g. TRACE), failures (a handler's: a 5xx, no
Content-Type, a non-``{"error": ...}`` error body, slower than ``--slow``; or the HTTP
front end's: no answer, a non-JSON page) and the slowest answer. Then every distinct
failure with one request that reproduces it. Exits 1 when anything failed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python benchmarks/fuzz_api.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from local.serve import LocalPlatform
from tests.support import fuzz_requests as fuzz

KEY = "fuzz-benchmark-key"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--slow", type=float, default=fuzz.SLOW_SECONDS,
                        help="seconds past which an answer is a failure")
    args = parser.parse_args(argv)
    console = Console(width=150)
    with LocalPlatform(api_key=KEY, time_scale=0.01) as platform:
        target, table = fuzz.prepare(platform.url, KEY)
        started = time.monotonic()
        outcomes = fuzz.run(platform.url, KEY, table, target, args.cases, args.seed)
        elapsed = time.monotonic() - started
        alive = fuzz.send(platform.url, fuzz.Case("GET /workflows", "valid", "GET",
                                                  "/workflows"), KEY)

    rows: dict[str, Counter[str]] = defaultdict(Counter)
    slowest: dict[str, float] = defaultdict(float)
    failures: dict[tuple[str, str, str], fuzz.Case] = {}
    for outcome in outcomes:
        row = rows[outcome.case.route]
        row["cases"] += 1
        row[("501" if outcome.status == 501 else f"{outcome.status // 100}xx")
            if outcome.status else "none"] += 1
        slowest[outcome.case.route] = max(slowest[outcome.case.route], outcome.seconds)
        found = fuzz.verdict(outcome, args.slow)
        if found is not None:
            row[found[0]] += 1
            failures.setdefault((outcome.case.route, found[0], found[1][:70]), outcome.case)

    report = Table(title=f"{len(outcomes):,} cases, seed {args.seed}, {elapsed:.1f} s")
    for column in ("route", "cases", "2xx", "3xx", "4xx", "501", "5xx", "handler",
                   "protocol", "slowest s"):
        report.add_column(column, justify="left" if column == "route" else "right")
    for route in sorted(rows):
        row = rows[route]
        report.add_row(route, str(row["cases"]), str(row["2xx"]), str(row["3xx"]),
                       str(row["4xx"]), str(row["501"]), str(row["5xx"]),
                       str(row["handler"]),
                       str(row["protocol"]), f"{slowest[route]:.2f}")
    console.print(report)
    statuses = Counter(outcome.status for outcome in outcomes)
    console.print("statuses: " + ", ".join(f"{status}: {count}" for status, count
                                            in sorted(statuses.items(), key=str)))
    console.print(f"slowest answer: {max(o.seconds for o in outcomes):.2f} s; server alive "
                  f"afterwards: {alive.status == 200}")
    for (route, kind, what), case in sorted(failures.items()):
        console.print(f"[red]{kind}[/red] {route}: {what}\n    {case.method} "
                      f"{case.target[:160]} body={(case.body or b'')[:100]!r} "
                      f"headers={case.headers}", markup=True, highlight=False)
    return 1 if failures or alive.status != 200 else 0


if __name__ == "__main__":
    sys.exit(main())
