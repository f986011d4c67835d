"""OpenAI-compatible Chat Completions (``POST {baseUrl}/chat/completions``) over ``requests``.

Why not the official ``openai`` SDK: we call one endpoint with one request shape, and every
OpenAI-compatible server (OpenAI, Azure's v1 path, vLLM, Ollama, LiteLLM, the test suite's
fake) speaks it. The SDK would add httpx, anyio, jiter, distro and its own modules to the
node runner's bundle (several MB) and its import to every cold start of the runner, for
typed responses we immediately map to ``functions.ai.chat`` anyway; and it retries 429s
with its own policy, which we would have to switch off to keep ours (``retries``: bounded by
the node's time, typed errors Step Functions can route). ``requests`` is already loaded by
the runner (``httpRequest``) and gives us the status and headers as they are.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import requests

from functions.ai.chat import Message, Reply, ToolCall, ToolSpec, Usage
from functions.ai.errors import ModelRequestRefused, ModelResponseInvalid
from functions.ai.retries import retry_after, with_retries
from functions.errors import HttpClientError, NodeTimeout, RateLimited
from functions.http import send, status_error

EXCERPT_CHARS = 300


def wire_message(message: Message) -> dict[str, Any]:
    """One message in Chat Completions' shape."""
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id,
                "content": message.content}
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["content"] = message.content or None
        out["tool_calls"] = [
            {"id": call.id, "type": "function",
             "function": {"name": call.name, "arguments": call.arguments}}
            for call in message.tool_calls]
    return out


def wire_tool(tool: ToolSpec) -> dict[str, Any]:
    return {"type": "function", "function": {"name": tool.name,
                                             "description": tool.description,
                                             "parameters": tool.input_schema}}


def parse_reply(body: Any) -> Reply:
    """A Chat Completions response body as a ``Reply``; anything else is
    ``ModelResponseInvalid`` naming what was missing."""
    try:
        choice = body["choices"][0]
        message = choice["message"]
        calls = tuple(
            ToolCall(id=str(call.get("id") or f"call_{index}"),
                     name=str(call["function"]["name"]),
                     arguments=_arguments_text(call["function"].get("arguments")))
            for index, call in enumerate(message.get("tool_calls") or []))
        usage = body.get("usage") or {}
        return Reply(
            message=Message("assistant", message.get("content") or "", tool_calls=calls),
            usage=Usage(int(usage.get("prompt_tokens") or 0),
                        int(usage.get("completion_tokens") or 0)),
            stop_reason=str(choice.get("finish_reason") or ""))
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        raise ModelResponseInvalid(
            f"not a chat completion ({type(exc).__name__}: {exc}): "
            f"{json.dumps(body)[:EXCERPT_CHARS]}") from None


def _arguments_text(arguments: Any) -> str:
    """Arguments are a JSON string by the spec; some servers send the object itself."""
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


class OpenAIChat:
    """``ChatModel`` over an OpenAI-compatible server. ``session``/``sleep``/``seconds_left``
    are the runner's (tests pass their own: no real sleeps)."""

    def __init__(self, *, base_url: str, model: str, api_key: str | None = None,
                 session: requests.Session | None = None, timeout: float = 60.0,
                 temperature: float | None = None, max_tokens: int | None = None,
                 retries: int = 3, sleep: Callable[[float], None] = time.sleep,
                 seconds_left: Callable[[], float | None] = lambda: None) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._session = session or requests.Session()
        self._timeout = timeout
        self._options = {key: value for key, value in
                         (("temperature", temperature), ("max_tokens", max_tokens))
                         if value is not None}
        self._retries, self._sleep, self._seconds_left = retries, sleep, seconds_left

    @property
    def name(self) -> str:
        return f"openai:{self.model}"

    def request_body(self, messages: Sequence[Message],
                     tools: Sequence[ToolSpec]) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model,
                                "messages": [wire_message(m) for m in messages],
                                **self._options}
        if tools:
            body["tools"] = [wire_tool(tool) for tool in tools]
        return body

    def complete(self, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> Reply:
        body = self.request_body(messages, tools)
        reply, waits = with_retries(lambda: self._call(body), retries=self._retries,
                                    sleep=self._sleep, seconds_left=self._seconds_left)
        return Reply(reply.message, reply.usage, reply.stop_reason, waits)

    def _call(self, body: dict[str, Any]) -> Reply:
        left = self._seconds_left()
        if left is not None and left <= 0:
            raise NodeTimeout(f"model {self.model!r}: no time left for another call")
        timeout = self._timeout if left is None else min(self._timeout, left)
        response = send(self._session, "POST", self.url, timeout=timeout,
                        headers=self._headers, json=body)
        if response.status_code >= 400:
            excerpt = response.text[:EXCERPT_CHARS]
            error_class = status_error(response.status_code)
            if error_class is HttpClientError:
                error_class = ModelRequestRefused
            error = error_class(f"model {self.model!r} at {self.url} answered "
                                f"{response.status_code}: {excerpt}")
            if isinstance(error, RateLimited):
                error.retry_after = retry_after(  # read by with_retries
                    {k.lower(): v for k, v in response.headers.items()})
            raise error
        try:
            parsed = response.json()
        except ValueError:
            raise ModelResponseInvalid(
                f"model {self.model!r} at {self.url} answered {response.status_code} with a "
                f"body that is not JSON: {response.text[:EXCERPT_CHARS]!r}") from None
        return parse_reply(parsed)
