"""Compile-time benchmark: every DAG family of ``benchmarks/dags.py`` at growing sizes.

    .venv/bin/python -m benchmarks.compile                       # the full table
    .venv/bin/python -m benchmarks.compile --sizes 10 100 --families chain
    .venv/bin/python -m benchmarks.compile --profile layered 10000  # cProfile, top functions

See benchmarks/README.md for what each column means.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python benchmarks/compile.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from benchmarks.dags import FAMILIES, generate
from compiler import compile_workflow
from compiler.explain import count_states
from compiler.pipeline import CompiledWorkflow

SIZES = (10, 100, 1000, 10_000)
SLOW_SECONDS = 20.0
DEFINITION_QUOTA = 1024 * 1024  # Step Functions: a definition is at most 1 MB (hard quota)


@dataclass
class Result:
    family: str
    nodes: int
    seconds: float | None = None  # best of the runs
    runs: int = 0
    states: int = 0
    text_bytes: int = 0  # CompiledWorkflow.definition_json(): what sfnflow emits (indent=2)
    compact_bytes: int = 0  # the same JSON without whitespace
    error: str | None = None


def runs_for(size: int) -> int:
    return 1 if size >= 10_000 else 3


def measure(family: str, size: int, seed: int) -> Result:
    document = generate(family, size, seed)
    result = Result(family, size)
    compiled: CompiledWorkflow | None = None
    try:
        for _ in range(runs_for(size)):
            start = time.perf_counter()
            compiled = compile_workflow(document)
            elapsed = time.perf_counter() - start
            result.runs += 1
            result.seconds = elapsed if result.seconds is None else min(result.seconds, elapsed)
    except (Exception, RecursionError) as exc:  # noqa: B014 - spelled out: the usual suspect
        frames = traceback.extract_tb(exc.__traceback__)
        where = frames[-1] if frames else None
        origin = f" at {Path(where.filename).name}:{where.lineno} in {where.name}" if where else ""
        result.error = f"{type(exc).__name__}{origin}: {str(exc)[:120]}"
        return result
    assert compiled is not None
    result.states = count_states(compiled.definition)
    result.text_bytes = len(compiled.definition_json().encode())
    result.compact_bytes = len(
        json.dumps(compiled.definition, separators=(",", ":"), ensure_ascii=False).encode()
    )
    return result


def render(results: list[Result], console: Console) -> None:
    table = Table(title="sfnflow compile time by DAG family and size")
    for column in ("family", "nodes", "compile s", "runs", "states", "definition KiB",
                   "compact KiB", "bytes/node", "fits 1 MB"):
        table.add_column(column, justify="left" if column == "family" else "right")
    for r in results:
        if r.error is not None:
            table.add_row(r.family, f"{r.nodes}", "[red]failed[/red]", f"{r.runs}", "", "", "",
                          "", r.error)
            continue
        assert r.seconds is not None
        seconds = f"{r.seconds:.4f}"
        if r.seconds > SLOW_SECONDS:
            seconds = f"[red]{seconds}[/red]"
        table.add_row(r.family, f"{r.nodes}", seconds, f"{r.runs}", f"{r.states}",
                      f"{r.text_bytes / 1024:.1f}", f"{r.compact_bytes / 1024:.1f}",
                      f"{r.text_bytes / r.nodes:.0f}",
                      "yes" if r.compact_bytes <= DEFINITION_QUOTA else "[yellow]no[/yellow]")
    console.print(table)

    by_key = {(r.family, r.nodes): r for r in results}
    growth = Table(title="growth 10000 / 1000 (10x the nodes; linear = 10x)")
    for column in ("family", "time ratio", "states ratio", "definition bytes ratio"):
        growth.add_column(column, justify="left" if column == "family" else "right")
    for family in dict.fromkeys(r.family for r in results):
        small, large = by_key.get((family, 1000)), by_key.get((family, 10_000))
        if small is None or large is None:
            continue
        if small.seconds is None or large.seconds is None:
            growth.add_row(family, "n/a", "n/a", "n/a")
            continue
        growth.add_row(family, f"{large.seconds / small.seconds:.1f}x",
                       f"{large.states / small.states:.1f}x",
                       f"{large.text_bytes / small.text_bytes:.1f}x")
    if growth.row_count:
        console.print(growth)


def profile(family: str, size: int, seed: int, top: int, console: Console) -> None:
    document = generate(family, size, seed)
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        compile_workflow(document)
    except (Exception, RecursionError) as exc:  # noqa: B014
        console.print(f"[red]{type(exc).__name__}: {str(exc)[:200]}[/red]")
    finally:
        profiler.disable()
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats(order).print_stats(top)
        console.print(f"[bold]{family} {size}: top {top} by {order}[/bold]")
        console.print(out.getvalue(), markup=False, highlight=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", nargs=2, metavar=("FAMILY", "SIZE"),
                        help="profile one compile with cProfile instead of the table")
    parser.add_argument("--top", type=int, default=10, help="functions shown by --profile")
    args = parser.parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 132)
    if args.profile:
        family, size = args.profile
        if family not in FAMILIES:
            parser.error(f"unknown family {family!r} (known: {', '.join(FAMILIES)})")
        profile(family, int(size), args.seed, args.top, console)
        return 0
    results = []
    for family in args.families:
        for size in args.sizes:
            with console.status(f"compiling {family} / {size} nodes"):
                results.append(measure(family, size, args.seed))
    render(results, console)
    slow = [r for r in results if r.seconds is not None and r.seconds > SLOW_SECONDS]
    failed = [r for r in results if r.error is not None]
    for r in slow:
        console.print(f"[yellow]slow:[/yellow] {r.family} {r.nodes}: {r.seconds:.1f} s "
                      f"(profile: --profile {r.family} {r.nodes})")
    for r in failed:
        console.print(f"[red]failed:[/red] {r.family} {r.nodes}: {r.error}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
