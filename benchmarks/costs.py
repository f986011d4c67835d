"""What each example costs per run, as recorded when it ends, beside `sfnflow plan`'s
estimate: the table of the README.

Run: ``.venv/bin/python -m benchmarks.costs [--markdown]``. Every example runs once on the
embedded cloud (clock scaled 1/100: waits and retry intervals are short, which changes no
count), with the inputs of ``benchmarks.examples`` and its local HTTP server. Columns:
recorded state transitions (of the execution itself); the plan's (``compiler.explain``:
every guarded block live / every guard skipped, one loop iteration); Lambda requests and
GB-seconds; the recorded cost of one run and of 1,000 runs, sub-workflows included
(us-east-1 prices, ``functions.costs.prices``), and what 1,000 runs would cost as Express
(``-`` where Express cannot run it: waits or > 5 min). Lambda durations are this
machine's, not AWS's: their share of the cost is indicative.
"""

from __future__ import annotations

import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks.examples import INPUTS, _Api
from compiler import compile_workflow, load_file
from compiler.explain import explain
from functions.costs.store import CostStore
from functions.costs.view import cost_view
from local.cloud import LocalCloud

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
COLUMNS = ("example", "status", "transitions", "plan (live/skipped)", "Lambda req",
           "Lambda GB-s", "$ per run", "$ per 1,000", "Express $ per 1,000")


def rows(time_scale: float = 0.01) -> list[dict[str, Any]]:
    """One row per example (see the module docstring)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    examples = {path: compile_workflow(load_file(path))
                for path in sorted(EXAMPLES.glob("*.yaml"))}
    found = []
    try:
        with LocalCloud(time_scale=time_scale) as cloud:
            cloud.deploy_project({compiled.name: compiled for compiled in examples.values()})
            for path, compiled in examples.items():
                execution_id = cloud.start(compiled, INPUTS.get(path.name,
                                                                {"baseUrl": base_url}))
                finished = cloud.wait(execution_id, poll_seconds=0.005)
                cost = cost_view(CostStore(), execution_id)
                plan = explain(compiled).run
                found.append({"example": path.name, "status": finished.status,
                              "cost": cost, "plan": plan})
    finally:
        server.shutdown()
    return found


def _cells(row: dict[str, Any]) -> list[str]:
    cost, plan = row["cost"], row["plan"]
    usage = cost.get("usage", {})
    express = cost.get("express", {})
    total = cost["withChildren"]["total"]
    return [row["example"], row["status"], str(usage.get("stateTransitions", "?")),
            f"{plan.live.transitions}/{plan.skipped.transitions}",
            str(usage.get("lambdaRequests", "?")), f"{usage.get('lambdaGbSeconds', 0):.3f}",
            f"{total:.7f}", f"{1000 * total:.4f}",
            f"{1000 * express['total']:.4f}" if express.get("possible") else "-"]


def main() -> None:
    found = rows()
    if "--markdown" in sys.argv:
        print("| " + " | ".join(COLUMNS) + " |")
        print("|" + "---|" * len(COLUMNS))
        for row in found:
            print("| " + " | ".join(_cells(row)) + " |")
        return
    table = Table(title="the cost of one run of each example (us-east-1 prices)")
    for column in COLUMNS:
        table.add_column(column, justify="left" if column in ("example", "status") else "right")
    for row in found:
        table.add_row(*_cells(row))
    Console().print(table)


if __name__ == "__main__":
    main()
