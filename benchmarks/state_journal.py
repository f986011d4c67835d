"""What keeping ``sfnflow serve``'s state costs (``local.persistence``).

1. Writes: DynamoDB PutItem calls per second on the embedded cloud in memory, journaled
   with a flush per write (the default), and journaled with an fsync per write.
2. Restart: the journal of 1,000 executions (the items and payloads ten real executions
   wrote, cloned under new ids) replayed into a new cloud, and the start it adds.

    .venv/bin/python -m benchmarks.state_journal [--writes 2000] [--executions 1000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from compiler import compile_workflow
from local.cloud import LocalCloud
from local.persistence import JOURNAL, read_journal

WORKFLOW = {"name": "bench", "nodes": [
    {"name": "Start", "type": "manualTrigger"},
    {"name": "Double", "type": "code",
     "parameters": {"code": "return [dict(i, n=i['n'] * 2) for i in items]"}},
    {"name": "Tag", "type": "set", "parameters": {"values": {"tagged": True}}}],
    "connections": [{"from": "Start", "to": "Double"}, {"from": "Double", "to": "Tag"}]}


def writes_per_second(cloud: LocalCloud, writes: int) -> tuple[float, float]:
    """(writes per wall second, CPU µs per write): on a shared machine the CPU time says
    what the journal costs, the wall time what fsync waits for."""
    import boto3

    table = f"{cloud.config.table_prefix}-executions"
    client = boto3.client("dynamodb", region_name="us-east-1")
    started, cpu = time.perf_counter(), time.process_time()
    for number in range(writes):
        client.put_item(TableName=table, Item={
            "executionId": {"S": f"bench-{number % 200}"}, "status": {"S": "RUNNING"},
            "n": {"N": str(number)}, "input": {"S": "x" * 200}})
    return (writes / (time.perf_counter() - started),
            (time.process_time() - cpu) / writes * 1e6)


def write_overhead(writes: int) -> None:
    for label, folder, fsync in (("in memory", None, False), ("journal, flush", True, False),
                                 ("journal, fsync", True, True)):
        with tempfile.TemporaryDirectory() as state, \
                LocalCloud(state_dir=Path(state) if folder else None) as cloud:
            if cloud.state is not None:
                cloud.state.fsync = fsync
            rate, cpu = writes_per_second(cloud, writes)
        print(f"  PutItem, {label:15} {rate:8,.0f} writes/s ({1e6 / rate:6.0f} µs each, "
              f"{cpu:5.0f} µs CPU)")


def _clone(record: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    text = json.dumps(record)
    for old, new in ids.items():
        text = text.replace(old, new)
    return dict(json.loads(text))


def restart(executions: int) -> None:
    with tempfile.TemporaryDirectory() as state:
        folder = Path(state)
        with LocalCloud(state_dir=folder, time_scale=0.01) as cloud:
            compiled = compile_workflow(WORKFLOW)
            seeds = [cloud.start(compiled, [{"n": n}]) for n in range(10)]
            for execution_id in seeds:
                cloud.wait(execution_id)
        records = read_journal(folder / JOURNAL)
        per_seed = [r for r in records if any(s in json.dumps(r) for s in seeds)]
        others = [r for r in records if r not in per_seed]
        lines = [json.dumps(r) for r in others]
        for copy in range(executions // len(seeds)):
            ids = {seed: f"{seed[:-6]}{copy:06d}" for seed in seeds}
            lines += [json.dumps(_clone(r, ids)) for r in per_seed if r["t"] == "item"]
        (folder / JOURNAL).write_text("\n".join(lines) + "\n")
        size = (folder / JOURNAL).stat().st_size
        started, cpu = time.perf_counter(), time.process_time()
        with LocalCloud(state_dir=folder) as cloud:
            opened = time.perf_counter() - started
            opened_cpu = time.process_time() - cpu
            report = cloud.restored
            listed = cloud.repository.query_executions(limit=100)
        started, cpu = time.perf_counter(), time.process_time()
        with LocalCloud():
            empty = time.perf_counter() - started
            empty_cpu = time.process_time() - cpu
        print(f"  {executions:,} executions: {len(lines):,} records, {size / 1e6:.1f} MB; "
              f"restore {report.seconds:.2f} s; start {opened:.2f} s ({opened_cpu:.2f} s CPU)"
              f", in memory {empty:.2f} s ({empty_cpu:.2f} s CPU); {report.items:,} items; "
              f"first page {len(listed.items)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--executions", type=int, default=1000)
    args = parser.parse_args()
    print("writes:")
    write_overhead(args.writes)
    print("restart:")
    restart(args.executions)


if __name__ == "__main__":
    main()
