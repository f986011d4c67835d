"""SplitInBatches / Loop Over Items v1-v3 as an explicit state machine.

n8n keeps this node's progress in its node context between the runs of a loop; here that
context is a ``BatchState`` the caller stores between runs (the runner in DynamoDB, a test
in a variable) and passes to ``run(call, state)``, which updates it. ``state.context()``
is what ``$node["Loop"].context`` shows: ``noItemsLeft``, ``done``, ``maxRunIndex``,
``currentRunIndex``.

* First run (or ``options.reset`` true): the input items are the work list; the first
  ``batchSize`` (default 10) go out, the rest are kept. **v2.1** resets only once its
  loop has ended (its last run handed out ``done``): a reset expression such as
  ``$node["Loop"].context["noItemsLeft"]`` is already true when the body returns the last
  batch, and n8n's recorded run of ``workflow_v2.1`` collects that batch into ``done``
  instead of starting over with it (n8n 1.123 no longer has v2.1: the rule comes from
  that recording, ``tests/n8n/corpus``).
* Later runs: the next batch goes out; v2/v3 also collect the items that came back
  (the loop body's results) into ``processed``.
* Outputs: **v1** one output, the batch (an empty list when nothing is left: n8n returns
  no data, so nothing downstream runs); **v2/v2.1** ``[batch, done]``; **v3**
  ``[done, loop]``. "done" carries every processed item once the work list is empty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from functions.n8n.call import NodeCall
from functions.n8n.items import Item, paired


@dataclass
class BatchState:
    started: bool = False
    items: list[Item] = field(default_factory=list)
    processed: list[Item] = field(default_factory=list)
    current_run_index: int = 0
    max_run_index: int = 0
    no_items_left: bool = False
    #: None until a v2+ node sets it: v1 has no ``done`` in its context
    done: bool | None = None

    def context(self) -> dict[str, Any]:
        """What ``$node["Loop"].context`` holds (keys n8n never set are absent)."""
        context = {
            "noItemsLeft": self.no_items_left,
            "done": self.done,
            "maxRunIndex": self.max_run_index,
            "currentRunIndex": self.current_run_index,
        }
        return {key: value for key, value in context.items() if value is not None}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able snapshot (for storing between Lambda invocations)."""
        return {
            "started": self.started,
            "items": self.items,
            "processed": self.processed,
            "currentRunIndex": self.current_run_index,
            "maxRunIndex": self.max_run_index,
            "noItemsLeft": self.no_items_left,
            "done": self.done,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BatchState:
        return cls(
            started=data.get("started", False),
            items=list(data.get("items", [])),
            processed=list(data.get("processed", [])),
            current_run_index=data.get("currentRunIndex", 0),
            max_run_index=data.get("maxRunIndex", 0),
            no_items_left=data.get("noItemsLeft", False),
            done=data.get("done"),
        )


def _may_reset(call: NodeCall, state: BatchState) -> bool:
    return call.type_version != 2.1 or state.done is True


def run(call: NodeCall, state: BatchState) -> list[list[Item]]:
    incoming = [{"json": it["json"], "pairedItem": paired(i)} for i, it in enumerate(call.items)]
    batch_size = int(call.parameter("batchSize", 0, 10))
    if batch_size < 1:
        raise call.invalid("batchSize", "must be at least 1")
    options = call.parameter("options", 0, {}) or {}
    if not state.started or (options.get("reset") is True and _may_reset(call, state)):
        state.started = True
        state.current_run_index = 0
        state.max_run_index = math.ceil(len(incoming) / batch_size)
        batch, state.items = incoming[:batch_size], incoming[batch_size:]
        state.processed = []
    else:
        state.current_run_index += 1
        batch, state.items = state.items[:batch_size], state.items[batch_size:]
        if call.type_version >= 2:
            state.processed = state.processed + incoming
    state.no_items_left = not state.items
    if call.type_version < 2:
        return [batch]
    if not batch:
        state.done = True
        done = state.processed
        return [[], done] if call.type_version < 3 else [done, []]
    state.done = False
    return [batch, []] if call.type_version < 3 else [[], batch]
