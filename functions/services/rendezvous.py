"""The node runner's side of a rendezvous (``compiler.lowering.rendezvous``): producers
signal, a waiting node parks its task token, and whoever completes the meeting sends the
token back with every producer's outputs."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError
from pydantic import Field

from functions.runner import RunnerEvent, parse_event
from functions.services.waits import GONE
from functions.store.rendezvous import Meeting, RendezvousRepository


class Target(RunnerEvent):
    node: str  # the waiting node
    slot: str  # where its item keeps this producer's outputs
    needs: int = Field(ge=1)  # how many producers it waits for


class Signal(RunnerEvent):
    node: str
    targets: list[Target]
    output: Any = None  # absent when the node runs in the same call: its result


class Await(RunnerEvent):
    node: str
    needs: int = Field(ge=1)
    taskToken: str


class RendezvousEvent(RunnerEvent):
    execution: str  # the execution ARN
    runIndex: int = 0  # inside loops: the iteration (compiler.passes.emit.run_index)
    signal: Signal | None = None
    await_: Await | None = Field(None, alias="await")

    def key(self, node: str) -> str:
        """The waiting node's item (apart from quorum items, which share the table)."""
        return f"{self.execution}#{node}#{self.runIndex}#rendezvous"


class RendezvousService:
    def __init__(self, sfn: Any, meetings: RendezvousRepository | None = None) -> None:
        self.sfn = sfn
        self.meetings = meetings or RendezvousRepository()

    def handle(self, event: Any, result: Any = None) -> None:
        """Do what ``event`` (a compiled ``rendezvous`` argument) asks; ``result`` is the
        outputs of the node run in the same call, if any."""
        parsed = parse_event(RendezvousEvent, event, "rendezvous")
        if parsed.signal is not None:
            outputs = parsed.signal.output if result is None else result
            output = json.dumps(outputs, separators=(",", ":"), ensure_ascii=False)
            for target in parsed.signal.targets:
                meeting = self.meetings.signal(parsed.key(target.node), target.slot, output)
                if meeting.complete(target.needs):
                    self._release(meeting)
        if parsed.await_ is not None:
            waiting = parsed.await_
            meeting = self.meetings.park(parsed.key(waiting.node), waiting.taskToken)
            if meeting.complete(waiting.needs):
                self._release(meeting)

    def _release(self, meeting: Meeting) -> None:
        assert meeting.token is not None
        outputs = ",".join(f"{json.dumps(slot)}:{text}" for slot, text in meeting.outputs.items())
        try:
            self.sfn.send_task_success(taskToken=meeting.token, output="{" + outputs + "}")
        except ClientError as exc:  # released already (a retried call), or cancelled
            if exc.response.get("Error", {}).get("Code") not in GONE:
                raise
