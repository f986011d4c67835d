"""Request bodies and query values of the API (pydantic: validated, and in the OpenAPI)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]


class StartExecution(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: Any = Field(None, description="The trigger's items: a list of objects, one "
                       "object, or {\"items\": [...]}.")
    idempotencyKey: str | None = Field(
        None, min_length=1, max_length=256,
        description="Repeating a key returns the first execution and starts nothing.")
    startNodes: list[str] = Field(
        default_factory=list, description="Partial run: start at these nodes, replaying "
        "the outputs of the nodes above them from `fromExecution`.")
    destinationNode: str | None = Field(None, description="Partial run: stop after this "
                                        "node (run only what it depends on).")
    fromExecution: str | None = Field(None, description="Partial run: the execution whose "
                                      "recorded outputs the skipped-over nodes replay.")

    @property
    def partial(self) -> bool:
        return bool(self.startNodes or self.destinationNode or self.fromExecution)


class Replay(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: Any = Field(None, description="A new input; default: the original one.")
