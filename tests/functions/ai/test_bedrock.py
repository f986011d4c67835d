"""Bedrock Converse mapping, checked with botocore's Stubber (moto has no bedrock-runtime:
no Converse to run against). The Stubber validates every request against the service's
own model, so a wrong shape fails here as it would in AWS."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber

from functions.ai.bedrock import BedrockChat
from functions.ai.chat import Message, ToolCall, ToolSpec
from functions.ai.errors import ModelRequestRefused
from functions.errors import RateLimited

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
WEATHER = ToolSpec("weather", "The weather in a city.",
                   {"type": "object", "properties": {"city": {"type": "string"}}})


@pytest.fixture
def stubbed() -> Iterator[tuple[object, Stubber]]:
    client = boto3.client("bedrock-runtime", region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _response(content: list[dict[str, object]], stop: str) -> dict[str, object]:
    return {"output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop, "usage": {"inputTokens": 21, "outputTokens": 7,
                                          "totalTokens": 28},
            "metrics": {"latencyMs": 100}}


def test_a_tool_turn_maps_both_ways(stubbed: tuple[object, Stubber]) -> None:
    client, stubber = stubbed
    conversation = [
        Message("system", "Be brief."),
        Message("user", "Weather in Oslo and Rome?"),
        Message("assistant", "Looking.", tool_calls=(
            ToolCall("t1", "weather", '{"city": "Oslo"}'),
            ToolCall("t2", "weather", '{"city": "Rome"}'))),
        Message("tool", '{"sky": "snow"}', tool_call_id="t1"),
        Message("tool", "no such city", tool_call_id="t2", is_error=True),
    ]
    stubber.add_response("converse", _response(
        [{"toolUse": {"toolUseId": "t3", "name": "weather", "input": {"city": "Roma"}}}],
        "tool_use"), {
        "modelId": MODEL,
        "system": [{"text": "Be brief."}],
        "messages": [
            {"role": "user", "content": [{"text": "Weather in Oslo and Rome?"}]},
            {"role": "assistant", "content": [
                {"text": "Looking."},
                {"toolUse": {"toolUseId": "t1", "name": "weather", "input": {"city": "Oslo"}}},
                {"toolUse": {"toolUseId": "t2", "name": "weather", "input": {"city": "Rome"}}},
            ]},
            {"role": "user", "content": [
                {"toolResult": {"toolUseId": "t1", "content": [{"json": {"sky": "snow"}}],
                                "status": "success"}},
                {"toolResult": {"toolUseId": "t2", "content": [{"text": "no such city"}],
                                "status": "error"}},
            ]},
        ],
        "toolConfig": {"tools": [{"toolSpec": {
            "name": "weather", "description": "The weather in a city.",
            "inputSchema": {"json": WEATHER.input_schema}}}]},
        "inferenceConfig": {"maxTokens": 256},
    })
    reply = BedrockChat(client, model=MODEL, max_tokens=256).complete(conversation, [WEATHER])
    (call,) = reply.message.tool_calls
    assert (call.id, call.name, call.arguments) == ("t3", "weather", '{"city": "Roma"}')
    assert reply.stop_reason == "tool_use"
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (21, 7)


def test_text_answer(stubbed: tuple[object, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_response("converse", _response([{"text": "Snow."}], "end_turn"),
                         {"modelId": MODEL, "messages": [
                             {"role": "user", "content": [{"text": "Oslo?"}]}]})
    reply = BedrockChat(client, model=MODEL).complete([Message("user", "Oslo?")], [])
    assert reply.message.content == "Snow." and not reply.message.tool_calls


def test_throttling_is_retried_then_rate_limited(stubbed: tuple[object, Stubber]) -> None:
    client, stubber = stubbed
    for _ in range(2):
        stubber.add_client_error("converse", "ThrottlingException", "slow down", 429)
    sleeps: list[float] = []
    with pytest.raises(RateLimited, match="ThrottlingException"):
        BedrockChat(client, model=MODEL, retries=1, sleep=sleeps.append).complete(
            [Message("user", "x")], [])
    assert sleeps == [0.5]


def test_validation_errors_are_refused(stubbed: tuple[object, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_client_error("converse", "ValidationException", "bad model id", 400)
    with pytest.raises(ModelRequestRefused, match="bad model id"):
        BedrockChat(client, model=MODEL).complete([Message("user", "x")], [])


def test_an_empty_answer_sent_back_is_no_empty_message(stubbed: tuple[object, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_response("converse", _response([{"text": "{}"}], "end_turn"), {
        "modelId": MODEL, "messages": [
            {"role": "user", "content": [{"text": "JSON please"}]},
            {"role": "assistant", "content": [{"text": "(empty)"}]},
            {"role": "user", "content": [{"text": "$: not JSON"}]}]})
    BedrockChat(client, model=MODEL).complete(
        [Message("user", "JSON please"), Message("assistant", ""),
         Message("user", "$: not JSON")], [])
