"""Shared state of circuit breakers and token buckets: the only code touching
``NodeGuardModel``.

Each key's state is one JSON document with a revision. A writer reads it, computes the next
state and writes it on condition that the revision is still the one it read (a new key: that
the item does not exist yet). Of concurrent writers exactly one wins; the others read again.
That is what lets one half-open breaker admit exactly one probe and keeps concurrent takers
of a token bucket within its rate, across executions and Lambda instances.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from pynamodb.exceptions import DoesNotExist, PutError

from functions.store.models import NodeGuardModel
from functions.store.repository import utc_now

BREAKER = "breaker"  # the kind of breaker items (the byGuardKind index's key)


@dataclass(frozen=True)
class Versioned:
    """A key's state as read, with the revision a conditional write must match."""

    state: dict[str, Any]
    rev: int
    workflow_id: str | None = None
    node: str | None = None


class GuardStore(Protocol):
    """What the breaker and rate-limit services need of a store (a fake in unit tests)."""

    def read(self, key: str) -> Versioned | None: ...

    def write(self, key: str, state: dict[str, Any], expected: Versioned | None, *,
              kind: str | None = None, workflow_id: str | None = None,
              node: str | None = None) -> bool: ...


class DynamoGuardStore:
    """``GuardStore`` on the node-guards table: compare-and-set on ``rev``."""

    def read(self, key: str) -> Versioned | None:
        try:
            model = NodeGuardModel.get(key, consistent_read=True)
        except DoesNotExist:
            return None
        return _versioned(model)

    def write(self, key: str, state: dict[str, Any], expected: Versioned | None, *,
              kind: str | None = None, workflow_id: str | None = None,
              node: str | None = None) -> bool:
        """Store ``state`` unless someone wrote ``key`` since ``expected`` was read (None:
        unless it exists); False when that condition failed."""
        model = NodeGuardModel(
            guardKey=key, kind=kind, workflowId=workflow_id, node=node,
            rev=(expected.rev + 1) if expected else 1, state=state, updatedAt=utc_now())
        condition = (NodeGuardModel.guardKey.does_not_exist() if expected is None
                     else NodeGuardModel.rev == expected.rev)
        try:
            model.save(condition)
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def breakers(self) -> list[tuple[str, Versioned]]:
        """Every breaker's key and state, in key order (one Query of the sparse index)."""
        return [(str(model.guardKey), _versioned(model))
                for model in NodeGuardModel.by_kind.query(BREAKER)]


def _versioned(model: NodeGuardModel) -> Versioned:
    return Versioned(state=dict(model.state or {}), rev=int(model.rev),
                     workflow_id=model.workflowId, node=model.node)
