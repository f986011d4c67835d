"""Rendezvous items (``compiler.lowering.rendezvous``): the only code touching their
``signals`` and ``token``. Every change is one atomic update returning the item as it is
right after it, so exactly one caller sees an item become complete."""

from __future__ import annotations

import time
from dataclasses import dataclass

from pynamodb.expressions.update import Action

from functions.store.models import MergeQuorumModel, SignalAttribute

EXPIRES_AFTER_SECONDS = 7 * 24 * 3600  # as the quorum items (DynamoDB TTL)


@dataclass(frozen=True)
class Meeting:
    """A rendezvous item as one update left it."""

    outputs: dict[str, str]  # slot -> the producer's outputs (JSON text); first signal wins
    token: str | None

    def complete(self, needs: int) -> bool:
        return self.token is not None and len(self.outputs) >= needs


class RendezvousRepository:
    def signal(self, key: str, slot: str, output: str) -> Meeting:
        """Add a producer's outputs (a retried signal adds a duplicate, ignored on read)."""
        entry = SignalAttribute(slot=slot, output=output)
        return self._update(key, MergeQuorumModel.signals.set(
            (MergeQuorumModel.signals | []).append([entry])))

    def park(self, key: str, token: str) -> Meeting:
        """Store the waiting node's task token (a retried await replaces it)."""
        return self._update(key, MergeQuorumModel.token.set(token))

    @staticmethod
    def _update(key: str, action: Action) -> Meeting:
        item = MergeQuorumModel(key)
        expires = int(time.time()) + EXPIRES_AFTER_SECONDS
        item.update(actions=[action, MergeQuorumModel.expiresAt.set(
            MergeQuorumModel.expiresAt | expires)])
        outputs: dict[str, str] = {}
        for signal in item.signals or []:
            outputs.setdefault(signal.slot, signal.output)
        return Meeting(outputs, item.token)
