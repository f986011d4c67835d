"""Waiting for an execution to end inside one API request: the one home of that wait.

``POST /workflows/{id}/executions?wait=true`` and webhooks with ``responseMode: lastNode``
answer with the execution's result when it ends in time. Both sit behind API Gateway, whose
REST integration timeout is 29 s from the moment the request arrives (cold start included),
and inside a Lambda whose context says how long the invocation may still run. So:

* **Budget** (``wait_seconds``): the least of what the caller asked for, the Lambda's
  remaining time, and what is left of API Gateway's 29 s since ``requestTimeEpoch`` — each
  less ``SAFETY_MARGIN_SECONDS`` to read the outputs and send the answer.
* **Backoff** (``Backoff``): DescribeExecution is throttled per account and Region (a token
  bucket shared by every caller), so the poll starts at 50 ms and doubles up to 1 s, with
  "equal jitter" (half the delay fixed, half random) so waiting requests do not poll in
  step. A 26 s wait makes at most 57 calls instead of 521.
* **Throttling is "still running"**: a throttled DescribeExecution says nothing about the
  execution; the waiter backs off and asks again while the budget lasts. Its client makes
  no retries of its own (``poll_client``): SDK retry sleeps would not stop at the deadline.

When the budget runs out the caller answers 202 with the execution id and a status URL.
Both callers answer someone outside the platform, so a failed execution's description
comes back with ``cause`` reduced to what a public caller may see
(``functions.services.public_errors``): never the runtime's report or stack trace.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from functions.services.public_errors import authored_error_types, public_failure

API_GATEWAY_TIMEOUT_SECONDS = 29.0  # REST API integration timeout (default quota)
SAFETY_MARGIN_SECONDS = 3.0  # left for loading outputs and sending the answer
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
THROTTLED = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException",
                       "RequestLimitExceeded"})


def poll_client(region: str) -> Any:
    """A Step Functions client for the waiter: no SDK retries (the waiter backs off on
    throttling itself; the SDK's own retry sleeps would not stop at the deadline)."""
    import boto3
    from botocore.config import Config

    return boto3.client("stepfunctions", region_name=region,
                        config=Config(retries={"mode": "standard", "total_max_attempts": 1}))


def request_epoch_ms(event: Any) -> float | None:
    """When API Gateway received the request (a proxy event's ``requestTimeEpoch``)."""
    context = event.get("requestContext") if isinstance(event, dict) else None
    epoch = context.get("requestTimeEpoch") if isinstance(context, dict) else None
    return float(epoch) if isinstance(epoch, int | float) else None


def wait_seconds(context: Any = None, *, requested: float | None = None,
                 request_epoch_ms: float | None = None,
                 margin: float = SAFETY_MARGIN_SECONDS,
                 now: Callable[[], float] = time.time) -> float:
    """How long a handler may wait: the least of ``requested``, the Lambda ``context``'s
    remaining time and API Gateway's 29 s counted from ``request_epoch_ms`` (the proxy
    event's ``requestContext.requestTimeEpoch``), the last two less ``margin``."""
    bounds = [API_GATEWAY_TIMEOUT_SECONDS - margin]
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining):
        bounds.append(remaining() / 1000 - margin)
    if request_epoch_ms:
        elapsed = now() - request_epoch_ms / 1000
        bounds.append(API_GATEWAY_TIMEOUT_SECONDS - max(0.0, elapsed) - margin)
    if requested is not None:
        bounds.append(requested)
    return max(0.0, min(bounds))


@dataclass(frozen=True)
class Backoff:
    """Poll delays: ``first`` doubling (``factor``) up to ``cap`` seconds, equal jitter."""

    first: float = 0.05
    factor: float = 2.0
    cap: float = 1.0

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """The sleep after poll number ``attempt`` (0-based): in [d/2, d], d the capped
        exponential delay — never below half, so the call rate stays bounded."""
        ceiling = min(self.cap, self.first * self.factor ** attempt)
        return ceiling / 2 + rng() * ceiling / 2


@dataclass(frozen=True)
class Waited:
    """The last DescribeExecution answer (None when every call was throttled; a failure's
    ``cause`` made public, ``public_view``) and whether the execution ended within the
    budget."""

    described: dict[str, Any] | None
    ended: bool
    polls: int
    throttled: int


class ExecutionWaiter:
    """Polls DescribeExecution with backoff until the execution ends or the budget passes.
    ``clock``, ``sleep`` and ``rng`` are injectable so tests run on a fake clock."""

    def __init__(self, sfn: Any, *, backoff: Backoff = Backoff(),
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 rng: Callable[[], float] = random.random) -> None:
        self.sfn = sfn
        self.backoff = backoff
        self.clock = clock
        self.sleep = sleep
        self.rng = rng

    def wait(self, execution_arn: str, seconds: float) -> Waited:
        deadline = self.clock() + seconds
        described: dict[str, Any] | None = None
        polls = throttled = 0
        while True:
            polls += 1
            try:
                described = self.sfn.describe_execution(executionArn=execution_arn)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in THROTTLED:
                    raise
                throttled += 1  # says nothing about the execution: still running
            else:
                if described is not None and described.get("status") in TERMINAL:
                    return Waited(self.public_view(described), True, polls, throttled)
            left = deadline - self.clock()
            if left <= 0:
                return Waited(described, False, polls, throttled)
            self.sleep(min(self.backoff.delay(polls - 1, self.rng), left))

    def public_view(self, described: dict[str, Any]) -> dict[str, Any]:
        """``described`` with a failure's ``cause`` replaced by the message a public caller
        may see; the author's ``stopAndError`` types are read from the definition the
        execution ran (one call, for failures only; none known if it fails)."""
        if described.get("status") == "SUCCEEDED":
            return described
        try:
            definition = json.loads(self.sfn.describe_state_machine_for_execution(
                executionArn=described["executionArn"])["definition"])
            authored = authored_error_types(definition)
        except Exception:  # noqa: BLE001 - no definition: no author's message, nothing leaks
            authored = frozenset()
        view = public_failure(described.get("error"), described.get("cause"), authored)
        return {**described, "cause": view["message"]}
