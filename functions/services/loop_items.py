"""A loop's items, staged in S3 for a Distributed Map's ItemReader
(``compiler.lowering.loop``: ``#stage`` Tasks).

A loop whose items may arrive as S3 references (a runner node's large output) cannot cut
them into batches in JSONata: the state holds only the reference. The runner resolves the
loop's input items, cuts them into batches of ``batchSize`` and writes the batches as one
JSON array (``[{"items": [...]}, ...]``) to the payload bucket; the Map reads it with
``ItemReader`` (``s3:getObject``, JSON), so no state ever carries the whole list. Each
batch becomes one child execution's input, which Step Functions caps at 256 KiB.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.errors import ParameterError
from functions.runner import ExecutionRef, Source, input_items
from functions.store.repository import RunRepository


class Stage(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    execution: ExecutionRef
    node: str
    runIndex: int = 0
    batchSize: int = Field(ge=1)
    inputs: list[list[Source]]
    data: dict[str, Any] = Field(default_factory=dict)


class LoopItemStager:
    def __init__(self, repository: RunRepository) -> None:
        self.repository = repository

    def stage(self, event: Any) -> dict[str, Any]:
        """Write the batches; returns where (``bucket``, ``key``) and how many items."""
        try:
            stage = Stage.model_validate(event)
        except ValidationError as exc:
            raise ParameterError(f"malformed loop-stage event: {exc}") from None
        items = [item for port in input_items(self.repository, stage.inputs, stage.data)
                 for item in port]
        size = stage.batchSize
        batches = [{"items": items[start:start + size]} for start in range(0, len(items), size)]
        key = f"loops/{stage.execution.id}/{stage.node}/{stage.runIndex:06d}.json"
        bucket = self.repository.put_payload(
            key, json.dumps(batches, separators=(",", ":"), ensure_ascii=False),
            f"loop {stage.node!r} reads its items from S3")
        return {"bucket": bucket, "key": key, "count": len(items), "batches": len(batches)}
