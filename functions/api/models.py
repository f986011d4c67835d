"""Request bodies and query values of the API (pydantic: validated, and in the OpenAPI)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Bounds on numbers that reach a clock or a DynamoDB key: without them ``1e308`` days
# overflowed the date arithmetic and a 40-digit version DynamoDB's 38-digit numbers (500s).
MAX_DAYS = 36_500  # a century: more than any run data is kept
MAX_VERSION = 2**31 - 1

Status = Literal["QUEUED", "RUNNING", "WAITING", "SUCCEEDED", "FAILED", "TIMED_OUT",
                 "ABORTED", "waiting"]  # WAITING: paused at a wait node (either case);
# QUEUED: waiting for a concurrency slot (functions.services.admission)


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
    usePins: bool = Field(False, description="Use the workflow's pins "
                          "(`/workflows/{id}/pins`), as a manual run does. Default false: an "
                          "API start is a production start. Not with a partial run.")

    @model_validator(mode="after")
    def _pins_or_partial(self) -> StartExecution:
        if self.usePins and self.partial:
            raise ValueError("usePins cannot be combined with a partial run")
        return self

    @property
    def partial(self) -> bool:
        return bool(self.startNodes or self.destinationNode or self.fromExecution)


class Replay(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: Any = Field(None, description="A new input; default: the original one.")


class PinItems(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[dict[str, Any]] = Field(description="The node's output items while pinned.")


class PinRollback(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=MAX_VERSION, description="The pin version whose items "
                         "become current again (as a new version).")


class Prune(BaseModel):
    model_config = ConfigDict(extra="forbid")

    olderThanDays: float | None = Field(
        None, ge=0, le=MAX_DAYS, allow_inf_nan=False, description="Also delete executions "
        "that started more than this many days ago (default: only expired run data).")
