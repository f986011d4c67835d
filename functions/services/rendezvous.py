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
    key: str
    slot: str
    needs: int = Field(ge=1)


class Signal(_Event):
    node: str
    targets: list[Target]
    output: Any = None  # absent when the node runs in the same call: its result


class Await(_Event):
    node: str
    key: str
    needs: int = Field(ge=1)
    taskToken: str


class RendezvousEvent(_Event):
    signal: Signal | None = None
    await_: Await | None = Field(None, alias="await")


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
            self.signal(parsed.signal, parsed.signal.output if result is None else result)
        if parsed.await_ is not None:
            self.park(parsed.await_)

    def signal(self, signal: Signal, outputs: Any) -> None:
        output = json.dumps(outputs, separators=(",", ":"), ensure_ascii=False)
        for target in signal.targets:
            meeting = self.meetings.signal(target.key, target.slot, output)
            if meeting.complete(target.needs):
                self._release(meeting)

    def park(self, waiting: Await) -> None:
        meeting = self.meetings.park(waiting.key, waiting.taskToken)
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
