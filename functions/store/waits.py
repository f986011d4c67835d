"""Paused waits and the WAITING execution status: the only code touching ``WaitModel``.

Every transition is one conditional write, so two callers racing to resume one wait (or a
resume racing the end of its execution) cannot both win.

A wait that pauses again (its Task retried on AWS; its execution resumed by a restarted
``sfnflow serve``, ``local.recovery``) gets a new task token, but keeps the token it first
paused with as ``first_token`` (``WaitModel.firstToken``, set only while they differ):
resume URLs are signed with that one (``functions.services.waits``), so a URL handed out
before stays good.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from functions.store.models import ExecutionModel, WaitModel
from functions.store.repository import utc_now

WAITING = "waiting"  # a wait's status until it is decided
TIMED_OUT = "timedOut"
NEVER_PAUSED = "-"  # the token of a wait that timed out before it paused
RESUMING = "+"  # the token of a wait whose execution a restarted server resumes (``hold``)
EXECUTION_WAITING = "WAITING"  # the execution's status while one of its waits is paused
UNDECIDED = frozenset({WAITING, TIMED_OUT})  # a pause again asks the same question again
# DynamoDB refuses a partition key over 2,048 bytes and a sort key over 1,024 (UTF-8), or an
# empty one, with a ValidationException: such ids, straight from a URL, name no wait.
PARTITION_KEY_MAX_BYTES = 2048
SORT_KEY_MAX_BYTES = 1024
Item = dict[str, Any]


@dataclass
class Wait:
    execution_id: str
    wait_id: str
    workflow_id: str
    node: str
    mode: str
    token: str
    status: str = WAITING
    run_index: int = 0
    outputs: int = 1
    inputs: list[list[Item]] | None = None
    created_at: str = field(default_factory=utc_now)
    deadline: str | None = None
    decided_at: str | None = None
    first_token: str | None = None  # the token of its first pause, when it paused again

    @property
    def signing_token(self) -> str:
        """The token resume URLs are signed with: the first one, stable across pauses."""
        return self.first_token or self.token


def _first_token(wait: Wait) -> str | None:
    """``WaitModel.firstToken``: kept only while it differs from the token."""
    return wait.first_token if wait.first_token != wait.token else None


def _wait(model: WaitModel) -> Wait:
    return Wait(
        execution_id=model.executionId, wait_id=model.waitId, workflow_id=model.workflowId,
        node=model.node, mode=model.mode, token=model.token, status=model.status,
        run_index=int(model.runIndex), outputs=int(model.outputs), inputs=model.inputs,
        created_at=model.createdAt, deadline=model.deadline, decided_at=model.decidedAt,
        first_token=model.firstToken)


def _storable(key: str, limit: int) -> bool:
    try:
        return 0 < len(key.encode("utf-8")) <= limit
    except UnicodeEncodeError:  # a lone surrogate: not a string DynamoDB can hold
        return False


def _condition_failed(exc: UpdateError) -> bool:
    return exc.cause_response_code == "ConditionalCheckFailedException"


class WaitRepository:
    """Tables are bound by ``RunRepository`` (``bind_tables``); build one of those first."""

    def __init__(self, retention_days: int = 30) -> None:
        self.retention_days = retention_days

    def save(self, wait: Wait) -> bool:
        """Record a pause; a state that pauses again (a retried task, a resumed execution)
        replaces its token and, unless it was decided in between, keeps its first token
        (see the module's docstring). Returns False, recording nothing, when the wait
        expired before it could pause (see ``expire_unpaused``)."""
        for _ in range(3):  # another pause of the same wait may land between read and write
            try:
                before = WaitModel.get(wait.execution_id, wait.wait_id)
            except DoesNotExist:
                before = None
            if before is not None and before.token == NEVER_PAUSED:
                return False
            paused = wait
            if before is not None and before.status in UNDECIDED:
                paused = replace(wait, first_token=_wait(before).signing_token)
            condition = WaitModel.waitId.does_not_exist() if before is None \
                else WaitModel.token == before.token
            try:
                self._model(paused).save(condition=condition)
            except PutError as exc:
                if exc.cause_response_code == "ConditionalCheckFailedException":
                    continue
                raise
            return True
        try:  # still contended: record the pause, if not keeping the first token
            self._model(wait).save(condition=WaitModel.waitId.does_not_exist()
                                   | (WaitModel.token != NEVER_PAUSED))
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def hold(self, wait: Wait) -> bool:
        """A restarted local server resumes the paused wait's execution (``local.recovery``):
        its token died with the old process, and the new one comes when the wait pauses
        again. Until then the wait holds ``RESUMING`` (and its first token, for its URLs),
        so a decision is told to come back instead of being sent to a token Step Functions
        no longer knows. Returns whether it was held (a wait decided or paused again since
        it was read is left alone)."""
        held = replace(wait, token=RESUMING, first_token=wait.signing_token)
        try:
            WaitModel(wait.execution_id, wait.wait_id).update(
                actions=[WaitModel.token.set(held.token),
                         WaitModel.firstToken.set(_first_token(held))],
                condition=(WaitModel.status == WAITING)
                & (WaitModel.token == wait.token))
        except UpdateError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    def expire_unpaused(self, wait: Wait) -> None:
        """The Task timed out before its runner recorded the pause (a slow start): leave a
        timed-out record without a token, so the late pause cannot bring it back."""
        expired = replace(wait, status=TIMED_OUT, token=NEVER_PAUSED, decided_at=utc_now())
        try:
            self._model(expired).save(condition=WaitModel.waitId.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise

    def _model(self, wait: Wait) -> WaitModel:
        return WaitModel(
            executionId=wait.execution_id, waitId=wait.wait_id, workflowId=wait.workflow_id,
            node=wait.node, runIndex=wait.run_index, mode=wait.mode, status=wait.status,
            token=wait.token, firstToken=_first_token(wait), outputs=wait.outputs,
            inputs=wait.inputs,
            createdAt=wait.created_at, deadline=wait.deadline, decidedAt=wait.decided_at,
            expiresAt=int(time.time()) + self.retention_days * 86_400,
        )

    def get(self, execution_id: str, wait_id: str) -> Wait | None:
        """None for a wait that does not exist, including ids no key could hold."""
        if not _storable(execution_id, PARTITION_KEY_MAX_BYTES) \
                or not _storable(wait_id, SORT_KEY_MAX_BYTES):
            return None
        try:
            return _wait(WaitModel.get(execution_id, wait_id))
        except DoesNotExist:
            return None

    def waits_of(self, execution_id: str) -> list[Wait]:
        if not _storable(execution_id, PARTITION_KEY_MAX_BYTES):
            return []
        return [_wait(model) for model in WaitModel.query(execution_id)]

    def decide(self, wait: Wait, status: str) -> bool:
        """Move a paused wait to ``status`` unless someone else decided it first (or it
        paused again with a new token since it was read). Returns whether this call won."""
        try:
            WaitModel(wait.execution_id, wait.wait_id).update(
                actions=[WaitModel.status.set(status), WaitModel.decidedAt.set(utc_now())],
                condition=(WaitModel.status == WAITING)
                & (WaitModel.token == wait.token))
        except UpdateError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    def undo(self, wait: Wait, status: str) -> None:
        """Give a decided wait back (sending its token failed for a passing reason)."""
        try:
            WaitModel(wait.execution_id, wait.wait_id).update(
                actions=[WaitModel.status.set(WAITING), WaitModel.decidedAt.remove()],
                condition=(WaitModel.status == status)
                & (WaitModel.token == wait.token))
        except UpdateError as exc:
            if not _condition_failed(exc):
                raise

    def set_execution_status(self, execution_id: str, expected: str, status: str) -> bool:
        """``expected`` -> ``status`` (RUNNING <-> WAITING); never touches an execution in
        any other status (an ended one above all). Returns whether it changed."""
        for _ in range(3):  # the version attribute may move under us: read again
            try:
                model = ExecutionModel.get(execution_id)
            except DoesNotExist:
                return False
            if model.status != expected:
                return False
            try:
                model.update(actions=[ExecutionModel.status.set(status)],
                             condition=ExecutionModel.status == expected)
            except UpdateError as exc:
                if _condition_failed(exc):
                    continue
                raise
            return True
        return False
