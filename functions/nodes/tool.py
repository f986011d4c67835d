"""The ``tool`` node: one call of a tool (an HTTP endpoint or a sub-workflow) per item, the
input and output checked against the tool's JSON Schemas (``functions.ai.tools``).

Retry classes: input that breaks the schema is ``Sfnflow.ToolInputInvalid`` and output that
breaks it ``Sfnflow.ToolOutputInvalid`` — never retried, the same call fails the same way;
a tool that does not answer in ``timeoutSeconds`` is ``Sfnflow.Timeout`` and HTTP 5xx/429
``Sfnflow.HttpServerError``/``Sfnflow.RateLimited`` — retried (``retries`` times inside the
node, then by the state's Retry); a failed sub-workflow is ``Sfnflow.ToolFailed``.

The output item is ``{"output": result}`` (the result is any JSON value).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import requests

from functions.errors import ConnectionFailed, HttpServerError, NodeTimeout, RateLimited
from functions.expressions import Item
from functions.nodes.base import Executor, NodeContext, Ports, register
from functions.nodes.items import main_input

if TYPE_CHECKING:  # functions.ai loads on a tool or agent node's first run, not at cold start
    from functions.ai.tools import ToolEnv

RETRIED = (NodeTimeout, HttpServerError, RateLimited, ConnectionFailed)
BACKOFF_SECONDS = 0.5


def tool_env(ctx: NodeContext, session: requests.Session) -> ToolEnv:
    """A tool call's environment from the node's context: the runner's HTTP session, a
    Step Functions client made on first use (a test may give ``extras["sfn"]``), the
    node's remaining time, ``extras["sleep"]`` (tests: no real sleeps)."""
    from functions.ai.tools import ToolEnv

    made: list[Any] = []

    def sfn() -> Any:
        if "sfn" in ctx.extras:
            return ctx.extras["sfn"]
        if not made:
            import boto3

            from functions.config import Config

            made.append(boto3.client("stepfunctions", region_name=Config.from_env().region))
        return made[0]

    def state_machine_arn(workflow: str) -> str:
        from functions.config import Config

        return str(Config.from_env().state_machine_arn(workflow))

    bindings = ctx.scope.bindings(None, 0)
    return ToolEnv(session=session, execution_id=str(bindings["execution"].get("id", "")),
                   workflow=str(bindings["workflow"].get("name", "")),
                   node=ctx.node_name, attempt=int(ctx.extras.get("attempt") or 1),
                   sfn=sfn, state_machine_arn=state_machine_arn,
                   seconds_left=ctx.seconds_left, sleep=_sleep(ctx))


def _sleep(ctx: NodeContext) -> Callable[[float], None]:
    sleep = ctx.extras.get("sleep")
    return sleep if callable(sleep) else time.sleep


@register
class Tool(Executor):
    type_name = "tool"

    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        session = ctx.http if ctx.http is not None else requests.Session()
        env = tool_env(ctx, session)
        out: list[Item] = []
        try:
            for index, item in enumerate(main_input(inputs)):
                params = ctx.params(item, index)
                value = item if params.input is None else params.input
                out.append({"output": self._call(params, value, env, index)})
        finally:
            if ctx.http is None:
                session.close()
        return [out]

    @staticmethod
    def _call(params: Any, value: Any, env: ToolEnv, index: int) -> Any:
        from functions.ai.tools import call_tool

        attempt = 0
        while True:
            try:
                return call_tool(params.tool, value, env, f"{index}/{attempt}")
            except RETRIED:
                if attempt >= params.retries:
                    raise
                env.sleep(BACKOFF_SECONDS * 2 ** attempt)
                attempt += 1
