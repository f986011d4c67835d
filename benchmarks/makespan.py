"""Makespan benchmark: how close compiled plans come to the critical path, and what a run
costs in state transitions and Lambda calls.

    .venv/bin/python -m benchmarks.makespan            # everything (about 4 minutes)
    .venv/bin/python -m benchmarks.makespan --quick    # sizes 10-100, 2 seeds, 1 moto run each
    .venv/bin/python -m benchmarks.makespan --no-runs  # structural tables only

**Structural.** For every DAG family of ``benchmarks/dags.py`` and size, each node gets a
seeded lognormal duration. The plan's makespan is measured on the *emitted ASL*
(``compiler.explain.evaluate_definition``: sequence = sum, Parallel = max, guards run) and
divided by the DAG's critical path under the same durations. Columns:

- ``plan``: the plan ``compile_workflow(document)`` emits for nodes that take time
  (``settings.rendezvous`` auto = always: non-series-parallel segments run as Flows, chains
  meeting through rendezvous; unit weights, durations unknown at compile time);
- ``structured``: the same with ``rendezvous: never`` (every segment cut into Parallel
  blocks), ``weighted``: that plan compiled with the true durations as weights, ``best
  structured``: the fastest plan of Parallel blocks there is (exhaustive, tiny sizes);
- ``levels``: the naive baseline, one Parallel per topological level.

**Real runs.** Small workflows whose every node is a ``wait`` of 1-5 s
(``dags.with_waits``) run on the embedded cloud with ``time_scale`` 0.1 (1 s = 100 ms),
once as compiled (rendezvous) and once with ``rendezvous: never``. (A rendezvous costs
~10 ms of Lambda dispatch and DynamoDB on moto, unscaled: at 0.02 it would outweigh the
20 ms nodes, which no real workflow's nodes are.)
Wall time is ExecutionStarted -> ExecutionSucceeded from the history, divided by the
critical path (scaled). Transitions are ``*StateEntered`` events, Lambda calls
``LambdaFunctionScheduled`` events and ``lambda:invoke`` Tasks, both per node.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python benchmarks/makespan.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from benchmarks.dags import FAMILIES, generate, with_waits
from compiler import compile_workflow
from compiler.explain import (
    critical_path,
    evaluate_definition,
    level_batching_makespan,
    node_weights,
    plan_makespan,
)
from compiler.graph import Graph
from compiler.passes.structure import Flow, Guard, NodeStep, Par, Seq, Step

SIZES = (10, 30, 100, 300, 1000)
SEEDS = 5
SIGMA = 0.75  # node seconds ~ lognormal(0, SIGMA): median 1 s, a few 3-4x slower
TARGETS = {"series-parallel": ("= 1.00", 1.0 + 1e-9), "layered": ("mean <= 1.05", 1.05)}
RUN_SIZES = (10, 30)
RUN_SEEDS = 3
TIME_SCALE = 0.1
EPSILON = 1e-9
OPTIMAL_MAX_NODES = 10  # the exhaustive best plan is exponential in the node count


# ---------------------------------------------------------------------------- structural


@dataclass
class Structural:
    family: str
    size: int
    seed: int
    critical: float
    plan: float
    structured: float
    weighted: float  # the structured plan, compiled with the durations as weights
    levels: float
    optimal: float | None  # the fastest structured plan (exhaustive, small sizes only)
    transitions: int  # states entered per execution, every guard live
    lambda_calls: int
    structured_transitions: int
    structured_lambda_calls: int


def lognormal_seconds(graph: Graph, key: str) -> dict[str, float]:
    rng = random.Random(f"durations:{key}")
    return {node.name: rng.lognormvariate(0.0, SIGMA) for node in graph.nodes}


def unit_seconds(graph: Graph) -> dict[str, float]:
    """1 s per node, whatever state a node became (a native Pass would otherwise take 0 s)."""
    return {node.name: 1.0 for node in graph.nodes}


def with_rendezvous(document: dict[str, Any], mode: str) -> dict[str, Any]:
    return {**document, "settings": {**document.get("settings", {}), "rendezvous": mode}}


def measure(family: str, size: int, seed: int) -> Structural:
    document = generate(family, size, seed)
    compiled = compile_workflow(with_rendezvous(document, "always"))
    structured = compile_workflow(with_rendezvous(document, "never"))
    durations = lognormal_seconds(compiled.graph, f"{family}:{size}:{seed}")
    weights = node_weights(compiled.graph, durations)
    weighted = compile_workflow(with_rendezvous(document, "never"), weights)
    optimal = None
    if size <= OPTIMAL_MAX_NODES and not compiled.graph.loops:  # the search knows no Map
        optimal = optimal_plan(compiled.graph, weights, {i: "" for i in range(size)})[0]
    run = evaluate_definition(compiled.definition, durations).live
    structured_run = evaluate_definition(structured.definition, durations).live
    for plan, seconds in ((compiled, run.seconds), (structured, structured_run.seconds)):
        tree = plan_makespan(plan.plan, weights, plan.loop_plans)
        if not math.isclose(seconds, tree):  # the ASL walk and the plan tree must agree
            raise AssertionError(f"{family} {size} {seed}: ASL {seconds} != plan tree {tree}")
    return Structural(
        family, size, seed,
        critical=critical_path(compiled.graph, weights)[0],
        plan=run.seconds,
        structured=structured_run.seconds,
        weighted=evaluate_definition(weighted.definition, durations).live.seconds,
        levels=level_batching_makespan(compiled.graph, weights),
        optimal=optimal,
        transitions=run.transitions,
        lambda_calls=run.lambda_calls,
        structured_transitions=structured_run.transitions,
        structured_lambda_calls=structured_run.lambda_calls,
    )


def _stats(values: list[float]) -> str:
    return f"{statistics.fmean(values):.3f} / {max(values):.3f}"


def structural_table(results: list[Structural]) -> Table:
    table = Table(title="makespan / critical path, structural evaluation of the emitted ASL "
                        f"(lognormal(0, {SIGMA}) node seconds; mean / max over seeds)")
    for column in ("family", "nodes", "seeds", "plan", "target", "met", "structured",
                   "weighted structured", "best structured", "levels baseline",
                   "transitions / node", "Lambda / node"):
        table.add_column(column, justify="left" if column == "family" else "right")
    groups: dict[tuple[str, int], list[Structural]] = {}
    for r in results:
        groups.setdefault((r.family, r.size), []).append(r)
    for (family, size), rows in groups.items():
        plan = [r.plan / r.critical for r in rows]
        target, bound = TARGETS.get(family, ("", float("inf")))
        checked = max(plan) if family == "series-parallel" else statistics.fmean(plan)
        met = "" if not target else ("[green]yes[/]" if checked <= bound else "[red]no[/]")
        optimal = [r.optimal / r.critical for r in rows if r.optimal is not None]
        table.add_row(family, str(size), str(len(rows)), _stats(plan), target, met,
                      _stats([r.structured / r.critical for r in rows]),
                      _stats([r.weighted / r.critical for r in rows]),
                      _stats(optimal) if optimal else "",
                      _stats([r.levels / r.critical for r in rows]),
                      _pair(rows, lambda r: r.transitions, lambda r: r.structured_transitions),
                      _pair(rows, lambda r: r.lambda_calls,
                            lambda r: r.structured_lambda_calls))
    return table


def _pair(rows: list[Structural], plan: Any, structured: Any) -> str:
    """Per node, the plan's and (after the bar) the structured plan's mean."""
    ours = statistics.fmean(plan(r) / r.size for r in rows)
    theirs = statistics.fmean(structured(r) / r.size for r in rows)
    return f"{ours:.2f} | {theirs:.2f}"


# ---------------------------------------------------------------------------- counter-examples


def plan_text(graph: Graph, step: Step, short: dict[int, str]) -> str:
    if isinstance(step, NodeStep):
        return short[step.node]
    if isinstance(step, Seq):
        return "seq(" + ", ".join(plan_text(graph, s, short) for s in step.steps) + ")"
    if isinstance(step, Par):
        return "par(" + ", ".join(plan_text(graph, b, short) for b in step.branches) + ")"
    if isinstance(step, Flow):
        return "flow(" + ", ".join("-".join(short[n] for n in c) for c in step.chains) + ")"
    assert isinstance(step, Guard)
    return "guard(" + plan_text(graph, step.body, short) + ")"


def optimal_plan(graph: Graph, weights: Sequence[float], short: dict[int, str]
                 ) -> tuple[float, str]:
    """The fastest structured plan (exhaustive; tiny graphs only): its makespan and text.

    Independent components always run in parallel (dropping nodes never slows a plan), and
    a connected block must be a sequence whose head is a down-closed subset, so
    opt(S) = min over proper down-closed A of opt(A) + opt(S - A).
    """
    preds = [sum(1 << p for p in graph.preds[v]) for v in range(len(graph))]
    links = [preds[v] | sum(1 << s for s in graph.succs[v]) for v in range(len(graph))]
    memo: dict[int, tuple[float, str]] = {}

    def members(mask: int) -> list[int]:
        return [v for v in range(len(graph)) if mask >> v & 1]

    def components(mask: int) -> list[int]:
        found, left = [], mask
        while left:
            seed = left & -left
            comp = frontier = seed
            while frontier:
                grown = 0
                for v in members(frontier):
                    grown |= links[v]
                frontier = grown & mask & ~comp
                comp |= frontier
            found.append(comp)
            left &= ~comp
        return found

    def opt(mask: int) -> tuple[float, str]:
        if mask in memo:
            return memo[mask]
        nodes = members(mask)
        if len(nodes) == 1:
            result = (weights[nodes[0]], short[nodes[0]])
        elif len(parts := components(mask)) > 1:
            solved = [opt(part) for part in parts]
            result = (max(t for t, _ in solved), "par(" + ", ".join(p for _, p in solved) + ")")
        else:
            result = (float("inf"), "")
            head = (mask - 1) & mask
            while head:
                if all(preds[v] & mask & ~head == 0 for v in members(head)):
                    (t1, p1), (t2, p2) = opt(head), opt(mask & ~head)
                    if t1 + t2 < result[0] - EPSILON:
                        result = (t1 + t2, f"seq({p1}, {p2})")
                head = (head - 1) & mask
        memo[mask] = result
        return result

    return opt((1 << len(graph)) - 1)


@dataclass
class CounterExample:
    size: int
    seed: int
    edges: str
    seconds: str
    plan: str  # what compile_workflow(document) emits
    ratio: float  # that plan under the durations
    weighted_ratio: float  # the plan compiled with the durations as weights
    optimal_ratio: float  # the fastest structured plan there is
    optimal: str
    unit_ratio: float  # the emitted plan under unit durations (the compiler's own model)
    unit_optimal_ratio: float
    why: str = ""


def _example(size: int, seed: int) -> CounterExample:
    """(Structured plans: with rendezvous every plan takes the critical path.)"""
    document = with_rendezvous(generate("layered", size, seed), "never")
    compiled = compile_workflow(document)
    graph = compiled.graph
    short = {i: node.name.split()[-1] for i, node in enumerate(graph.nodes)}
    durations = lognormal_seconds(graph, f"layered:{size}:{seed}")
    weights = node_weights(graph, durations)
    unit = [1.0] * len(graph)
    critical, unit_critical = critical_path(graph, weights)[0], critical_path(graph, unit)[0]
    weighted = compile_workflow(document, weights).definition
    best, best_text = optimal_plan(graph, weights, short)
    return CounterExample(
        size, seed,
        edges=" ".join(f"{short[e.source]}→{short[e.target]}" for e in graph.edges),
        seconds=" ".join(f"{short[i]}={w:.2f}" for i, w in enumerate(weights)),
        plan=plan_text(graph, compiled.plan, short),
        ratio=evaluate_definition(compiled.definition, durations).live.seconds / critical,
        weighted_ratio=evaluate_definition(weighted, durations).live.seconds / critical,
        optimal_ratio=best / critical,
        optimal=best_text,
        unit_ratio=evaluate_definition(compiled.definition, unit_seconds(graph)
                                       ).live.seconds / unit_critical,
        unit_optimal_ratio=optimal_plan(graph, unit, short)[0] / unit_critical,
    )


def counter_examples(sizes: Sequence[int] = (5, 6, 7, 8, 9), seeds: int = 150,
                     per_kind: int = 2) -> list[CounterExample]:
    """The smallest layered DAGs that show each way a plan can miss the critical path.

    ``own model``: slower than the best structured plan even under unit durations, the
    compiler's own estimate (a heuristic gap); ``known durations``: slower than the best plan
    although compiled with the true durations; ``unknown durations``: compiled with unit
    weights, slower than the best plan under the true durations. ``optimal`` > 1 means no
    Step Functions plan of Parallel states reaches the critical path.
    """
    kinds: dict[str, list[CounterExample]] = {"own model": [], "known durations": [],
                                              "unknown durations": []}
    for size in sizes:
        for seed in range(seeds):
            c = _example(size, seed)
            if c.unit_ratio > c.unit_optimal_ratio + EPSILON:
                c.why = "own model"
            elif c.weighted_ratio > c.optimal_ratio + EPSILON:
                c.why = "known durations"
            elif c.ratio > c.optimal_ratio + EPSILON:
                c.why = "unknown durations"
            else:
                continue
            kinds[c.why].append(c)
    chosen = []
    for found in kinds.values():
        found.sort(key=lambda c: (c.size, -(c.ratio - c.optimal_ratio)))
        chosen.extend(found[:per_kind])
    return chosen


def counter_example_table(examples: list[CounterExample]) -> Table:
    table = Table(title="tiny layered counter-examples (node i = 'noOp i' / 'set i'; 0 = trigger;"
                        " ratios = makespan / critical path)")
    for column in ("kind", "nodes", "seed", "edges", "seconds", "emitted plan", "ratio",
                   "weighted", "optimal", "optimal plan", "unit: emitted / optimal"):
        table.add_column(column, justify="right" if column in ("nodes", "seed") else "left")
    for c in examples:
        table.add_row(c.why, str(c.size), str(c.seed), c.edges, c.seconds, c.plan,
                      f"{c.ratio:.3f}", f"{c.weighted_ratio:.3f}", f"{c.optimal_ratio:.3f}",
                      c.optimal, f"{c.unit_ratio:.3f} / {c.unit_optimal_ratio:.3f}")
    return table


# ---------------------------------------------------------------------------- real runs


@dataclass
class RealRun:
    family: str
    size: int
    seed: int
    mode: str  # settings.rendezvous
    critical: float  # seconds (unscaled)
    structural: float  # the plan's makespan on the ASL, seconds (unscaled)
    wall: float  # seconds, from the history timestamps
    entered: int
    lambda_calls: int
    estimated_transitions: int
    estimated_lambda: int


def _warm_up(cloud: Any) -> None:
    """First Lambda dispatch imports the runner (~0.3 s): keep it out of the measurements."""
    compiled = compile_workflow({"name": "warm-up", "nodes": [
        {"name": "T", "type": "manualTrigger"},
        {"name": "W", "type": "wait", "parameters": {"seconds": 1}}],
        "connections": [{"from": "T", "to": "W"}]})
    cloud.wait(cloud.start(compiled))


def real_runs(families: Sequence[str], sizes: Sequence[int], seeds: int,
              time_scale: float, console: Console) -> list[RealRun]:
    from local.cloud import LocalCloud

    runs: list[RealRun] = []
    with LocalCloud(time_scale=time_scale) as cloud:
        _warm_up(cloud)
        for family in families:
            for size in sizes:
                for mode in ("auto", "never"):
                    for seed in range(1, seeds + 1):
                        with console.status(f"running {family} / {size} nodes / seed {seed}"):
                            runs.append(_real_run(cloud, family, size, seed, mode))
    return runs


def _real_run(cloud: Any, family: str, size: int, seed: int, mode: str) -> RealRun:
    compiled = compile_workflow(with_rendezvous(with_waits(generate(family, size, seed), seed),
                                                mode))
    graph = compiled.graph
    durations = {
        node.name: float(node.parameters["seconds"]) if node.type == "wait" else 0.0
        for node in graph.nodes
    }
    estimate = evaluate_definition(compiled.definition, durations).live
    finished = cloud.wait(cloud.start(compiled), timeout_seconds=120)
    if finished.status != "SUCCEEDED":
        raise RuntimeError(f"{compiled.name}: {finished.status} {finished.error} "
                           f"{finished.cause}")
    stamps = {e["type"]: e["timestamp"] for e in finished.history
              if e["type"] in ("ExecutionStarted", "ExecutionSucceeded")}
    return RealRun(
        family, size, seed, mode,
        critical=critical_path(graph, node_weights(graph, durations))[0],
        structural=estimate.seconds,
        wall=(stamps["ExecutionSucceeded"] - stamps["ExecutionStarted"]).total_seconds(),
        entered=sum(1 for e in finished.history if e["type"].endswith("StateEntered")),
        lambda_calls=sum(1 for e in finished.history if _calls_lambda(e)),
        estimated_transitions=estimate.transitions,
        estimated_lambda=estimate.lambda_calls,
    )


def _calls_lambda(event: dict[str, Any]) -> bool:
    """A Lambda Task (``LambdaFunctionScheduled``) or a ``lambda:invoke`` integration
    (``TaskScheduled`` with resource type lambda: a rendezvous's await)."""
    if event["type"] == "LambdaFunctionScheduled":
        return True
    details = event.get("taskScheduledEventDetails") or {}
    return event["type"] == "TaskScheduled" and details.get("resourceType") == "lambda"


def real_table(runs: list[RealRun], time_scale: float) -> Table:
    table = Table(title=f"real runs on moto, wait nodes of 1-5 s, time scale {time_scale} "
                        "(mean / max over seeds)")
    for column in ("family", "nodes", "rendezvous", "seeds", "critical ms", "wall ms",
                   "wall / critical",
                   "ASL plan / critical", "overhead ms / state", "transitions / node",
                   "Lambda / node", "estimate = history"):
        table.add_column(column, justify="left" if column == "family" else "right")
    groups: dict[tuple[str, int, str], list[RealRun]] = {}
    for r in runs:
        groups.setdefault((r.family, r.size, r.mode), []).append(r)
    for (family, size, mode), rows in groups.items():
        exact = all(r.entered == r.estimated_transitions and r.lambda_calls == r.estimated_lambda
                    for r in rows)
        table.add_row(
            family, str(size), mode, str(len(rows)),
            f"{statistics.fmean(r.critical for r in rows) * time_scale * 1000:.0f}",
            f"{statistics.fmean(r.wall for r in rows) * 1000:.0f}",
            _stats([r.wall / (r.critical * time_scale) for r in rows]),
            _stats([r.structural / r.critical for r in rows]),
            f"{statistics.fmean((r.wall - r.structural * time_scale) / r.entered for r in rows) * 1000:.2f}",  # noqa: E501
            f"{statistics.fmean(r.entered / r.size for r in rows):.2f}",
            f"{statistics.fmean(r.lambda_calls / r.size for r in rows):.2f}",
            "[green]yes[/]" if exact else "[red]no[/]",
        )
    return table


# ---------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="sizes 10-100, 2 seeds, one moto run per family at 10 nodes")
    parser.add_argument("--sizes", type=int, nargs="+")
    parser.add_argument("--seeds", type=int)
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    parser.add_argument("--no-runs", action="store_true", help="skip the real moto runs")
    parser.add_argument("--time-scale", type=float, default=TIME_SCALE)
    args = parser.parse_args(argv)
    sizes = args.sizes or ((10, 30, 100) if args.quick else SIZES)
    seeds = args.seeds or (2 if args.quick else SEEDS)
    console = Console(width=None if sys.stdout.isatty() else 200)

    results: list[Structural] = []
    for family in args.families:
        for size in sizes:
            with console.status(f"compiling {family} / {size} nodes"):
                results.extend(measure(family, size, seed) for seed in range(1, seeds + 1))
    console.print(structural_table(results))

    layered = [r.plan / r.critical for r in results if r.family == "layered"]
    if layered and statistics.fmean(layered) > 1.05:
        console.print(f"[yellow]layered: mean plan ratio {statistics.fmean(layered):.3f}, "
                      f"max {max(layered):.3f} misses the 1.05 target[/]")
    if "layered" in args.families:
        with console.status("searching tiny layered counter-examples"):
            examples = counter_examples(seeds=40 if args.quick else 150)
        if examples:
            console.print(counter_example_table(examples))

    if not args.no_runs:
        run_sizes = (10,) if args.quick else RUN_SIZES
        # with_waits turns every node into a wait: a loop's back edge would become a cycle
        timed = [family for family in args.families if family != "loop-heavy"]
        runs = real_runs(timed, run_sizes, 1 if args.quick else RUN_SEEDS,
                         args.time_scale, console)
        console.print(real_table(runs, args.time_scale))
    return 0


if __name__ == "__main__":
    sys.exit(main())
