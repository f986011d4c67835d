"""The agent's conversation: ask the model, run the tools it calls, send the results back,
until it answers — at most ``max_turns`` model calls.

Every turn is recorded as it happens (``AgentRun.turns``): the model's reply with its tool
calls, each tool's input and result (or error) with its duration, the turn's token usage and
duration, the rate-limit waits. A tool that fails for a reason the model can act on (input
that breaks the schema, arguments that are not JSON, an HTTP 4xx, a failed or slow
sub-workflow) does not fail the node: the error goes back to the model as the tool's result,
flagged as an error, and it may try again. A configuration problem (a workflow that is not
deployed) fails the node: no answer of the model can fix it.

With an ``answer_schema`` the final answer is parsed as JSON and validated; a bad answer is
sent back with what was wrong, ``answer_retries`` times at most, then
``Sfnflow.AgentAnswerInvalid``. A model still calling tools at its last turn is
``Sfnflow.AgentTurnsExhausted``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from functions.ai.chat import ChatModel, Message, Reply, ToolCall, ToolSpec, Usage
from functions.ai.errors import AgentAnswerInvalid, AgentTurnsExhausted, ToolInputInvalid
from functions.ai.schemas import parse_json_answer, problems
from functions.ai.tools import ToolEnv, call_tool
from functions.errors import NodeError, ParameterError

SCHEMA_INSTRUCTION = ("Answer with only a JSON value (no prose, no code fence) that matches "
                      "this JSON Schema:\n{schema}")
RETRY_INSTRUCTION = ("Your answer does not match the required JSON Schema:\n{problems}\n"
                     "Answer again with only the corrected JSON.")


@dataclass
class AgentRun:
    """What one item's conversation produced and how."""

    model: str
    messages: list[dict[str, Any]]  # the opening messages (system, user)
    turns: list[dict[str, Any]] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    answer: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "usage": self.usage.to_dict() | {
            "modelCalls": len(self.turns)}, "messages": self.messages, "turns": self.turns}


@dataclass
class AgentTask:
    system: str
    prompt: str
    tools: Sequence[Any]  # compiler.ai_params.ToolDef
    max_turns: int
    answer_schema: dict[str, Any] | None = None
    answer_retries: int = 2


def tool_specs(tools: Sequence[Any]) -> list[ToolSpec]:
    return [ToolSpec(tool.name, tool.description, tool.inputSchema) for tool in tools]


def opening(task: AgentTask) -> list[Message]:
    system = task.system
    if task.answer_schema is not None:
        instruction = SCHEMA_INSTRUCTION.format(schema=json.dumps(task.answer_schema))
        system = f"{system}\n\n{instruction}" if system else instruction
    return ([Message("system", system)] if system else []) + [Message("user", task.prompt)]


def run_agent(model: ChatModel, task: AgentTask, env: ToolEnv, *, item_index: int = 0,
              clock: Callable[[], float] = time.monotonic,
              on_turn: Callable[[AgentRun], None] = lambda _run: None) -> AgentRun:
    """Converse until an answer; ``on_turn`` sees the run after each recorded turn (the
    node logs it, so a failure still leaves what ran)."""
    messages = opening(task)
    run = AgentRun(model.name, [message.to_dict() for message in messages])
    tools = {tool.name: tool for tool in task.tools}
    specs = tool_specs(task.tools)
    bad_answers = 0
    for number in range(1, task.max_turns + 1):
        started = clock()
        reply = model.complete(messages, specs)
        turn: dict[str, Any] = {"turn": number, "reply": reply.message.to_dict(),
                                "stopReason": reply.stop_reason,
                                "usage": reply.usage.to_dict()}
        if reply.rate_limit_waits:
            turn["rateLimitWaits"] = list(reply.rate_limit_waits)
        run.usage = run.usage + reply.usage
        messages.append(reply.message)
        last = number == task.max_turns
        try:
            if reply.message.tool_calls:
                if last:
                    raise AgentTurnsExhausted(
                        f"the model still called tools "
                        f"({', '.join(call.name for call in reply.message.tool_calls)}) at "
                        f"its last turn (maxTurns {task.max_turns})")
                results = [_tool_result(call, tools, env, f"{item_index}/{number}/{call.id}",
                                        clock) for call in reply.message.tool_calls]
                turn["toolResults"] = [record for record, _message in results]
                messages.extend(message for _record, message in results)
                continue
            answer, found = _checked_answer(reply, task.answer_schema)
            if not found:
                run.answer = answer
                return run
            turn["answerProblems"] = found
            if bad_answers >= task.answer_retries or last:
                raise AgentAnswerInvalid(
                    f"the answer does not match answerSchema after {bad_answers + 1} "
                    f"attempt(s): {'; '.join(found)}")
            bad_answers += 1
            messages.append(Message("user", RETRY_INSTRUCTION.format(
                problems="\n".join(f"- {problem}" for problem in found))))
        finally:
            turn["durationMs"] = int((clock() - started) * 1000)
            run.turns.append(turn)
            on_turn(run)
    raise AssertionError("unreachable: the last turn returns or raises")


def _checked_answer(reply: Reply, schema: dict[str, Any] | None) -> tuple[Any, list[str]]:
    text = reply.message.content
    if schema is None:
        return text, []
    try:
        value = parse_json_answer(text)
    except ValueError as exc:
        return None, [f"$: not JSON ({exc})"]
    return value, problems(value, schema)


def _tool_result(call: ToolCall, tools: dict[str, Any], env: ToolEnv, key: str,
                 clock: Callable[[], float]) -> tuple[dict[str, Any], Message]:
    started = clock()
    record: dict[str, Any] = {"callId": call.id, "name": call.name}
    try:
        tool = tools.get(call.name)
        if tool is None:
            raise ToolInputInvalid(f"no tool named {call.name!r}; tools: "
                                   f"{', '.join(sorted(tools)) or 'none'}")
        try:
            value = json.loads(call.arguments) if call.arguments.strip() else {}
        except ValueError as exc:
            raise ToolInputInvalid(f"arguments of {call.name!r} are not JSON: {exc}") from None
        record["input"] = value
        result = call_tool(tool, value, env, key)
        record["result"] = result
        content = result if isinstance(result, str) else json.dumps(result)
        message = Message("tool", content, tool_call_id=call.id)
    except ParameterError:
        raise
    except NodeError as exc:
        record["error"] = {"type": exc.error_type, "message": str(exc)}
        message = Message("tool", json.dumps(record["error"]), tool_call_id=call.id,
                          is_error=True)
    record["durationMs"] = int((clock() - started) * 1000)
    return record, message
