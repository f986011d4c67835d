"""Pause and resume wait nodes (``resume: webhook | approval``; ``compiler.lowering.resume``).

* **Pause**: the node runner, invoked with a task token, records the wait (token, mode,
  input items) and marks the execution ``WAITING``; ``GET /executions?status=waiting``
  finds it through the executions' ``byStatus`` index. Nothing lives in memory, so any
  API process resumes it, however often its clients restart.
* **Resume exactly once**: a decision first moves the wait out of ``waiting`` with one
  conditional write on (status, token); only the winner sends the token back
  (SendTaskSuccess with the node's outputs, or SendTaskFailure ``Sfnflow.Rejected``), so
  a second call is a conflict. When Step Functions no longer knows the token (the wait
  timed out or its execution stopped) the wait becomes ``timedOut``; a passing failure
  gives it back.
* **Signed resume URLs** (``POST /executions/{id}/resume/{waitId}?sig=``) are public: the
  signature is an HMAC of the execution and wait ids keyed by the task token the wait
  *first* paused with (``Wait.signing_token``), a secret only Step Functions and the run
  data know. No shared key to distribute or rotate. A wait that pauses again (its Task
  retried, or its execution resumed by a restarted local server: ``local.recovery``) gets
  a new token but keeps its first one, so a URL handed out before still resumes it, with
  the current token. Keeping every earlier token instead would grow the record with each
  pause and cost one HMAC per token on every call; one first token is one comparison.
  What ends a URL is the wait being decided or its execution ending, not a new token: the
  (execution, wait) pair never names another question. A wait decided and then paused
  again asks a new one and gets a new key (``WaitRepository.save``).
* **Output**: the received data becomes the node's items (a list of objects, one object,
  ``{"items": [...]}`` or a scalar as ``{"value": ...}``); no data passes the input items
  through. The wait's node run (output = those items, or the rejection) is recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.config import Config
from functions.services.execution_control import ExecutionConflict, ExecutionNotFound
from functions.store.repository import TERMINAL, NodeRun, RunRepository, utc_now
from functions.store.waits import (
    EXECUTION_WAITING,
    NEVER_PAUSED,
    RESUMING,
    TIMED_OUT,
    WAITING,
    Wait,
    WaitRepository,
)

REJECTED = "Sfnflow.Rejected"
MAX_OUTPUT_BYTES = 200_000  # SendTaskSuccess carries at most 256 KiB (UTF-8 bytes)
MAX_STORED_INPUT_BYTES = 300_000  # a DynamoDB item holds 400 KB (UTF-8 bytes)
MAX_REASON_CHARS = 4_096  # SendTaskFailure's cause takes at most 32,768 characters
GONE = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})
DECISIONS = {"resume": ("webhook", "resumed"), "approve": ("approval", "approved"),
             "reject": ("approval", "rejected")}
Item = dict[str, Any]
PUBLIC_ROUTE = re.compile(r"^/executions/[^/]+/resume/[^/]+/?$")
"""The one route under /executions that needs no API key (POST; the gateway's concern)."""


class SignatureInvalid(Exception):
    """A resume URL without a signature (``missing``) or with a wrong one."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


class PayloadInvalid(ValueError):
    """The data sent to resume a wait cannot become its output."""


def wait_id_of(node: str, run_index: int) -> str:
    """Readable and stable: a retried invocation of the same state pauses the same wait."""
    slug = re.sub(r"[^a-z0-9]+", "-", node.lower()).strip("-")[:40] or "wait"
    return f"{slug}-{run_index}-{hashlib.sha256(node.encode()).hexdigest()[:6]}"


def signature(wait: Wait) -> str:
    message = f"{wait.execution_id}/{wait.wait_id}".encode()
    return hmac.new(wait.signing_token.encode(), message, hashlib.sha256).hexdigest()[:40]


_DECOY = "0" * 40  # compared against when there is no wait, so both paths do the same work


def signature_matches(given: str, wait: Wait | None) -> bool:
    """Total and constant-time: any text the caller sent (non-ASCII, any length) is
    compared as UTF-8 bytes (``hmac.compare_digest`` refuses non-ASCII ``str``), and an
    unknown wait costs the same comparison as a known one."""
    expected = signature(wait) if wait is not None else _DECOY
    same = hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())
    return same and wait is not None


def payload_items(payload: Any) -> list[Item] | None:
    """The items a payload stands for (as an execution's input does), None for no data."""
    if payload is None or payload == {} or payload == "":
        return None
    if isinstance(payload, dict) and isinstance(payload.get("items"), list) \
            and len(payload) == 1:
        payload = payload["items"]
    values = payload if isinstance(payload, list) else [payload]
    return [value if isinstance(value, dict) else {"value": value} for value in values]


def _ports(items: list[Item], outputs: int) -> list[list[Item]]:
    return [items] + [[] for _ in range(outputs - 1)]


def _encoded(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _bytes(value: Any) -> int:
    """What AWS counts: UTF-8 bytes, not characters (an emoji is 4 of them)."""
    return len(_encoded(value).encode())


def _millis_between(start: str, end: str) -> int:
    def parse(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    return max(int((parse(end) - parse(start)).total_seconds() * 1000), 0)


class WaitService:
    def __init__(self, sfn: Any, runs: RunRepository, waits: WaitRepository,
                 config: Config) -> None:
        self.sfn = sfn
        self.runs = runs
        self.waits = waits
        self.config = config

    # ------------------------------------------------------------------ the runner's side

    def pause(self, *, execution_id: str, workflow_id: str, node: str, mode: str, token: str,
              inputs: list[list[Item]], outputs: int, run_index: int = 0,
              timeout_seconds: int | None = None) -> Wait:
        now = utc_now()
        deadline = None
        if timeout_seconds:
            moment = datetime.now(UTC) + timedelta(seconds=timeout_seconds)
            deadline = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        stored = inputs if _bytes(inputs) <= MAX_STORED_INPUT_BYTES else None
        wait = Wait(execution_id=execution_id, wait_id=wait_id_of(node, run_index),
                    workflow_id=workflow_id, node=node, mode=mode, token=token,
                    run_index=run_index, outputs=outputs, inputs=stored, created_at=now,
                    deadline=deadline)
        # WAITING first: whoever sees the wait also sees its execution paused.
        self.waits.set_execution_status(execution_id, "RUNNING", EXECUTION_WAITING)
        if not self.waits.save(wait):  # it timed out already (``expire``): nothing pauses
            self._running_unless_waiting(execution_id)
        return wait

    def expire(self, *, execution_id: str, workflow_id: str, node: str, mode: str,
               run_index: int = 0) -> None:
        """The wait timed out and the workflow went on (``onTimeout: continue`` or an
        ``onError`` route): it is no longer paused, and neither is its execution unless
        another wait is. A wait whose runner has not recorded the pause yet is recorded as
        timed out, so the late pause leaves it so."""
        wait = self.waits.get(execution_id, wait_id_of(node, run_index))
        if wait is None:
            self.waits.expire_unpaused(Wait(
                execution_id=execution_id, wait_id=wait_id_of(node, run_index),
                workflow_id=workflow_id, node=node, mode=mode, token=NEVER_PAUSED,
                run_index=run_index))
        elif wait.status == WAITING:
            self.waits.decide(wait, TIMED_OUT)
        self._running_unless_waiting(execution_id)

    def complete(self, token: str, outputs: list[list[Item]]) -> None:
        """Finish a callback task at once (a wait that does not pause)."""
        ports = [{"count": len(items), "items": items} for items in outputs]
        self.sfn.send_task_success(taskToken=token, output=_encoded({"ports": ports}))

    # ------------------------------------------------------------------ the API's side

    def views(self, execution_id: str) -> list[dict[str, Any]]:
        """Every wait of the execution, with the URLs that decide the ones still paused."""
        execution = self.runs.get_execution(execution_id)
        if execution is None:
            raise ExecutionNotFound(f"execution {execution_id!r} does not exist")
        ended = execution.status in TERMINAL
        return [self._view(wait, ended) for wait in self.waits.waits_of(execution_id)]

    def _view(self, wait: Wait, ended: bool) -> dict[str, Any]:
        status = "expired" if ended and wait.status == WAITING else wait.status
        view: dict[str, Any] = {
            "waitId": wait.wait_id, "node": wait.node, "runIndex": wait.run_index,
            "mode": wait.mode, "status": status, "createdAt": wait.created_at,
            "deadline": wait.deadline, "decidedAt": wait.decided_at,
        }
        if status == WAITING:
            base = f"{self.config.api_url}/executions/{wait.execution_id}"
            if wait.mode == "webhook":
                view["resumeUrl"] = f"{base}/resume/{wait.wait_id}?sig={signature(wait)}"
            else:
                view["approveUrl"] = f"{base}/approve/{wait.wait_id}"
                view["rejectUrl"] = f"{base}/reject/{wait.wait_id}"
        return view

    def resume(self, execution_id: str, wait_id: str, sig: str | None,
               payload: Any) -> dict[str, Any]:
        """The public, signed route: unknown waits and wrong signatures look alike."""
        if not sig:
            raise SignatureInvalid("this URL needs its signature (?sig=)", missing=True)
        wait = self.waits.get(execution_id, wait_id)
        matched = signature_matches(sig, wait)  # compared even when there is no wait
        if wait is None or not matched:
            raise SignatureInvalid("the signature does not match this wait")
        return self._decide(wait, "resume", payload)

    def decide(self, execution_id: str, wait_id: str, decision: str,
               payload: Any) -> dict[str, Any]:
        """``approve`` or ``reject`` (the management API)."""
        wait = self.waits.get(execution_id, wait_id)
        if wait is None:
            raise ExecutionNotFound(f"execution {execution_id!r} has no wait {wait_id!r}")
        return self._decide(wait, decision, payload)

    def _decide(self, wait: Wait, decision: str, payload: Any) -> dict[str, Any]:
        mode, status = DECISIONS[decision]
        if wait.mode != mode:
            raise ExecutionConflict(
                f"wait {wait.wait_id!r} is resumed by {wait.mode}: use "
                + ("its signed resume URL" if wait.mode == "webhook" else "approve / reject"))
        if wait.status != WAITING:
            raise ExecutionConflict(f"wait {wait.wait_id!r} is already {wait.status}")
        if wait.token == RESUMING:
            raise ExecutionConflict(f"wait {wait.wait_id!r} is pausing again: the local "
                                    "server restarted and is resuming its execution; try "
                                    "again in a moment")
        execution = self.runs.get_execution(wait.execution_id)
        if execution is None or execution.status in TERMINAL:
            raise ExecutionConflict(f"execution {wait.execution_id!r} already ended")
        if decision == "reject":
            outputs = None
            message = _reason(payload)
        else:
            items = payload_items(payload)
            if items is None:
                items = [item for port in wait.inputs or [] for item in port]
            outputs = _ports(items, wait.outputs)
            size = _bytes(outputs)
            if size > MAX_OUTPUT_BYTES:
                raise PayloadInvalid(f"the data is {size:,} bytes as items; a wait's output "
                                     f"carries at most {MAX_OUTPUT_BYTES:,}")
        if not self.waits.decide(wait, status):
            raise ExecutionConflict(f"wait {wait.wait_id!r} was decided by another request")
        try:
            if outputs is None:
                self.sfn.send_task_failure(taskToken=wait.token, error=REJECTED,
                                           cause=_encoded({"errorMessage": message,
                                                           "node": wait.node}))
            else:
                self.complete(wait.token, outputs)
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            self.waits.undo(wait, status)
            if code in GONE:
                self.waits.decide(wait, TIMED_OUT)
                self._running_unless_waiting(wait.execution_id)
                raise ExecutionConflict(f"wait {wait.wait_id!r} is no longer paused: it "
                                        "timed out or its execution stopped") from exc
            raise
        self._record_run(wait, outputs, None if outputs is not None else message)
        self._running_unless_waiting(wait.execution_id)
        return {"executionId": wait.execution_id, "waitId": wait.wait_id, "status": status}

    def _running_unless_waiting(self, execution_id: str) -> None:
        """WAITING -> RUNNING once no wait of the execution is paused any more."""
        if not any(wait.status == WAITING for wait in self.waits.waits_of(execution_id)):
            self.waits.set_execution_status(execution_id, EXECUTION_WAITING, "RUNNING")

    def _record_run(self, wait: Wait, outputs: list[list[Item]] | None,
                    rejection: str | None) -> None:
        finished = utc_now()
        self.runs.record_node_run(NodeRun(
            execution_id=wait.execution_id, node=wait.node, node_type="wait",
            status="success" if outputs is not None else "error",
            started_at=wait.created_at, finished_at=finished,
            duration_ms=_millis_between(wait.created_at, finished), run_index=wait.run_index,
            input_counts=[len(port) for port in wait.inputs or []],
            output_counts=[len(port) for port in outputs or []], output=outputs,
            error={"type": REJECTED, "message": rejection} if outputs is None else None))


def _reason(payload: Any) -> str:
    """The rejection's message, cut to ``MAX_REASON_CHARS``: it travels as the task
    failure's cause, which Step Functions caps."""
    if isinstance(payload, dict) and isinstance(payload.get("reason"), str):
        reason = str(payload["reason"])
    else:
        reason = "rejected" if payload in (None, {}, "") else f"rejected: {_encoded(payload)}"
    return reason if len(reason) <= MAX_REASON_CHARS else reason[:MAX_REASON_CHARS - 1] + "…"
