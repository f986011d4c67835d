"""Admission benchmark: many starts against a concurrency limit on the embedded cloud.

    .venv/bin/python -m benchmarks.admission                  # 1,000 starts, limit 10
    .venv/bin/python -m benchmarks.admission --starts 200     # quicker

A trivial workflow (manualTrigger -> a native no-op) with ``maxConcurrency`` = ``--limit``
is started ``--starts`` times from ``--threads`` threads, each start with a seeded random
priority (20 % high, 60 % normal, 20 % low), through ``ExecutionService.start`` as the API
does; status-change events release the slots as in ``sfnflow serve``. Reported:

- ``max running``: the most executions Step Functions ran at once, swept from its own
  start and stop dates of every execution (must be <= the limit), and the most leases
  (slots held) a sampler saw;
- ``finished``: executions that ended SUCCEEDED, of all started (must be all);
- ``inversions``: pairs admitted out of priority order while both waited — ``b`` of a
  higher priority than ``a`` was queued before ``a`` was admitted, yet ``a`` went first
  (0 means strict priority order; pairs admitted by concurrent releases within the same
  few milliseconds may swap);
- ``start latency``: mean and p95 of ``ExecutionService.start`` for the same workflow
  without a limit and with a limit that never fills (the admission overhead per start:
  enqueue, admit, lease, mark), measured sequentially before the run;
- ``total``: wall time from the first start to the last execution ended.

A slot is held from admission until the execution's status change has been handled; the
embedded cloud delivers status changes one at a time from one thread, so locally Step
Functions runs fewer at once than the slots held, and that delivery, not admission, bounds
the throughput (AWS delivers them to concurrent Lambda invocations).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python benchmarks/admission.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from compiler import compile_workflow
from functions.services.admission import Policy
from functions.store.admission import RANKS, DynamoAdmissionStore
from local.cloud import LocalCloud

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def _document(name: str, limit: int | None) -> dict[str, Any]:
    settings = {"maxConcurrency": limit} if limit else {}
    return {"name": name, "settings": settings,
            "nodes": [{"name": "Start", "type": "manualTrigger"},
                      {"name": "Done", "type": "noOp"}],
            "connections": [{"from": "Start", "to": "Done"}]}


def _latencies(cloud: LocalCloud, name: str, policy: Policy | None, count: int) -> list[float]:
    arn = cloud.deploy(compile_workflow(_document(name, policy.limit if policy else None)))
    seconds = []
    for _ in range(count):
        began = time.perf_counter()
        cloud.executions.start(name, arn, {}, mode="api", admission=policy)
        seconds.append(time.perf_counter() - began)
    return seconds


def _max_overlap(intervals: list[tuple[datetime, datetime]]) -> int:
    events = sorted([(start, 1) for start, _ in intervals] + [(stop, -1) for _, stop in intervals],
                    key=lambda event: (event[0], event[1]))  # an end before a start at a tie
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    return peak


def _inversions(rows: list[dict[str, Any]]) -> tuple[int, int]:
    """(inversions, pairs compared) among executions that waited."""
    waited = [r for r in rows if r["admittedAt"] and r["queuedAt"] < r["admittedAt"]]
    waited.sort(key=lambda r: r["admittedAt"])
    inversions = pairs = 0
    for i, first in enumerate(waited):
        for later in waited[i + 1:]:
            if later["queuedAt"] < first["admittedAt"]:  # both waited when first went
                pairs += 1
                if RANKS[later["priority"]] < RANKS[first["priority"]]:
                    inversions += 1
    return inversions, pairs


def run(starts: int, limit: int, threads: int, latency_samples: int, seed: int) -> None:
    console = Console()
    rng = random.Random(seed)
    priorities = rng.choices(["high", "normal", "low"], weights=[2, 6, 2], k=starts)
    with LocalCloud(time_scale=0.01) as cloud:
        cloud.start_event_threads()
        plain = _latencies(cloud, "plain", None, latency_samples)
        admitted = _latencies(cloud, "roomy", Policy(1_000_000), latency_samples)
        arn = cloud.deploy(compile_workflow(_document("limited", limit)))
        store = DynamoAdmissionStore()
        sampled, stop = [0], threading.Event()

        def sample() -> None:
            while not stop.is_set():
                sampled[0] = max(sampled[0], store.slots("limited").held)
                time.sleep(0.005)

        answered_queued: set[str] = set()

        def start(priority: str) -> str:
            execution = cloud.executions.start("limited", arn, {}, mode="api",
                                               admission=Policy(limit, priority))
            if execution.status == "QUEUED":
                answered_queued.add(execution.execution_id)
            return execution.execution_id

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            ids = list(pool.map(start, priorities))
        started_all = time.perf_counter() - began
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:  # two reads a poll: the queue and the slots
            waiting = cloud.repository.query_executions(status="QUEUED", limit=1).items
            held = store.slots("limited").held
            if not waiting and held == 0:
                break
            if waiting and held == 0:
                cloud.reconcile()  # nothing running yet something waits: a lost release
            print(f"\r{time.perf_counter() - began:7.1f} s  running {held:3d}",
                  end="", file=sys.stderr, flush=True)
            time.sleep(0.5)
        total = time.perf_counter() - began
        statuses = [cloud.repository.get_execution(i) for i in ids]
        stop.set()
        sampler.join()
        described = [cloud.sfn.describe_execution(executionArn=e.execution_arn)
                     for e in statuses if e is not None and e.execution_arn]
        overlap = _max_overlap([(d["startDate"], d["stopDate"]) for d in described
                                if d.get("stopDate")])
        rows = []
        for execution_id in ids:
            marker = store.marker(execution_id) or {}
            rows.append({"priority": marker.get("priority"), "queuedAt": marker.get("queuedAt"),
                         "admittedAt": marker.get("admittedAt")})
        inversions, pairs = _inversions(rows)
        succeeded = sum(1 for e in statuses if e is not None and e.status == "SUCCEEDED")
        waited = len(answered_queued)

    table = Table(title=f"admission: {starts} starts, limit {limit}, {threads} threads")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("max running (Step Functions' dates)", f"{overlap} (limit {limit})")
    table.add_row("max slots held (sampled)", str(sampled[0]))
    table.add_row("finished SUCCEEDED", f"{succeeded} / {starts}")
    table.add_row("answered QUEUED (waited for a slot)", str(waited))
    table.add_row("priority inversions", f"{inversions} of {pairs} pairs")
    for label, values in (("start latency, no limit", plain),
                          ("start latency, with a limit", admitted)):
        table.add_row(label, f"mean {statistics.mean(values) * 1000:.1f} ms, p95 "
                             f"{sorted(values)[int(len(values) * 0.95) - 1] * 1000:.1f} ms")
    table.add_row("admission overhead per start",
                  f"{(statistics.mean(admitted) - statistics.mean(plain)) * 1000:.1f} ms")
    table.add_row("all starts answered", f"{started_all:.1f} s")
    table.add_row("total (first start -> last end)", f"{total:.1f} s")
    console.print(table)
    if overlap > limit or succeeded != starts:
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=1000)
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--latency-samples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    run(args.starts, args.limit, args.threads, args.latency_samples, args.seed)


if __name__ == "__main__":
    main()
