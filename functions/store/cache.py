"""Cached node results (``NodeCacheModel``): one item per node version and input, read
until it expires. DynamoDB TTL removes expired items eventually (and moto never does), so
a read checks ``expiresAt`` itself."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from functions.store.models import NodeCacheModel
from functions.store.packing import pack, unpack

MAX_STORED_BYTES = 350_000  # larger outputs are not cached: one DynamoDB item holds 400 KB


class NodeCacheStore:
    def get(self, key: str, now: float) -> Any | None:
        """The outputs stored under ``key``, unless absent or expired at ``now``."""
        try:
            model = NodeCacheModel.get(key)
        except DoesNotExist:
            return None
        if int(model.expiresAt) <= now:
            return None
        return unpack(model.encoding, model.payload)

    def put(self, key: str, *, workflow_id: str, node: str, execution_id: str,
            outputs: Any, expires_at: int) -> bool:
        """Store ``outputs`` under ``key``; False (nothing stored) when they are too large."""
        packed = pack(outputs)
        if packed.stored > MAX_STORED_BYTES:
            return False
        NodeCacheModel(
            cacheKey=key, workflowId=workflow_id, node=node, encoding=packed.encoding,
            payload=packed.payload, executionId=execution_id,
            createdAt=datetime.now(UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            expiresAt=expires_at,
        ).save()
        return True
