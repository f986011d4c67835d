"""Amazon Bedrock's Converse API (``bedrock-runtime`` ``converse``) as a ``ChatModel``.

The mapping: system messages become ``system`` text blocks; the assistant's tool calls are
``toolUse`` blocks (their input a JSON object, not text); consecutive tool results become
one ``user`` message of ``toolResult`` blocks (Converse wants the results of one turn's
calls together, in the next user message), ``status: error`` for a failed call; tools are
``toolConfig.tools[].toolSpec`` with ``inputSchema.json``. Token usage is ``usage``
(``inputTokens``, ``outputTokens``).

Errors: ``ThrottlingException`` is ``Sfnflow.RateLimited`` (retried here, then by the
state); ``ModelTimeoutException`` ``Sfnflow.Timeout``; ``ServiceUnavailableException``,
``InternalServerException`` and ``ModelNotReadyException`` ``Sfnflow.HttpServerError``;
validation, access and not-found errors ``Sfnflow.ModelRequestRefused``.

moto has no ``bedrock-runtime`` (no Converse): the mapping is tested with botocore's
Stubber, which checks each request against the service's own model.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import ClientError

from functions.ai.chat import Message, Reply, ToolCall, ToolSpec, Usage
from functions.ai.errors import ModelRequestRefused
from functions.ai.retries import with_retries
from functions.errors import HttpServerError, NodeError, NodeTimeout, RateLimited

ERRORS: dict[str, type[NodeError]] = {
    "ThrottlingException": RateLimited,
    "ModelTimeoutException": NodeTimeout,
    "ServiceUnavailableException": HttpServerError,
    "InternalServerException": HttpServerError,
    "ModelNotReadyException": HttpServerError,
}


def _tool_input(arguments: str) -> Any:
    """Converse wants the tool's input as an object: a model's non-JSON arguments (only
    ever replayed from the conversation) travel wrapped."""
    try:
        value = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        return {"arguments": arguments}
    return value if isinstance(value, dict) else {"value": value}


def _result_block(message: Message) -> dict[str, Any]:
    try:
        value = json.loads(message.content)
        content = [{"json": value if isinstance(value, dict) else {"value": value}}]
    except ValueError:
        content = [{"text": message.content or "(empty)"}]
    return {"toolResult": {"toolUseId": message.tool_call_id, "content": content,
                           "status": "error" if message.is_error else "success"}}


def converse_messages(messages: Sequence[Message]) -> tuple[list[dict[str, Any]],
                                                             list[dict[str, Any]]]:
    """(system blocks, messages) in Converse's shape."""
    system: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            system.append({"text": message.content})
        elif message.role == "tool":
            block = _result_block(message)
            if out and out[-1]["role"] == "user" and "toolResult" in out[-1]["content"][0]:
                out[-1]["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
        elif message.role == "assistant":
            content: list[dict[str, Any]] = [{"text": message.content}] if message.content \
                else []
            content += [{"toolUse": {"toolUseId": call.id, "name": call.name,
                                     "input": _tool_input(call.arguments)}}
                        for call in message.tool_calls]
            # Converse refuses an empty or blank message: an empty answer sent back with
            # what was wrong with it travels as a placeholder
            out.append({"role": "assistant", "content": content or [{"text": "(empty)"}]})
        else:
            out.append({"role": "user", "content": [{"text": message.content}]})
    return system, out


def tool_config(tools: Sequence[ToolSpec]) -> dict[str, Any]:
    return {"tools": [{"toolSpec": {"name": tool.name,
                                    "description": tool.description or tool.name,
                                    "inputSchema": {"json": tool.input_schema}}}
                      for tool in tools]}


def parse_response(response: dict[str, Any]) -> Reply:
    blocks = response["output"]["message"]["content"]
    text = "".join(block["text"] for block in blocks if "text" in block)
    calls = tuple(ToolCall(block["toolUse"]["toolUseId"], block["toolUse"]["name"],
                           json.dumps(block["toolUse"].get("input", {})))
                  for block in blocks if "toolUse" in block)
    usage = response.get("usage") or {}
    return Reply(Message("assistant", text, tool_calls=calls),
                 Usage(int(usage.get("inputTokens", 0)), int(usage.get("outputTokens", 0))),
                 str(response.get("stopReason", "")))


class BedrockChat:
    """``ChatModel`` over ``client`` (a ``bedrock-runtime`` client, passed in)."""

    def __init__(self, client: Any, *, model: str, temperature: float | None = None,
                 max_tokens: int | None = None, retries: int = 3,
                 sleep: Callable[[float], None] = time.sleep,
                 seconds_left: Callable[[], float | None] = lambda: None) -> None:
        self.client = client
        self.model = model
        self._inference = {key: value for key, value in
                           (("temperature", temperature), ("maxTokens", max_tokens))
                           if value is not None}
        self._retries, self._sleep, self._seconds_left = retries, sleep, seconds_left

    @property
    def name(self) -> str:
        return f"bedrock:{self.model}"

    def request(self, messages: Sequence[Message],
                tools: Sequence[ToolSpec]) -> dict[str, Any]:
        system, converse = converse_messages(messages)
        request: dict[str, Any] = {"modelId": self.model, "messages": converse}
        if system:
            request["system"] = system
        if tools:
            request["toolConfig"] = tool_config(tools)
        if self._inference:
            request["inferenceConfig"] = dict(self._inference)
        return request

    def complete(self, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> Reply:
        request = self.request(messages, tools)
        reply, waits = with_retries(lambda: self._call(request), retries=self._retries,
                                    sleep=self._sleep, seconds_left=self._seconds_left)
        return Reply(reply.message, reply.usage, reply.stop_reason, waits)

    def _call(self, request: dict[str, Any]) -> Reply:
        try:
            return parse_response(self.client.converse(**request))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            message = exc.response.get("Error", {}).get("Message", "")
            error_class = ERRORS.get(code, ModelRequestRefused)
            raise error_class(f"Bedrock model {self.model!r}: {code}: {message}") from exc
