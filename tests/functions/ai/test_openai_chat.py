"""The OpenAI-compatible client against the fake server on loopback: request shape, auth
header, 429 with Retry-After, 5xx, malformed bodies, refusals."""

from __future__ import annotations

import pytest

from functions.ai.chat import Message, ToolSpec
from functions.ai.errors import ModelRequestRefused, ModelResponseInvalid
from functions.ai.openai_chat import OpenAIChat
from functions.errors import RateLimited
from tests.support.fake_model import (
    Scripted,
    fake_model,
    malformed,
    rate_limited,
    server_error,
    text,
    tool_calls,
)

WEATHER = ToolSpec("weather", "The weather in a city.",
                   {"type": "object", "properties": {"city": {"type": "string"}}})


def client(base_url: str, sleeps: list[float], **kwargs: object) -> OpenAIChat:
    return OpenAIChat(base_url=base_url, model="gpt-test", sleep=sleeps.append,
                      **kwargs)  # type: ignore[arg-type]


def test_sends_messages_tools_and_the_key() -> None:
    with fake_model(tool_calls(("weather", {"city": "Oslo"}), usage=(12, 3))) as server:
        reply = client(server.base_url, [], api_key="sk-test").complete(
            [Message("system", "Be brief."), Message("user", "Weather in Oslo?")], [WEATHER])
    (request,) = server.chat_requests
    assert request.headers["Authorization"] == "Bearer sk-test"
    assert request.body["model"] == "gpt-test"
    assert request.body["messages"] == [{"role": "system", "content": "Be brief."},
                                        {"role": "user", "content": "Weather in Oslo?"}]
    assert request.body["tools"] == [{"type": "function", "function": {
        "name": "weather", "description": "The weather in a city.",
        "parameters": WEATHER.input_schema}}]
    (call,) = reply.message.tool_calls
    assert (call.name, call.arguments) == ("weather", '{"city": "Oslo"}')
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (12, 3)


def test_without_a_key_no_authorization_header_is_sent() -> None:
    with fake_model(text("hi")) as server:
        client(server.base_url, []).complete([Message("user", "hello")], [])
    assert "Authorization" not in server.chat_requests[0].headers
    assert "tools" not in server.chat_requests[0].body


def test_a_429_waits_the_servers_retry_after_then_succeeds() -> None:
    sleeps: list[float] = []
    with fake_model(rate_limited("2"), text("done")) as server:
        reply = client(server.base_url, sleeps).complete([Message("user", "x")], [])
    assert reply.message.content == "done"
    assert sleeps == [2.0] and reply.rate_limit_waits == (2.0,)
    assert len(server.chat_requests) == 2


def test_429s_past_the_retries_are_rate_limited() -> None:
    sleeps: list[float] = []
    with fake_model(rate_limited("1")) as server, pytest.raises(RateLimited) as caught:
        client(server.base_url, sleeps, retries=2).complete([Message("user", "x")], [])
    assert caught.value.error_type == "Sfnflow.RateLimited"
    assert sleeps == [1.0, 1.0] and len(server.chat_requests) == 3


def test_a_retry_after_beyond_the_nodes_time_is_not_slept() -> None:
    sleeps: list[float] = []
    with fake_model(rate_limited("30")) as server, \
            pytest.raises(RateLimited, match="not waiting 30s"):
        client(server.base_url, sleeps, seconds_left=lambda: 10.0).complete(
            [Message("user", "x")], [])
    assert sleeps == [] and len(server.chat_requests) == 1


def test_a_server_error_is_retried_with_backoff() -> None:
    sleeps: list[float] = []
    with fake_model(server_error(), text("ok")) as server:
        reply = client(server.base_url, sleeps).complete([Message("user", "x")], [])
    assert reply.message.content == "ok" and sleeps == [0.5]


def test_a_malformed_body_is_retried_then_a_typed_error() -> None:
    sleeps: list[float] = []
    with fake_model(malformed()) as server, \
            pytest.raises(ModelResponseInvalid, match="not JSON") as caught:
        client(server.base_url, sleeps, retries=1).complete([Message("user", "x")], [])
    assert caught.value.retryable and caught.value.error_type == "Sfnflow.ModelResponseInvalid"
    assert len(server.chat_requests) == 2


def test_json_that_is_no_completion_is_invalid() -> None:
    with fake_model(Scripted(200, b'{"object": "list"}')) as server, \
            pytest.raises(ModelResponseInvalid, match="not a chat completion"):
        client(server.base_url, [], retries=0).complete([Message("user", "x")], [])


def test_a_4xx_is_refused_at_once() -> None:
    with fake_model(Scripted(404, b'{"error": "model not found"}')) as server, \
            pytest.raises(ModelRequestRefused, match="404: .*model not found") as caught:
        client(server.base_url, []).complete([Message("user", "x")], [])
    assert not caught.value.retryable and len(server.chat_requests) == 1


def test_no_call_is_made_without_time_left() -> None:
    from functions.errors import NodeTimeout

    with fake_model(text("late")) as server, pytest.raises(NodeTimeout, match="no time left"):
        client(server.base_url, [], seconds_left=lambda: 0.0).complete(
            [Message("user", "x")], [])
    assert server.chat_requests == []


def test_an_unreachable_server_is_named_after_the_retries() -> None:
    import socket

    from functions.errors import ConnectionFailed

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []
    url = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(ConnectionFailed, match=f"{url}/chat/completions failed to connect"):
        client(url, sleeps, retries=2).complete([Message("user", "x")], [])
    assert sleeps == [0.5, 1.0]
