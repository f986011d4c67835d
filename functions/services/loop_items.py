"""A loop's items through S3, both ways (``compiler.lowering.loop``: ``#stage`` and
``#collect`` Tasks around a Distributed Map fed by a runner node).

A loop whose items may arrive as S3 references (a runner node's large output) cannot cut
them into batches in JSONata: the state holds only the reference. The runner resolves the
loop's input items, cuts them into batches of ``batchSize`` and writes the batches as one
JSON array (``[{"items": [...]}, ...]``) to the payload bucket; the Map reads it with
``ItemReader`` (``s3:getObject``, JSON), so no state ever carries the whole list. Each
batch becomes one child execution's input, which Step Functions caps at 256 KiB.

On the way out, each iteration returns its index and the port objects its back edges carry
(items, or an S3 reference when a runner node's output was large). The Map's ResultWriter
writes the child executions' results to S3 under the prefix ``stage`` named: a
``manifest.json`` listing result files per status, each file a JSON array of executions
whose ``Output`` is the iteration's output as JSON text (the files' order is not the
items'). ``collect`` reads the manifest the Map hands on (``ResultWriterDetails``) and the
files it lists, and joins the iterations in index order into the loop's ``done`` output,
offloaded to S3 in turn when it is large and every reader resolves references.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from functions.errors import PayloadTooLarge, RunDataMissing
from functions.runner import (
    MAX_INLINE_OUTPUT,
    ExecutionRef,
    RunnerEvent,
    Source,
    input_items,
    parse_event,
    port_items,
)
from functions.store.repository import RunRepository

Item = dict[str, Any]


class Stage(RunnerEvent):
    execution: ExecutionRef
    node: str
    runIndex: int = 0
    batchSize: int = Field(ge=1)
    inputs: list[list[Source]]
    data: dict[str, Any] = Field(default_factory=dict)


class ResultWriterDetails(RunnerEvent):
    """Where a Distributed Map's ResultWriter put its manifest."""

    Bucket: str
    Key: str


class Collect(RunnerEvent):
    execution: ExecutionRef
    node: str
    runIndex: int = 0
    ports: list[int]  # the output port of each back edge, in the order iterations list them
    results: ResultWriterDetails
    outputRefs: bool = False


class LoopItemStager:
    def __init__(self, repository: RunRepository) -> None:
        self.repository = repository

    def stage(self, event: Any) -> dict[str, Any]:
        """Write the batches; returns where (``bucket``, ``key``) and how many items."""
        stage = parse_event(Stage, event, "loop-stage")
        items = [item for port in input_items(self.repository, stage.inputs, stage.data)
                 for item in port]
        size = stage.batchSize
        batches = [{"items": items[start:start + size]} for start in range(0, len(items), size)]
        run = f"loops/{stage.execution.id}/{stage.node}/{stage.runIndex:06d}"
        key = f"{run}.json"
        bucket = self.repository.put_payload(
            key, json.dumps(batches, separators=(",", ":"), ensure_ascii=False),
            f"loop {stage.node!r} reads its items from S3")
        return {"bucket": bucket, "key": key, "results": f"{run}-results",
                "count": len(items), "batches": len(batches)}

    def iterations(self, details: ResultWriterDetails, node: str) -> list[Any]:
        """What each iteration returned, in index order, from ResultWriter's manifest and
        the result files it lists (a failed or unfinished child fails the loop)."""
        manifest = self._read_json(details.Bucket, details.Key)
        files = manifest.get("ResultFiles", {})
        unfinished = [f["Key"] for status in ("FAILED", "PENDING") for f in files.get(status, [])]
        if unfinished:
            raise RunDataMissing(f"loop {node!r}: child executions did not succeed "
                                 f"(result files {', '.join(unfinished)})")
        bucket = manifest.get("DestinationBucket", details.Bucket)
        returned: list[tuple[int, Any]] = []
        for listed in files.get("SUCCEEDED", []):
            for execution in self._read_json(bucket, listed["Key"]):
                output = json.loads(execution["Output"])
                returned.append((output["index"], output["ports"]))
        return [ports for _, ports in sorted(returned, key=lambda pair: pair[0])]

    def _read_json(self, bucket: str, key: str) -> Any:
        s3 = self.repository.s3
        if s3 is None:
            raise RuntimeError(f"cannot read s3://{bucket}/{key}: no S3 client configured")
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    def collect(self, event: Any) -> dict[str, Any]:
        """The loop's outputs (``done``, and an empty ``loop``) from what its iterations
        returned, resolving references."""
        collect = parse_event(Collect, event, "loop-collect")
        loaded: dict[str, list[list[Item]]] = {}
        done: list[Item] = []
        for returned in self.iterations(collect.results, collect.node):
            for port, part in zip(collect.ports, returned, strict=True):
                done.extend(port_items(self.repository, part, port, loaded))
        outputs: list[list[Item]] = [done, []]
        encoded = json.dumps(outputs, separators=(",", ":"), ensure_ascii=False)
        if len(encoded) <= self.repository.config.inline_state_limit:
            return {"ports": [{"count": len(items), "items": items} for items in outputs]}
        if not collect.outputRefs:
            if len(encoded) <= MAX_INLINE_OUTPUT:
                return {"ports": [{"count": len(items), "items": items} for items in outputs]}
            raise PayloadTooLarge(
                f"loop {collect.node!r} returned {len(encoded):,} bytes of items for its done "
                "output, more than a state carries, and a node after it computes with them "
                "inline: put a runner node such as code or aggregate after the loop, or "
                "return less from each iteration.")
        key = f"loops/{collect.execution.id}/{collect.node}/{collect.runIndex:06d}-done.json"
        bucket = self.repository.put_payload(key, encoded,
                                             f"loop {collect.node!r} returned many items")
        return {"ports": [{"count": len(items), "ref": f"s3://{bucket}/{key}"}
                          for items in outputs]}

