"""Cost of n8n expressions per 10,000 item evaluations: sfnflow's QuickJS engine next to n8n's.

    .venv/bin/python -m benchmarks.js_expressions                 # our engine only
    .venv/bin/python -m benchmarks.js_expressions --peer /work/peer   # and n8n's (run-n8n.js)

Ours: one ExpressionEvaluator (one context, Luxon + prelude loaded once) resolving a one-field
parameter tree for 10,000 items, the way a node run would. n8n's: a workflow "Execute Workflow
Trigger -> Src (NoOp) -> Set" over the same 10,000 items, run by the peer harness with
``--repeat 3``; its figure is the Set node's median time, so it includes the Set node's own
work per item (n8n has no cheaper public way to evaluate an expression per item).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from functions.js.engine import JsEngine
from functions.js.expressions import ExpressionEvaluator
from functions.js.run_data import NodeInfo, NodeRunData, Source, TaskData

N = 10_000
EXPRESSIONS = {
    "property": "={{ $json.a }}",
    "template, two parts": "=Hello {{ $json.name }}, you are {{ $json.a }}",
    "extension method": "={{ $json.name.toTitleCase() }}",
    "date ($now.plus)": "={{ $now.plus(1, 'day').toISODate() }}",
    "paired item": "={{ $('Src').item.json.x }}",
}


def _items() -> list[dict[str, object]]:
    return [{"json": {"a": i, "x": i * 2, "name": f"user number {i}"}} for i in range(N)]


def ours(expression: str, repeat: int = 3) -> float:
    items = _items()
    src = [dict(item, pairedItem={"item": i}) for i, item in enumerate(items)]
    data = NodeRunData(
        node="Set",
        input_items=items,
        sources=[Source("Src")],
        run_data={
            "Src": [TaskData(outputs=[src], source=[Source("Trigger")])],
            "Trigger": [TaskData(outputs=[items])],
        },
        nodes={"Src": NodeInfo("Src"), "Set": NodeInfo("Set"), "Trigger": NodeInfo("Trigger")},
        connections={
            "Trigger": {"main": [[{"node": "Src", "type": "main", "index": 0}]]},
            "Src": {"main": [[{"node": "Set", "type": "main", "index": 0}]]},
        },
    )
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        evaluator = ExpressionEvaluator(data, {"value": expression})
        for index in range(N):
            evaluator.resolve(index)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def setup_ms(with_luxon: bool, repeat: int = 20) -> float:
    """Median cost of a ready context; Luxon is parsed on first use of a date."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        engine = JsEngine()
        if with_luxon:
            engine.eval("DateTime.now().year")
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _workflow(expression: str) -> dict[str, object]:
    return {
        "name": "bench",
        "settings": {"executionOrder": "v1"},
        "nodes": [
            {
                "id": "1",
                "name": "Trigger",
                "type": "n8n-nodes-base.executeWorkflowTrigger",
                "typeVersion": 1,
                "position": [0, 0],
                "parameters": {},
            },
            {
                "id": "2",
                "name": "Src",
                "type": "n8n-nodes-base.noOp",
                "typeVersion": 1,
                "position": [200, 0],
                "parameters": {},
            },
            {
                "id": "3",
                "name": "Set",
                "type": "n8n-nodes-base.set",
                "typeVersion": 3.4,
                "position": [400, 0],
                "parameters": {
                    "mode": "manual",
                    "includeOtherFields": False,
                    "options": {},
                    "assignments": {
                        "assignments": [
                            {"id": "a", "name": "r", "value": expression, "type": "string"}
                        ]
                    },
                },
            },
        ],
        "connections": {
            "Trigger": {"main": [[{"node": "Src", "type": "main", "index": 0}]]},
            "Src": {"main": [[{"node": "Set", "type": "main", "index": 0}]]},
        },
    }


def theirs(peer: Path, expression: str) -> tuple[float, float]:
    """(Set node median ms, whole execution median ms) on n8n's engine."""
    with tempfile.TemporaryDirectory() as tmp:
        wf = Path(tmp) / "wf.json"
        data = Path(tmp) / "items.json"
        wf.write_text(json.dumps(_workflow(expression)))
        data.write_text(json.dumps([item["json"] for item in _items()]))
        report = Path(tmp) / "out.json"
        with report.open("w") as sink:  # a file, not a pipe: node exits before a pipe drains
            subprocess.run(
                [
                    "node",
                    str(peer / "run-n8n.js"),
                    str(wf),
                    str(data),
                    "--repeat",
                    "3",
                    "--mode",
                    "integrated",
                ],
                stdout=sink,
                check=True,
                cwd=peer,
            )
        result = json.loads(report.read_text())
    if not result.get("ok"):
        raise RuntimeError(f"n8n run failed: {result.get('error')}")
    return float(result["nodes"]["Set"]["ms"]), float(result["repeat"]["medianMs"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", type=Path, help="directory of an installed n8n-peer (run-n8n.js)")
    args = parser.parse_args(argv)
    bare, dated = setup_ms(False), setup_ms(True)
    print(f"context set-up: {bare:.1f} ms median, {dated:.1f} ms with Luxon loaded")
    header = f"{'expression':22} {'sfnflow ms/10k':>15}"
    if args.peer:
        header += f" {'n8n Set ms/10k':>15} {'n8n run ms':>11}"
    print(header)
    for label, expression in EXPRESSIONS.items():
        row = f"{label:22} {ours(expression):15.0f}"
        if args.peer:
            node_ms, run_ms = theirs(args.peer, expression)
            row += f" {node_ms:15.0f} {run_ms:11.0f}"
        print(row)


if __name__ == "__main__":
    main()
