"""The node runner's side of a rendezvous (``compiler.lowering.rendezvous``): producers
signal, a waiting node parks its task token, and whoever completes the meeting sends the
token back with every producer's outputs."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.errors import ParameterError
from functions.services.waits import GONE
from functions.store.rendezvous import Meeting, RendezvousRepository


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Target(_Event):
    node: str  # the waiting node
    slot: str  # where its item keeps this producer's outputs
    needs: int = Field(ge=1)  # how many producers it waits for


class Signal(_Event):
    node: str
    targets: list[Target]
    output: Any = None  # absent when the node runs in the same call: its result


class Await(_Event):
    node: str
    needs: int = Field(ge=1)
    taskToken: str


class RendezvousEvent(_Event):
    execution: str  # the execution ARN
    runIndex: int = 0  # inside loops: the iteration (compiler.passes.emit.run_index)
    signal: Signal | None = None
    await_: Await | None = Field(None, alias="await")

    def key(self, node: str) -> str:
        return f"{self.execution}#{node}#{self.runIndex}"


class RendezvousService:
    def __init__(self, sfn: Any, meetings: RendezvousRepository | None = None) -> None:
        self.sfn = sfn
        self.meetings = meetings or RendezvousRepository()

    def handle(self, event: Any, result: Any = None) -> None:
        """Do what ``event`` (a compiled ``rendezvous`` argument) asks; ``result`` is the
        outputs of the node run in the same call, if any."""
        try:
            parsed = RendezvousEvent.model_validate(event)
        except ValidationError as exc:
            raise ParameterError(f"malformed rendezvous event: {exc}") from None
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
