"""What the embedded cloud costs around the work itself (issue 15, "Local runtime").

    .venv/bin/python -m benchmarks.local_overhead                      # every measure
    .venv/bin/python -m benchmarks.local_overhead --save before.json   # keep the numbers
    .venv/bin/python -m benchmarks.local_overhead --baseline before.json  # before | after
    .venv/bin/python -m benchmarks.local_overhead --only node end --executions 100

Each row is one overhead the issue names, with its goal:

- ``run``: ``sfnflow run --json`` of a two-node workflow, a fresh process end to end (best
  of ``--runs``); ``import``: the CLI's imports alone; ``open``: ``LocalCloud.__enter__``
  in that process (cold) and again after it (warm: what every test module's cloud pays).
- ``deploy`` / ``redeploy``: deploying a workflow, and deploying it again unchanged (what
  each ``LocalCloud.start`` did).
- ``node``: the time a runner node adds to an execution beyond its own work: a chain of
  ``sort`` nodes (runner Tasks) with 1 and 1 + ``--chain`` nodes, the difference of their
  execution times (moto's start to stop) over ``--chain``; ``node writes``: DynamoDB write
  requests per runner node run, counted at moto's backend.
- ``end``: from the execution's stop (moto's ``stopDate``) to ``LocalCloud.wait``
  returning with the status recorded — what a caller of ``sfnflow run`` waits after the
  work is done.
- ``serve``: ``--executions`` small executions started at once through ``sfnflow serve``'s
  HTTP API (``--clients`` concurrent callers) until every one is recorded SUCCEEDED;
  executions per second from the first start to the last recorded end, and how many were
  lost or duplicated.

Wall times on a shared machine vary by tens of percent (more while other work runs: the
``cpu`` rows, CPU seconds of the process, move much less); the ratios between rows and
the before/after columns of one run are what to read.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable

GOALS = {  # the goals, in each row's unit
    "run s": 1.5, "node overhead ms": 10.0, "end of execution ms": 50.0,
    "serve executions/s": 30.0,
}


def _trivial(name: str = "overhead-trivial") -> dict[str, Any]:
    return {"name": name, "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Tag", "type": "set", "parameters": {"values": {"x": 1}}},
        {"name": "Order", "type": "sort", "parameters": {"fields": [{"field": "x"}]}}],
        "connections": [{"from": "Start", "to": "Tag"}, {"from": "Tag", "to": "Order"}]}


def _chain(runners: int) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [{"name": "Start", "type": "manualTrigger"}]
    nodes += [{"name": f"S{i}", "type": "sort", "parameters": {"fields": [{"field": "x"}]}}
              for i in range(runners)]
    return {"name": f"overhead-chain-{runners}", "nodes": nodes,
            "connections": [{"from": a["name"], "to": b["name"]}
                            for a, b in zip(nodes, nodes[1:], strict=False)]}


def _best(times: list[float]) -> float:
    return min(times)


# ----------------------------------------------------------------------------- measures


def measure_run(runs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "trivial.json"
        path.write_text(json.dumps(_trivial()))
        walls, cpus = [], []
        for _ in range(runs):
            started, children = time.perf_counter(), _children_cpu()
            done = subprocess.run([PYTHON, "-m", "local.cli", "run", str(path), "--json"],
                                  cwd=ROOT, capture_output=True, text=True)
            walls.append(time.perf_counter() - started)
            cpus.append(_children_cpu() - children)
            if done.returncode != 0:
                raise RuntimeError(f"sfnflow run failed: {done.stdout[-500:]}"
                                   f"{done.stderr[-2000:]}")
        probe = ("import time; t = time.perf_counter(); import local.cli, local.cloud; "
                 "i = time.perf_counter() - t; from local.cloud import LocalCloud; "
                 "t = time.perf_counter(); c = LocalCloud().__enter__(); "
                 "o = time.perf_counter() - t; c.__exit__(None, None, None); "
                 "t = time.perf_counter(); c = LocalCloud().__enter__(); "
                 "w = time.perf_counter() - t; c.__exit__(None, None, None); print(i, o, w)")
        imports, cold, warm = (float(x) for x in subprocess.run(
            [PYTHON, "-c", probe], cwd=ROOT, capture_output=True, text=True,
            check=True).stdout.split())
    return {"run s": _best(walls), "run cpu s": _best(cpus), "import s": imports,
            "open cold s": cold, "open warm s": warm}


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def _dynamodb_writes() -> Iterator[Callable[[], int]]:
    """Count write requests reaching moto's DynamoDB backend (BatchWriteItem is one)."""
    from moto.dynamodb.models import DynamoDBBackend

    names = ("put_item", "update_item", "delete_item", "transact_write_items",
             "batch_write_item")
    originals = {name: getattr(DynamoDBBackend, name) for name in names}
    count = [0]
    guard = threading.local()

    def counting(original: Any) -> Any:
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            if getattr(guard, "inside", False):  # batch_write_item calls put_item
                return original(self, *args, **kwargs)
            count[0] += 1
            guard.inside = True
            try:
                return original(self, *args, **kwargs)
            finally:
                guard.inside = False
        return call

    for name, original in originals.items():
        setattr(DynamoDBBackend, name, counting(original))
    try:
        yield lambda: count[0]
    finally:
        for name, original in originals.items():
            setattr(DynamoDBBackend, name, original)


def _execution_seconds(cloud: Any, execution_id: str) -> float:
    finished = cloud.wait(execution_id)
    described = cloud.sfn.describe_execution(executionArn=finished.execution_arn)
    return float((described["stopDate"] - described["startDate"]).total_seconds())


def measure_cloud(chain: int, repeats: int) -> dict[str, float]:
    from compiler import compile_workflow
    from local.cloud import LocalCloud

    out: dict[str, float] = {}
    with LocalCloud() as cloud:
        trivial = compile_workflow(_trivial())
        started = time.perf_counter()
        cloud.deploy(trivial)
        out["deploy ms"] = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        cloud.deploy(trivial)
        out["redeploy ms"] = (time.perf_counter() - started) * 1000
        cloud.wait(cloud.start(trivial))  # warm: clients, caches, the first Lambda call

        short, long = compile_workflow(_chain(1)), compile_workflow(_chain(1 + chain))
        cloud.deploy_project({"a": short, "b": long})
        one, many = [], []
        with _dynamodb_writes() as writes:
            for _ in range(repeats):
                one.append(_execution_seconds(cloud, cloud.start(short)))
            before = writes()
            for _ in range(repeats):
                many.append(_execution_seconds(cloud, cloud.start(long)))
            per_long = (writes() - before) / repeats
        out["node overhead ms"] = (_best(many) - _best(one)) / chain * 1000
        # the long chain's writes minus the short one's, per added node
        with _dynamodb_writes() as writes:
            cloud.wait(cloud.start(short))
            per_short = writes()
        out["node writes"] = (per_long - per_short) / chain

        ends = []
        for _ in range(repeats):
            execution_id = cloud.start(trivial)
            finished = cloud.wait(execution_id)
            returned = datetime.now().astimezone()
            described = cloud.sfn.describe_execution(executionArn=finished.execution_arn)
            ends.append((returned - described["stopDate"]).total_seconds())
            assert cloud.repository.get_execution(execution_id).status == "SUCCEEDED"
        out["end of execution ms"] = _best(ends) * 1000
    return out


def measure_serve(executions: int, clients: int) -> dict[str, float]:
    import requests

    from local.serve import LocalPlatform

    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "trivial.json").write_text(json.dumps(_trivial("overhead-serve")))
        with LocalPlatform(workflows=Path(folder), api_key="bench") as platform:
            session = requests.Session()
            session.headers["x-api-key"] = "bench"
            url = f"{platform.url}/workflows/overhead-serve/executions"

            def start(i: int) -> str:
                response = session.post(url, json={"input": {"i": i}}, timeout=60)
                response.raise_for_status()
                return str(response.json()["executionId"])

            started, cpu = time.perf_counter(), time.process_time()
            with ThreadPoolExecutor(clients) as pool:
                ids = list(pool.map(start, range(executions)))
            accepted = time.perf_counter() - started
            repository = platform.cloud.repository
            deadline = time.monotonic() + max(600.0, executions * 2.0)
            while time.monotonic() < deadline:
                done = repository.query_executions(status="SUCCEEDED", limit=executions + 10)
                if len(done.items) >= executions:
                    break
                time.sleep(0.5)  # each look is an index query moto answers by a scan
            finished = time.perf_counter() - started
            cpu = time.process_time() - cpu
            recorded = repository.query_executions(limit=executions * 2).items
    succeeded = [e for e in recorded if e.status == "SUCCEEDED"]
    return {"serve executions/s": executions / finished, "serve accept s": accepted,
            "serve cpu ms/execution": cpu / executions * 1000,
            "serve lost": float(len(set(ids) - {e.execution_id for e in succeeded})),
            "serve duplicated": float(len(recorded) - len({e.execution_id for e in recorded}))}


# ----------------------------------------------------------------------------- table


def _row(name: str, now: float, before: float | None) -> str:
    goal = GOALS.get(name)
    cells = [f"{name:<22}", f"{before:>10.3f}" if before is not None else f"{'':>10}",
             f"{now:>10.3f}", f"{goal:>8g}" if goal is not None else f"{'':>8}"]
    return " | ".join(cells)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", choices=("run", "cloud", "serve"),
                        default=["run", "cloud", "serve"])
    parser.add_argument("--runs", type=int, default=3, help="sfnflow run: best of")
    parser.add_argument("--chain", type=int, default=10, help="runner nodes added")
    parser.add_argument("--repeats", type=int, default=3, help="executions per timing")
    parser.add_argument("--executions", type=int, default=500)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--save", type=Path, help="write the numbers here (JSON)")
    parser.add_argument("--baseline", type=Path, help="numbers saved before, as a column")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    results: dict[str, float] = {}
    if "run" in args.only:
        results |= measure_run(args.runs)
    if "cloud" in args.only:
        results |= measure_cloud(args.chain, args.repeats)
    if "serve" in args.only:
        results |= measure_serve(args.executions, args.clients)
    baseline = json.loads(args.baseline.read_text()) if args.baseline else {}
    print(" | ".join([f"{'measure':<22}", f"{'before':>10}", f"{'now':>10}", f"{'goal':>8}"]))
    for name, value in results.items():
        print(_row(name, value, baseline.get(name)))
    if args.save:
        args.save.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
