"""What runner-chain fusion would save: Lambda invocations and state transitions per node.

Run: ``.venv/bin/python -m benchmarks.fusion_estimate``. For every example and every n8n
corpus document (``tests/compiler/asl_corpus.py``) it compiles the workflow, reads one
execution's transitions and Lambda invocations off the emitted ASL (``compiler.explain``:
every branch live, one iteration per loop) and counts the runner nodes that fusion
(issue 15, operator chaining) would run inside the Task of the node before them: runner
Tasks in a row of the workflow's top-level sequence, each the only successor of the one
before and fed only by it, with no retry, no timeout, onError stopWorkflow, outside
try/catch regions and Flows, no trigger. Each such node saves one Lambda invocation and one
state transition. An estimate of the lever, not a change: the compiler emits no fused
Task yet.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from compiler import WorkflowInvalid, compile_workflow
from compiler.explain import explain
from compiler.passes.decide import Decisions
from compiler.passes.structure import NodeStep, Seq
from compiler.regions import resolve_regions
from tests.compiler.asl_corpus import documents


def _fusible(decisions: Decisions, node: int) -> bool:
    graph, spec = decisions.graph, decisions.graph.nodes[node]
    return (decisions.nodes[node].lowering == "runner" and not graph.is_trigger(node)
            and spec.retry is None and spec.timeoutSeconds is None
            and spec.onError == "stopWorkflow")


def chains(decisions: Decisions) -> list[list[int]]:
    """Runner chains of two or more nodes in the top-level sequence (see the docstring)."""
    graph, plan = decisions.graph, decisions.plan
    in_regions = {n for region in resolve_regions(graph) for n in region.members}
    steps = plan.steps if isinstance(plan, Seq) else (plan,)
    found: list[list[int]] = []
    current: list[int] = []
    for step in steps:
        node = step.node if isinstance(step, NodeStep) else None
        ok = node is not None and node not in in_regions and _fusible(decisions, node)
        if ok and current and graph.succs[current[-1]] == [node] \
                and graph.preds[node] == [current[-1]]:
            current.append(node)  # type: ignore[arg-type]
            continue
        if len(current) > 1:
            found.append(current)
        current = [node] if ok and node is not None else []
    if len(current) > 1:
        found.append(current)
    return found


def main() -> None:
    table = Table(title="one execution (every branch live): before -> with fusion")
    for column in ("document", "nodes", "transitions", "Lambda calls", "per node",
                   "fused chains"):
        table.add_column(column, justify="left" if column == "document" else "right")
    totals = [0, 0, 0, 0]
    for name, document in documents():
        if not name.startswith(("examples/", "tests/n8n/corpus/")):
            continue
        try:
            compiled = compile_workflow(document)
        except WorkflowInvalid:
            continue
        live = explain(compiled).run.live
        found = chains(compiled.decisions)
        saved = sum(len(chain) - 1 for chain in found)
        nodes = len(compiled.graph)
        totals = [totals[0] + nodes, totals[1] + live.transitions,
                  totals[2] + live.lambda_calls, totals[3] + saved]
        if saved:
            table.add_row(name.rsplit("/", 1)[-1], str(nodes),
                          f"{live.transitions} -> {live.transitions - saved}",
                          f"{live.lambda_calls} -> {live.lambda_calls - saved}",
                          f"{live.lambda_calls / nodes:.2f} -> "
                          f"{(live.lambda_calls - saved) / nodes:.2f}",
                          ", ".join(str(len(chain)) for chain in found))
    nodes, transitions, calls, saved = totals
    table.add_row("all documents", str(nodes), f"{transitions} -> {transitions - saved}",
                  f"{calls} -> {calls - saved}",
                  f"{calls / nodes:.2f} -> {(calls - saved) / nodes:.2f}", "")
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
