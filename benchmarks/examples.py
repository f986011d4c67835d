"""Wall time of every example workflow on the embedded cloud (moto), real clock.

Run: ``.venv/bin/python -m benchmarks.examples``. Examples that call HTTP get a local
server on 127.0.0.1 (the same routes the tests serve). Prints one row per example: status,
nodes run, state transitions and the best of three wall times.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from compiler import compile_workflow, load_file
from local.cloud import LocalCloud

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
INPUTS = {"continue-error-output.yaml": {"amount": "12.5"},
          "subworkflow-child.yaml": [{"amount": 2}],
          # under the limit: nothing pauses for a person (the pause itself costs no time)
          "approval-flow.yaml": [{"amount": 40}, {"amount": 60}]}


class _Api(BaseHTTPRequestHandler):
    hits: Counter[str] = Counter()

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.hits[self.path] += 1
        if self.path == "/flaky" and self.hits[self.path] % 3 != 0:
            status, body = 503, {"error": "again"}
        else:
            status, body = 200, {"orders": [{"id": i, "total": 10.0 * i, "paid": i % 2 == 0}
                                            for i in range(1, 9)], "ok": True}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    table = Table(title="examples on the embedded cloud (best of 3, real clock)")
    for column in ("example", "status", "nodes run", "transitions", "wall s"):
        table.add_column(column, justify="left" if column in ("example", "status") else "right")
    examples = {path: compile_workflow(load_file(path))
                for path in sorted(EXAMPLES.glob("*.yaml"))}
    with LocalCloud(time_scale=1.0) as cloud:
        cloud.deploy_project({compiled.name: compiled for compiled in examples.values()})
        for path, compiled in examples.items():
            user_input = INPUTS.get(path.name, {"baseUrl": base_url})
            best, status, runs, transitions = float("inf"), "", 0, 0
            for _ in range(3):
                started = time.perf_counter()
                execution_id = cloud.start(compiled, user_input)
                finished = cloud.wait(execution_id, poll_seconds=0.005)
                best = min(best, time.perf_counter() - started)
                status = finished.status
                runs = len(cloud.repository.node_runs(execution_id, with_output=False))
                transitions = sum(1 for e in finished.history if e["type"].endswith("Entered"))
            table.add_row(path.name, status, str(runs), str(transitions), f"{best:.3f}")
    server.shutdown()
    Console().print(table)


if __name__ == "__main__":
    main()
