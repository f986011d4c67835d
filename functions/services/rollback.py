"""Undoing a write that spans several resources when one of its steps fails.

Deploying a workflow touches Step Functions (the state machine and its versions),
DynamoDB (the registry record, its version, webhook routes) and EventBridge (rules,
schedules); none of them can take part in a transaction with the others. So each step
that creates something registers how to undo it, right after it succeeds, and when a later
step raises, the undos run newest first and the step's own error propagates unchanged
(a typed 4xx stays one). An undo that fails is logged and the next one still runs: what
is left behind is then named in the log, never silently half-deployed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import TracebackType

logger = logging.getLogger(__name__)


class Rollback:
    """``with Rollback() as rollback:``, and after each step that created something,
    ``rollback.add("what it created", undo)``; leaving the block without an error keeps
    everything."""

    def __init__(self) -> None:
        self._undos: list[tuple[str, Callable[[], object]]] = []

    def add(self, what: str, undo: Callable[[], object]) -> None:
        self._undos.append((what, undo))

    def drop(self, what: str) -> None:
        """Forget an undo that must not run (what it would remove is not ours after all)."""
        self._undos = [(name, undo) for name, undo in self._undos if name != what]

    def __enter__(self) -> Rollback:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if error is None:
            return
        for what, undo in reversed(self._undos):
            try:
                undo()
            except Exception:  # noqa: BLE001 - the next undo still runs; the log names it
                logger.exception("rollback step failed: %s is left behind", what)
