"""Standard or Express: whether a compiled workflow can run as an Express state machine,
and which type ``settings.type`` gets.

The type is a property of the state machine, not of its definition: the same ASL runs as
either. So the decision reads the *emitted* definition, where every construct AWS refuses
or cuts short in an Express workflow is visible, whichever lowering produced it (a
rendezvous's callback, a sub-workflow's ``.sync``, a Distributed Map, a long Wait):

- a Task whose Resource waits for a callback (``.waitForTaskToken``) or a job (``.sync``):
  Express runs Request Response integrations only (AWS's integration table);
- an activity Task: Express has no activities;
- a Map in ``DISTRIBUTED`` mode: treated as Standard-only (read on a secondary summary of
  AWS's limits, not confirmed on AWS's own pages; the conservative choice);
- a Wait over five minutes, or one whose length is only known at run time, and a machine
  timeout or estimated duration over five minutes: an Express execution stops at five
  minutes (AWS's limit) and fails.

Things an Express execution lacks that the workflow may still run without, and which the
decision therefore only reports (``caveats``): an execution history
(``GetExecutionHistory``: none), execution status-change events on EventBridge (none), and
idempotent starts by execution name (async Express starts run again).

``decide(requested, definition, ...)``: ``standard`` is Standard; ``auto`` is Express when
nothing blocks it; ``express`` is Express, or ``ExpressRefused`` naming every blocker.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from compiler.errors import Problem, WorkflowInvalid

_SYNC = re.compile(r"\.sync(:\d+)?$")  # .sync and .sync:2 (startExecution's JSON output)
EXPRESS_MAX_SECONDS = 300  # AWS: an Express execution runs five minutes at most
MachineType = Literal["STANDARD", "EXPRESS"]
STANDARD: MachineType = "STANDARD"
EXPRESS: MachineType = "EXPRESS"
CAVEATS = (
    "no execution history: node runs are recorded without GetExecutionHistory",
    "no execution status-change events on EventBridge: the end of a run is recorded by "
    "whoever waits for it",
    "starts are not idempotent by execution name (async Express may run a start twice)",
)


@dataclass(frozen=True)
class Blocker:
    """One reason the workflow needs a Standard state machine: where and why."""

    state: str | None  # the ASL state (a node's name, or a helper state), None: the machine
    reason: str

    def __str__(self) -> str:
        return f"{self.state}: {self.reason}" if self.state else self.reason

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "reason": self.reason}


@dataclass(frozen=True)
class TypeDecision:
    """The state machine's type, what was asked for and why (the blockers found)."""

    requested: str
    type: MachineType
    reason: str
    blockers: tuple[Blocker, ...] = ()
    caveats: tuple[str, ...] = field(default=())

    @property
    def express_possible(self) -> bool:
        return not self.blockers

    def to_dict(self) -> dict[str, Any]:
        return {"requested": self.requested, "type": self.type, "reason": self.reason,
                "expressPossible": self.express_possible,
                "blockers": [b.to_dict() for b in self.blockers],
                "caveats": list(self.caveats)}


class ExpressRefused(WorkflowInvalid):
    """``settings.type: express`` for a workflow that needs Standard."""


def _states(states: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every state, those inside Parallel branches and Map processors included."""
    for name, state in states.items():
        yield name, state
        for branch in state.get("Branches") or ():
            yield from _states(branch.get("States") or {})
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from _states(processor.get("States") or {})


def _task_blocker(name: str, state: Mapping[str, Any]) -> Blocker | None:
    resource = state.get("Resource")
    if not isinstance(resource, str):
        return None
    if ":activity:" in resource:
        return Blocker(name, "runs an activity (Express has none)")
    if resource.endswith(".waitForTaskToken"):
        return Blocker(name, "waits for a callback (.waitForTaskToken): Express runs "
                             "Request Response integrations only")
    if _SYNC.search(resource):
        return Blocker(name, "waits for a job (.sync): Express runs Request Response "
                             "integrations only")
    return None


def _wait_blocker(name: str, state: Mapping[str, Any]) -> Blocker | None:
    seconds = state.get("Seconds")
    if isinstance(seconds, int | float) and not isinstance(seconds, bool):
        if seconds > EXPRESS_MAX_SECONDS:
            return Blocker(name, f"waits {seconds:g} s, more than Express's "
                                 f"{EXPRESS_MAX_SECONDS} s")
        return None
    return Blocker(name, "waits for a length or a moment known only at run time (an "
                         f"Express execution stops after {EXPRESS_MAX_SECONDS} s)")


def blockers(definition: Mapping[str, Any], timeout_seconds: float | None = None,
             estimated_seconds: float | None = None) -> list[Blocker]:
    """Every reason ``definition`` needs a Standard state machine (see the module docstring).
    ``timeout_seconds``: the workflow's own limit; ``estimated_seconds``: the plan's makespan
    under the durations the caller assumes (None: unknown, not a blocker)."""
    found: list[Blocker] = []
    for name, state in _states(definition.get("States") or {}):
        kind = state.get("Type")
        blocker = _task_blocker(name, state) if kind == "Task" else \
            _wait_blocker(name, state) if kind == "Wait" else None
        if kind == "Map" and ((state.get("ItemProcessor") or {}).get("ProcessorConfig")
                              or {}).get("Mode") == "DISTRIBUTED":
            blocker = Blocker(name, "is a Distributed Map (Standard workflows only)")
        if blocker is not None:
            found.append(blocker)
    limit = definition.get("TimeoutSeconds", timeout_seconds)
    if isinstance(limit, int | float) and limit > EXPRESS_MAX_SECONDS:
        found.append(Blocker(None, f"may run {limit:g} s (its timeout), more than "
                                   f"Express's {EXPRESS_MAX_SECONDS} s"))
    if estimated_seconds is not None and estimated_seconds > EXPRESS_MAX_SECONDS:
        found.append(Blocker(None, f"is estimated to run {estimated_seconds:g} s, more than "
                                   f"Express's {EXPRESS_MAX_SECONDS} s"))
    return found


def decide(requested: str, definition: Mapping[str, Any], *,
           timeout_seconds: float | None = None,
           estimated_seconds: float | None = None) -> TypeDecision:
    """The state machine's type for ``settings.type`` = ``requested`` (see the module
    docstring); raises ``ExpressRefused`` for ``express`` when something blocks it."""
    found = tuple(blockers(definition, timeout_seconds, estimated_seconds))
    if requested == "standard":
        return TypeDecision(requested, STANDARD, "settings.type is standard", found)
    if not found:
        return TypeDecision(requested, EXPRESS, f"settings.type is {requested} and nothing "
                            "needs a Standard state machine", found, CAVEATS)
    if requested == "express":
        raise ExpressRefused([Problem(b.state, "settings.type",
                                      f"cannot run as Express: {b}", "express-refused")
                              for b in found])
    return TypeDecision(requested, STANDARD, f"settings.type is auto and {found[0]}"
                        + (f" (and {len(found) - 1} more)" if len(found) > 1 else ""), found)
