"""sfnflow beside n8n's own engine on the same DAG shapes: one machine, one run each.

    .venv/bin/python -m benchmarks.peer                       # every shape (~3 minutes)
    .venv/bin/python -m benchmarks.peer --shapes chain n      # some of them
    .venv/bin/python -m benchmarks.peer --peer /work/peer     # an installed peer harness
    .venv/bin/python -m benchmarks.peer --markdown            # the README's table
    .venv/bin/python -m benchmarks.peer --shapes items-1 items-10 --no-n8n   # concurrency

The shapes (``benchmarks.peer_shapes``) are HTTP calls to a loopback server that sleeps N ms
per call (a threaded ``http.server`` on 127.0.0.1), joined by Merge nodes, plus a 1,000-item
transform chain, an IF-heavy flow and one HTTP node over 10 items (``items-1``: one request
at a time, ``items-10``: httpRequest ``concurrency`` 10; n8n sends them all at once either
way). Each is emitted as an n8n workflow and run by n8n
1.123's engine (``run-n8n.js``: its ``ms`` is the execution alone, no process start), and as
an sfnflow workflow run by ``sfnflow run --json`` in its own process (startedAt -> stoppedAt
of the execution record: the embedded cloud's start-up is not counted, its per-node and
end-of-execution overheads are).

Columns: the critical path (the longest path of the nodes that run, from the DAG and the
call durations; an IF's other side does not run), n8n's and sfnflow's wall time and their
ratios; state transitions and Lambda calls per node as the execution recorded them (its
history, ``functions.costs``) and, in brackets, as ``sfnflow plan`` estimates them (every
guarded block live); and Step Functions + Lambda dollars per 1,000 runs, Standard (billed
per transition) and Express (per request and duration at 64 MB; ``-`` where
``compiler.express`` keeps the workflow Standard, e.g. a rendezvous's callback). Lambda
GB-seconds are this machine's durations (a call's sleep is billed Lambda time, as in AWS).
The last column is the whole ``sfnflow run`` process (start-up, deploy, run, report).

The peer harness is installed when missing (about 40 s and 750 MB, ``npm ci``) into a cache
folder outside the repository (``--peer``, default ``~/.cache/sfnflow/n8n-peer``) from
``../shared/n8n-peer``; the test suite never needs it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

if __package__ in (None, ""):  # run as a script: python benchmarks/peer.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from benchmarks.peer_shapes import SHAPES, VALUE, Shape, n8n_document, sfnflow_document
from compiler import compile_workflow
from compiler.explain import critical_path, explain, node_weights
from compiler.express import decide

ROOT = Path(__file__).resolve().parents[1]
PEER_SOURCE = ROOT.parent / "shared" / "n8n-peer"
PEER_FILES = ("package.json", "package-lock.json", "run-n8n.js")
DEFAULT_PEER = Path.home() / ".cache" / "sfnflow" / "n8n-peer"
RUN_TIMEOUT_SECONDS = 300
COLUMNS = ("shape", "requests", "critical path", "n8n", "sfnflow", "sfnflow / n8n",
           "sfnflow / critical path", "transitions / node", "Lambda / node",
           "Standard $ / 1,000", "Express $ / 1,000", "sfnflow run process")


# ---------------------------------------------------------------------------- the server


class _Sleeper(BaseHTTPRequestHandler):
    """``GET /sleep?ms=N&value=V``: sleeps N ms, answers ``{"value": V}``."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        query = parse_qs(urlsplit(self.path).query)
        time.sleep(int(query.get("ms", ["0"])[0]) / 1000)
        body = json.dumps({"value": int(query.get("value", ["0"])[0])}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def serve() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sleeper, bind_and_activate=False)
    server.daemon_threads = True
    # socketserver's backlog of 5 drops the 6th of 10 simultaneous connections: its
    # client retries a second later, which would be measured as a slow node
    server.request_queue_size = 128
    server.server_bind()
    server.server_activate()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# ---------------------------------------------------------------------------- the peer


def ensure_peer(folder: Path, source: Path = PEER_SOURCE) -> Path:
    """``folder``'s run-n8n.js, installing the harness there first when it is missing."""
    harness = folder / "run-n8n.js"
    if harness.exists() and (folder / "node_modules").is_dir():
        return harness
    if not all((source / name).exists() for name in PEER_FILES):
        raise SystemExit(f"no n8n peer at {folder} and no harness to install from {source}")
    folder.mkdir(parents=True, exist_ok=True)
    for name in PEER_FILES:
        shutil.copy2(source / name, folder / name)
    print(f"installing n8n's engine into {folder} (about 40 s)...", file=sys.stderr)
    subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=folder,
                   check=True, stdout=subprocess.DEVNULL)
    return harness


def run_n8n(harness: Path, document: dict[str, Any], folder: Path) -> float:
    """n8n's execution wall time in seconds (the harness's own ``ms``)."""
    path = folder / "n8n.json"
    path.write_text(json.dumps(document))
    with tempfile.TemporaryFile("w+") as out:  # a pipe would cut node's output at 64 KiB
        subprocess.run(["node", str(harness), str(path), json.dumps([{"value": VALUE}])],
                       stdout=out, check=True, timeout=RUN_TIMEOUT_SECONDS)
        out.seek(0)
        result = json.load(out)
    if not result.get("ok"):
        raise RuntimeError(f"n8n: {document['name']}: {result.get('error')}")
    return float(result["ms"]) / 1000


# ---------------------------------------------------------------------------- sfnflow


def run_sfnflow(document: dict[str, Any], folder: Path) -> dict[str, Any]:
    """``sfnflow run --json``'s report of one execution, in a process of its own (the CLI
    of this tree: the one the benchmark is in, not necessarily the installed one)."""
    path = folder / "sfnflow.json"
    path.write_text(json.dumps(document))
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "local.cli", "run", str(path), "--json",
                        "--input", json.dumps({"value": VALUE})], stdout=out, cwd=folder,
                       env=environment, timeout=RUN_TIMEOUT_SECONDS, check=False)
        process = time.perf_counter() - started
        out.seek(0)
        report: dict[str, Any] = json.load(out)
    report["processSeconds"] = process
    if report["status"] != "SUCCEEDED":
        raise RuntimeError(f"sfnflow: {document['name']}: {report['status']} {report['error']}")
    return report


def _seconds(report: dict[str, Any]) -> float:
    from datetime import datetime

    started, stopped = (datetime.fromisoformat(report[key].replace("Z", "+00:00"))
                        for key in ("startedAt", "stoppedAt"))
    return (stopped - started).total_seconds()


# ---------------------------------------------------------------------------- a row


@dataclass
class Row:
    shape: str
    calls: int
    nodes: int
    critical: float
    n8n: float | None
    sfnflow: float
    process: float  # the whole `sfnflow run` process: start-up, deploy, run, report
    transitions: int
    lambda_calls: int
    plan_transitions: int
    plan_lambda_calls: int
    standard: float  # Step Functions + Lambda dollars per 1,000 runs
    express: float | None  # None: this run could not be an Express execution


def measure(shape: Shape, base_url: str, harness: Path | None) -> Row:
    document = sfnflow_document(shape, base_url)
    compiled = compile_workflow(document)
    weights = node_weights(compiled.graph, shape.live_seconds(), default=0.0)
    plan = explain(compiled).run.live
    with tempfile.TemporaryDirectory(prefix="sfnflow-peer-") as tmp:
        n8n = run_n8n(harness, n8n_document(shape, base_url), Path(tmp)) if harness else None
        report = run_sfnflow(document, Path(tmp))
    cost = report["cost"]
    usage, components, express = cost["usage"], cost["components"], cost["express"]
    return Row(
        shape=shape.name, calls=shape.calls, nodes=len(shape.steps),
        critical=critical_path(compiled.graph, weights)[0],
        n8n=n8n, sfnflow=_seconds(report), process=report["processSeconds"],
        transitions=usage["stateTransitions"], lambda_calls=usage["lambdaRequests"],
        plan_transitions=plan.transitions, plan_lambda_calls=plan.lambda_calls,
        standard=1000 * (components["stepFunctions"] + components["lambda"]),
        express=1000 * (express["stepFunctions"] + components["lambda"])
        if decide("auto", compiled.definition).type == "EXPRESS" else None,
    )


def _ratio(numerator: float | None, denominator: float | None) -> str:
    if numerator is None or not denominator:
        return "-"
    return f"{numerator / denominator:.2f}"


def cells(row: Row) -> list[str]:
    return [
        row.shape, str(row.calls), f"{row.critical:.2f} s",
        "-" if row.n8n is None else f"{row.n8n:.2f} s", f"{row.sfnflow:.2f} s",
        _ratio(row.sfnflow, row.n8n), _ratio(row.sfnflow, row.critical),
        f"{row.transitions / row.nodes:.2f} ({row.plan_transitions / row.nodes:.2f})",
        f"{row.lambda_calls / row.nodes:.2f} ({row.plan_lambda_calls / row.nodes:.2f})",
        f"{row.standard:.4f}", "-" if row.express is None else f"{row.express:.4f}",
        f"{row.process:.1f} s",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", nargs="+", choices=list(SHAPES), default=list(SHAPES))
    parser.add_argument("--peer", type=Path, default=DEFAULT_PEER,
                        help="folder of n8n's engine (run-n8n.js), installed when missing")
    parser.add_argument("--no-n8n", action="store_true", help="sfnflow only")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    harness = None if args.no_n8n else ensure_peer(args.peer)
    console = Console(stderr=args.markdown)
    server = serve()
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    rows = []
    try:
        for name in args.shapes:
            with console.status(f"running {name}"):
                rows.append(measure(SHAPES[name](), base_url, harness))
    finally:
        server.shutdown()
    load = "load average " + " / ".join(f"{value:.1f}" for value in os.getloadavg())
    if args.markdown:
        print(f"{len(rows)} shapes, one run each, {os.cpu_count()} cores, {load}\n")
        print("| " + " | ".join(COLUMNS) + " |")
        print("|" + "---|" * len(COLUMNS))
        for row in rows:
            print("| " + " | ".join(cells(row)) + " |")
        return
    table = Table(title="sfnflow beside n8n 1.123's engine (one run each; per node: "
                        "recorded (plan estimate); $: Step Functions + Lambda, us-east-1; "
                        f"{load})")
    for column in COLUMNS:
        table.add_column(column, justify="left" if column == "shape" else "right")
    for row in rows:
        table.add_row(*cells(row))
    console.print(table)


if __name__ == "__main__":
    main()
