"""Calling one tool: its input checked, the call made (HTTP or a child execution), its
output checked. Shared by the ``tool`` node and the agent's tool calls.

A **sub-workflow tool** runs as a child execution of the workflow's state machine, started
from inside the node runner (StartExecution, then DescribeExecution polled until it ends or
the tool's time is up, when it is stopped). The node cannot use ``startExecution.sync`` as
``executeWorkflow`` does: the model decides mid-invocation which tool to call. The child's
name derives from this execution, node, attempt and call, so a repeated StartExecution of the
same call is idempotent and a Step Functions retry of the node starts fresh children. Its
input is ``{"items": [input], "mode": "subworkflow", "workflow", "parent", "calledBy"}``.
Its ``parent`` carries the call depth and limit only — the child's trigger enforces them as
for ``executeWorkflow`` (``Sfnflow.SubworkflowDepthExceeded``), so an agent whose tool runs
a workflow that calls the agent again stops at the limit — and never ``executionId``: with
it the child's status changes would be recorded as the run of an ``executeWorkflow`` node in
place of this node's own (``functions.services.subworkflows``); ``calledBy`` names the
caller instead. This execution's own depth is read once, from its input (one
DescribeExecution). Its result is the child's output items; one item is returned as itself.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from compiler.nodetypes import SUBWORKFLOW_MAX_DEPTH
from functions.ai.errors import ToolFailed, ToolInputInvalid, ToolOutputInvalid, ToolTimeout
from functions.ai.schemas import problems
from functions.errors import NodeTimeout, ParameterError
from functions.http import send, status_error
from functions.services.subworkflows import child_output_items

EXCERPT_CHARS = 300
POLL_FIRST_SECONDS = 0.02
POLL_MAX_SECONDS = 1.0


@dataclass
class ToolEnv:
    """What a tool call needs from the node: clients, identity and time."""

    session: requests.Session
    execution_id: str
    node: str
    attempt: int = 1
    workflow: str = ""  # the workflow this node runs in
    sfn: Callable[[], Any] | None = None  # a Step Functions client, made on first use
    state_machine_arn: Callable[[str], str] | None = None  # workflow name -> ARN
    seconds_left: Callable[[], float | None] = lambda: None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    started: list[str] = field(default_factory=list)  # child executions started (names)
    depth: tuple[int, int] | None = None  # (this execution's depth, its limit), once read


def check_input(tool: Any, value: Any) -> None:
    found = problems(value, tool.inputSchema)
    if found:
        raise ToolInputInvalid(f"input of tool {tool.name!r} does not match its inputSchema: "
                               + "; ".join(found))


def call_tool(tool: Any, value: Any, env: ToolEnv, call_key: str) -> Any:
    """The tool's result for input ``value`` (a ``compiler.ai_params.ToolDef``)."""
    check_input(tool, value)
    timeout = _timeout(tool, env)
    if tool.http is not None:
        result = _call_http(tool, value, env, timeout)
    else:
        result = _call_workflow(tool, value, env, timeout, call_key)
    if tool.outputSchema is not None:
        found = problems(result, tool.outputSchema)
        if found:
            raise ToolOutputInvalid(f"result of tool {tool.name!r} does not match its "
                                    "outputSchema: " + "; ".join(found))
    return result


def _timeout(tool: Any, env: ToolEnv) -> float:
    left = env.seconds_left()
    timeout = float(tool.timeoutSeconds)
    if left is not None and left < timeout:
        if left <= 0:
            raise ToolTimeout(f"tool {tool.name!r}: no time left to call it")
        return left
    return timeout


def _call_http(tool: Any, value: Any, env: ToolEnv, timeout: float) -> Any:
    target = tool.http
    arguments: dict[str, Any] = {"params": value} if target.method == "GET" else \
        {"json": value}
    try:
        response = send(env.session, target.method, target.url, timeout=timeout,
                        headers=target.headers, **arguments)
    except NodeTimeout as exc:
        raise ToolTimeout(f"tool {tool.name!r}: {exc}") from exc
    if response.status_code >= 400:
        raise status_error(response.status_code)(
            f"tool {tool.name!r}: {target.method} {target.url} returned "
            f"{response.status_code}: {response.text[:EXCERPT_CHARS]}")
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def child_name(env: ToolEnv, call_key: str) -> str:
    """<first 32 chars of the execution id>-<32 hex of a SHA-256>-<attempt>: at most 80
    characters, as Step Functions allows, and a child's name starts with its root's id."""
    digest = hashlib.sha256(f"{env.execution_id}/{env.node}/{call_key}".encode()).hexdigest()
    return f"{env.execution_id[:32]}-{digest[:32]}-{env.attempt}"


def _call_workflow(tool: Any, value: Any, env: ToolEnv, timeout: float,
                   call_key: str) -> Any:
    if env.sfn is None or env.state_machine_arn is None:
        raise ParameterError(f"tool {tool.name!r}: sub-workflow tools need Step Functions "
                             "(no client configured)")
    sfn = env.sfn()
    name = child_name(env, call_key)
    machine = env.state_machine_arn(tool.workflow)
    depth, limit = _own_depth(sfn, env)
    envelope = {"items": [value], "mode": "subworkflow", "workflow": tool.workflow,
                "parent": {"depth": depth + 1, "maxDepth": limit, "workflow": env.workflow,
                           "node": env.node},
                "calledBy": {"executionId": env.execution_id, "node": env.node,
                             "tool": tool.name}}
    try:
        arn = sfn.start_execution(stateMachineArn=machine, name=name,
                                  input=json.dumps(envelope))["executionArn"]
    except sfn.exceptions.ExecutionAlreadyExists:
        from functions.services.executions import execution_arn_of

        arn = execution_arn_of(machine, name)
    except sfn.exceptions.StateMachineDoesNotExist:
        raise ParameterError(f"tool {tool.name!r}: workflow {tool.workflow!r} is not "
                             "deployed") from None
    env.started.append(name)
    described = _await(sfn, arn, env, timeout)
    if described is None:
        sfn.stop_execution(executionArn=arn, error="Sfnflow.ToolTimeout",
                           cause=f"the calling node gave up after {timeout:g}s")
        raise ToolTimeout(f"tool {tool.name!r}: workflow {tool.workflow!r} execution {name} "
                          f"still running after {timeout:g}s (stopped)")
    if described["status"] != "SUCCEEDED":
        details = ": ".join(str(part) for part in (described.get("error"),
                                                     described.get("cause")) if part)
        raise ToolFailed(f"tool {tool.name!r}: workflow {tool.workflow!r} execution {name} "
                         f"{str(described['status']).lower()}" + (f": {details}" if details
                                                                   else ""))
    output = described.get("output")
    items = child_output_items(json.loads(output) if isinstance(output, str) else output)
    return items[0] if len(items) == 1 else items


def _own_depth(sfn: Any, env: ToolEnv) -> tuple[int, int]:
    """(depth, limit) of the execution this node runs in, from its input's ``parent``
    (a root execution: 0 and the default limit)."""
    if env.depth is None:
        from functions.services.executions import execution_arn_of

        assert env.state_machine_arn is not None
        arn = execution_arn_of(env.state_machine_arn(env.workflow), env.execution_id)
        try:
            raw = sfn.describe_execution(executionArn=arn).get("input")
        except sfn.exceptions.ExecutionDoesNotExist:
            raw = None
        try:
            envelope = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            envelope = None
        parent = envelope.get("parent") if isinstance(envelope, dict) else None
        parent = parent if isinstance(parent, dict) else {}
        depth, limit = parent.get("depth"), parent.get("maxDepth")
        env.depth = (depth if isinstance(depth, int) else 0,
                     limit if isinstance(limit, int) else SUBWORKFLOW_MAX_DEPTH)
    return env.depth


def _await(sfn: Any, arn: str, env: ToolEnv, timeout: float) -> dict[str, Any] | None:
    """DescribeExecution until the child ends (None: still running at the deadline),
    polling at a doubling interval up to ``POLL_MAX_SECONDS``."""
    deadline = env.clock() + timeout
    pause = POLL_FIRST_SECONDS
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        if described["status"] not in ("RUNNING", "PENDING_REDRIVE"):
            return described
        left = deadline - env.clock()
        if left <= 0:
            return None
        env.sleep(min(pause, left))
        pause = min(pause * 2, POLL_MAX_SECONDS)
