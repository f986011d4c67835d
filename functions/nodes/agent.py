"""The ``agent`` node: one conversation with a chat model per input item
(``functions.ai.agent_loop``), its tools HTTP endpoints and sub-workflows.

The output item is ``{"output": answer, "usage": {inputTokens, outputTokens, totalTokens,
modelCalls}, "model", "messages", "turns"}``: the answer (text, or the JSON value that
matched ``answerSchema``) and the conversation's record — the opening messages, then per
turn the model's reply, tool calls with their inputs, results, errors and durations, token
usage and the turn's duration. The record travels in the item, so it is the node run's
output in the run data. Each turn is also written to the run's logs as it ends, so a
node that fails (out of turns, an answer never valid, a model unreachable) keeps what ran.

The tokens every model used over all items, failed conversations included (they are paid
for), go to the runner as ``ctx.extras["modelUsage"]`` (model -> inputTokens, outputTokens,
totalTokens, modelCalls) and as the run's last log line (``agent model usage: {json}``):
what an execution's cost will read once the runner records it with the run.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import requests

from functions.expressions import Item
from functions.nodes.base import Executor, NodeContext, Ports, register
from functions.nodes.items import main_input
from functions.nodes.tool import _sleep, tool_env

if TYPE_CHECKING:  # functions.ai loads on an agent node's first run, not at cold start
    from functions.ai.agent_loop import AgentRun


def turn_line(index: int, run: AgentRun) -> str:
    """One log line for the run's last turn."""
    turn = run.turns[-1]
    usage = turn["usage"]
    parts = [f"agent item {index} turn {turn['turn']} ({run.model}): "
             f"{usage['inputTokens']} in / {usage['outputTokens']} out tokens, "
             f"{turn.get('durationMs', 0)} ms"]
    for result in turn.get("toolResults", []):
        outcome = result["error"]["type"] if "error" in result else "ok"
        parts.append(f"tool {result['name']}: {outcome} in {result['durationMs']} ms")
    if turn.get("answerProblems"):
        parts.append("answer invalid: " + "; ".join(turn["answerProblems"]))
    if turn.get("rateLimitWaits"):
        parts.append(f"waited {sum(turn['rateLimitWaits']):g}s on rate limits")
    return "; ".join(parts)


def _credential(ctx: NodeContext) -> Any:
    """The node's ``openAiApi`` credential (``credentials: {name}``), or None without one:
    a local OpenAI-compatible server may need no key (``model.baseUrl``)."""
    from functions.credentials import NODE_CREDENTIALS_KEY, OpenAiApi, node_credential

    if not ctx.extras.get(NODE_CREDENTIALS_KEY):
        return None
    return node_credential(ctx, OpenAiApi)


USAGE_LOG_PREFIX = "agent model usage: "


def _count(totals: dict[str, dict[str, int]], run: AgentRun) -> None:
    usage = run.turns[-1]["usage"]
    entry = totals.setdefault(run.model, {"inputTokens": 0, "outputTokens": 0,
                                          "totalTokens": 0, "modelCalls": 0})
    for key in ("inputTokens", "outputTokens", "totalTokens"):
        entry[key] += usage[key]
    entry["modelCalls"] += 1


@register
class Agent(Executor):
    type_name = "agent"

    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        from functions.ai.agent_loop import AgentTask, run_agent
        from functions.ai.models import chat_model

        session = ctx.http if ctx.http is not None else requests.Session()
        env = tool_env(ctx, session)
        logs: list[str] = ctx.extras.setdefault("logs", [])
        totals: dict[str, dict[str, int]] = ctx.extras.setdefault("modelUsage", {})

        def on_turn(run: AgentRun, index: int) -> None:
            logs.append(turn_line(index, run))
            _count(totals, run)

        out: list[Item] = []
        try:
            for index, item in enumerate(main_input(inputs)):
                params = ctx.params(item, index)
                model = chat_model(params.model, credential=_credential(ctx),
                                   session=session, bedrock_client=ctx.extras.get("bedrock"),
                                   sleep=_sleep(ctx), seconds_left=ctx.seconds_left)
                task = AgentTask(params.systemPrompt, params.prompt, params.tools,
                                 params.maxTurns, params.answerSchema, params.answerRetries)
                run = run_agent(model, task, env, item_index=index,
                                on_turn=lambda run, i=index: on_turn(run, i))
                out.append({"output": run.answer, **run.to_dict()})
        finally:
            if totals:
                logs.append(USAGE_LOG_PREFIX + json.dumps(totals, sort_keys=True))
            if ctx.http is None:
                session.close()
        return [out]
