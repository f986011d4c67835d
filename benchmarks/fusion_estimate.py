"""Runner-chain fusion's effect: Lambda invocations and state transitions per node.

Run: ``.venv/bin/python -m benchmarks.fusion_estimate``. Every example and every n8n corpus
document (``tests/compiler/asl_corpus.py``) is compiled twice, ``settings.fusion`` false
and true (``compiler.passes.decide``), and one execution's transitions and Lambda
invocations are read off each emitted ASL (``compiler.explain``: every branch live, one
iteration per loop). Rows list the documents fusion changes; the last row sums them all.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from compiler import WorkflowInvalid, compile_workflow
from compiler.explain import RunEstimate, explain
from compiler.n8n import is_n8n
from compiler.n8n.loading import as_workflow_document
from tests.compiler.asl_corpus import documents


def _with_fusion(document: Any, fusion: bool) -> Any:
    if is_n8n(document):
        document = as_workflow_document(document)[0]
    return {**document, "settings": {**document.get("settings", {}), "fusion": fusion}}


def _live(document: Any, fusion: bool) -> tuple[RunEstimate, int]:
    compiled = compile_workflow(_with_fusion(document, fusion))
    return explain(compiled).run, len(compiled.graph)


def main() -> None:
    table = Table(title="one execution (every branch live): unfused -> fused")
    for column in ("document", "nodes", "transitions", "Lambda calls", "calls per node"):
        table.add_column(column, justify="left" if column == "document" else "right")
    totals = [0, 0, 0, 0, 0]
    for name, document in documents():
        if not name.startswith(("examples/", "tests/n8n/corpus/")):
            continue
        try:
            (before, nodes), (after, _) = _live(document, False), _live(document, True)
        except WorkflowInvalid:
            continue
        b, a = before.live, after.live
        totals = [totals[0] + nodes, totals[1] + b.transitions, totals[2] + a.transitions,
                  totals[3] + b.lambda_calls, totals[4] + a.lambda_calls]
        if (b.transitions, b.lambda_calls) != (a.transitions, a.lambda_calls):
            table.add_row(name.rsplit("/", 1)[-1], str(nodes),
                          f"{b.transitions} -> {a.transitions}",
                          f"{b.lambda_calls} -> {a.lambda_calls}",
                          f"{b.lambda_calls / nodes:.2f} -> {a.lambda_calls / nodes:.2f}")
    nodes, t_before, t_after, c_before, c_after = totals
    table.add_row("all documents", str(nodes), f"{t_before} -> {t_after}",
                  f"{c_before} -> {c_after}",
                  f"{c_before / nodes:.2f} -> {c_after / nodes:.2f}")
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
