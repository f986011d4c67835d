"""The agent node against the fake model server on loopback: tool turns (an HTTP tool on
loopback), bad tool arguments and bad answers sent back, structured answers validated,
rate limits, the run record (turns, usage) and the logs a failed run keeps."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.ai.errors import AgentAnswerInvalid, AgentTurnsExhausted
from functions.errors import RateLimited
from functions.nodes import get_executor
from tests.support.fake_model import FakeModel, fake_model, rate_limited, text, tool_calls

from .support import context, run

CITY = {"type": "object", "properties": {"city": {"type": "string", "minLength": 2}},
        "required": ["city"], "additionalProperties": False}
ANSWER = {"type": "object", "properties": {"sky": {"enum": ["sun", "rain", "snow"]},
                                           "celsius": {"type": "number"}},
          "required": ["sky", "celsius"]}


def weather(body: Any) -> tuple[int, Any]:
    return 200, {"city": body["city"], "sky": "snow", "celsius": -3}


def params(server: FakeModel, **extra: Any) -> dict[str, Any]:
    return {"model": {"model": "gpt-test", "baseUrl": server.base_url},
            "systemPrompt": "You report the weather.",
            "prompt": "{% 'Weather in ' & $json.city & '?' %}",
            "tools": [{"name": "weather", "description": "Current weather of a city.",
                       "http": {"url": server.url + "/tools/weather"}, "inputSchema": CITY}],
            **extra}


def agent(server: FakeModel, items: list[dict[str, Any]], **extra: Any) -> list[Any]:
    sleeps: list[float] = []
    [out] = run("agent", params(server, **extra), items, extras={"sleep": sleeps.append})
    return out


def test_two_turns_with_an_http_tool() -> None:
    with fake_model(tool_calls(("weather", {"city": "Oslo"}), usage=(30, 8)),
                    text("Snowing, -3 C.", usage=(50, 6)),
                    routes={"POST /tools/weather": weather}) as server:
        [item] = agent(server, [{"city": "Oslo"}])
    assert item["output"] == "Snowing, -3 C."
    assert item["usage"] == {"inputTokens": 80, "outputTokens": 14, "totalTokens": 94,
                             "modelCalls": 2}
    first, second = item["turns"]
    assert first["reply"]["toolCalls"] == [
        {"id": "call_0", "name": "weather", "arguments": '{"city": "Oslo"}'}]
    (result,) = first["toolResults"]
    assert result["input"] == {"city": "Oslo"}
    assert result["result"] == {"city": "Oslo", "sky": "snow", "celsius": -3}
    assert first["usage"]["totalTokens"] == 38 and second["usage"]["totalTokens"] == 56
    assert all(isinstance(turn["durationMs"], int) for turn in item["turns"])
    assert item["messages"] == [{"role": "system", "content": "You report the weather."},
                                {"role": "user", "content": "Weather in Oslo?"}]
    # what the model saw at its second turn: its call, then the tool's result
    sent = server.chat_requests[1].body["messages"]
    assert sent[2]["tool_calls"][0]["function"]["name"] == "weather"
    assert sent[3] == {"role": "tool", "tool_call_id": "call_0",
                       "content": '{"city": "Oslo", "sky": "snow", "celsius": -3}'}
    assert server.chat_requests[0].body["tools"][0]["function"]["parameters"] == CITY


def test_malformed_arguments_and_bad_input_go_back_to_the_model() -> None:
    with fake_model(tool_calls(("weather", '{"city": "Os')),  # cut-off JSON
                    tool_calls(("weather", {"city": "O"})),  # breaks minLength
                    tool_calls(("weather", {"city": "Oslo"})),
                    text("Snow."), routes={"POST /tools/weather": weather}) as server:
        [item] = agent(server, [{"city": "Oslo"}])
    assert item["output"] == "Snow."
    errors = [turn["toolResults"][0].get("error") for turn in item["turns"][:3]]
    assert errors[0]["type"] == "Sfnflow.ToolInputInvalid" and "not JSON" in errors[0]["message"]
    assert errors[1]["type"] == "Sfnflow.ToolInputInvalid" and "$.city" in errors[1]["message"]
    assert errors[2] is None
    sent = server.chat_requests[1].body["messages"][-1]
    assert sent["role"] == "tool" and "not JSON" in sent["content"]
    tool_hits = [r for r in server.requests if r.path == "/tools/weather"]
    assert len(tool_hits) == 1  # invalid input never reached the tool


def test_a_structured_answer_is_parsed_and_validated() -> None:
    with fake_model(text('```json\n{"sky": "snow", "celsius": -3}\n```')) as server:
        [item] = agent(server, [{"city": "Oslo"}], tools=[], answerSchema=ANSWER)
    assert item["output"] == {"sky": "snow", "celsius": -3}
    system = server.chat_requests[0].body["messages"][0]["content"]
    assert system.startswith("You report the weather.") and '"celsius"' in system


def test_a_bad_answer_is_sent_back_with_the_validation_error() -> None:
    with fake_model(text('{"sky": "fog", "celsius": -3}'), text("not json at all"),
                    text('{"sky": "snow", "celsius": -3}')) as server:
        [item] = agent(server, [{"city": "Oslo"}], tools=[], answerSchema=ANSWER)
    assert item["output"] == {"sky": "snow", "celsius": -3}
    problems = [turn.get("answerProblems") for turn in item["turns"]]
    assert "$.sky" in problems[0][0] and "not JSON" in problems[1][0] and problems[2] is None
    feedback = server.chat_requests[1].body["messages"][-1]
    assert feedback["role"] == "user" and "$.sky" in feedback["content"]


def test_an_answer_still_bad_after_the_retries_is_a_typed_error_and_logs_keep_the_turns(
) -> None:
    with fake_model(text('{"sky": "fog"}')) as server:
        ctx = context("agent", params(server, tools=[], answerSchema=ANSWER, answerRetries=1),
                      [{"city": "Oslo"}], extras={"sleep": lambda _s: None})
        with pytest.raises(AgentAnswerInvalid, match="after 2 attempt") as caught:
            get_executor("agent").run([[{"city": "Oslo"}]], ctx)
    assert caught.value.error_type == "Sfnflow.AgentAnswerInvalid" and not caught.value.retryable
    assert len(server.chat_requests) == 2
    *turns, usage = ctx.extras["logs"]
    assert [line.split(" (")[0] for line in turns] == ["agent item 0 turn 1",
                                                       "agent item 0 turn 2"]
    assert "answer invalid" in turns[1]
    # the failed conversation's tokens are counted: they were paid for
    expected = {"openai:gpt-test": {"inputTokens": 20, "outputTokens": 10,
                                    "totalTokens": 30, "modelCalls": 2}}
    assert ctx.extras["modelUsage"] == expected
    assert json.loads(usage.removeprefix("agent model usage: ")) == expected


def test_a_model_still_calling_tools_at_its_last_turn() -> None:
    with fake_model(tool_calls(("weather", {"city": "Oslo"})),
                    routes={"POST /tools/weather": weather}) as server, \
            pytest.raises(AgentTurnsExhausted, match="maxTurns 2"):
        agent(server, [{"city": "Oslo"}], maxTurns=2)
    assert len([r for r in server.requests if r.path == "/tools/weather"]) == 1


def test_a_rate_limit_then_success_is_recorded_on_the_turn() -> None:
    with fake_model(rate_limited("1"), text("Snow.")) as server:
        [item] = agent(server, [{"city": "Oslo"}], tools=[])
    assert item["output"] == "Snow." and item["turns"][0]["rateLimitWaits"] == [1.0]


def test_rate_limited_every_time() -> None:
    with fake_model(rate_limited("1")) as server, pytest.raises(RateLimited):
        agent(server, [{"city": "Oslo"}], tools=[],
              model={"model": "m", "baseUrl": server.base_url, "maxRateLimitRetries": 1})
    assert len(server.chat_requests) == 2


def test_one_conversation_per_item_and_the_usage_of_all() -> None:
    with fake_model(text("A.", usage=(7, 1)), text("B.", usage=(9, 2))) as server:
        ctx = context("agent", params(server, tools=[]), [{"city": "Oslo"}, {"city": "Rome"}])
        [out] = get_executor("agent").run([[{"city": "Oslo"}, {"city": "Rome"}]], ctx)
    assert ctx.extras["modelUsage"] == {"openai:gpt-test": {
        "inputTokens": 16, "outputTokens": 3, "totalTokens": 19, "modelCalls": 2}}
    assert [item["output"] for item in out] == ["A.", "B."]
    assert [r.body["messages"][-1]["content"] for r in server.chat_requests] == [
        "Weather in Oslo?", "Weather in Rome?"]


def test_the_openai_credential_gives_the_key_and_base_url() -> None:
    from moto import mock_aws

    from functions import credentials
    from functions.config import Config

    with fake_model(text("Snow.")) as server, mock_aws():
        credentials.reset()
        credentials.store_for(Config.from_env()).create(
            "openai", credentials.OpenAiApi(apiKey="sk-agent-secret", baseUrl=server.base_url))
        try:
            [[item]] = run("agent", {"model": {"model": "gpt-test"}, "prompt": "Oslo?"},
                           [{}], extras={"credentials": {"name": "openai"}})
        finally:
            credentials.reset()
    assert item["output"] == "Snow."
    assert server.chat_requests[0].headers["Authorization"] == "Bearer sk-agent-secret"
    assert "sk-agent-secret" not in str(item)


def test_an_openai_model_needs_a_base_url_or_a_credential() -> None:
    from functions.errors import ParameterError

    with pytest.raises(ParameterError, match="baseUrl` or an openAiApi credential"):
        run("agent", {"model": {"model": "gpt-test"}, "prompt": "Oslo?"}, [{}])


def test_a_bedrock_model_with_an_http_tool() -> None:
    import boto3
    from botocore.stub import ANY, Stubber

    client = boto3.client("bedrock-runtime", region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="x")
    usage = {"inputTokens": 11, "outputTokens": 4, "totalTokens": 15}
    with fake_model(routes={"POST /tools/weather": weather}) as server, \
            Stubber(client) as stubber:
        stubber.add_response("converse", {
            "output": {"message": {"role": "assistant", "content": [{"toolUse": {
                "toolUseId": "t1", "name": "weather", "input": {"city": "Oslo"}}}]}},
            "stopReason": "tool_use", "usage": usage, "metrics": {"latencyMs": 1}},
            {"modelId": "amazon.nova-lite-v1:0", "system": ANY, "messages": ANY,
             "toolConfig": ANY})
        stubber.add_response("converse", {
            "output": {"message": {"role": "assistant", "content": [{"text": "Snow."}]}},
            "stopReason": "end_turn", "usage": usage, "metrics": {"latencyMs": 1}},
            {"modelId": "amazon.nova-lite-v1:0", "system": ANY, "toolConfig": ANY,
             "messages": [ANY, ANY, {"role": "user", "content": [{"toolResult": {
                 "toolUseId": "t1", "status": "success", "content": [{"json": {
                     "city": "Oslo", "sky": "snow", "celsius": -3}}]}}]}]})
        [[item]] = run("agent", params(server, model={"provider": "bedrock",
                                                      "model": "amazon.nova-lite-v1:0"}),
                       [{"city": "Oslo"}], extras={"bedrock": client})
        stubber.assert_no_pending_responses()
    assert item["output"] == "Snow." and item["model"] == "bedrock:amazon.nova-lite-v1:0"
    assert item["usage"]["totalTokens"] == 30


def test_the_node_runner_loads_the_ai_package_only_when_an_agent_or_tool_runs() -> None:
    """Checked on the modules' source (no interpreter started): the node modules import
    ``functions.ai`` (and through it jsonschema) inside their functions only."""
    import ast
    from pathlib import Path

    import functions.nodes.agent as agent_module
    import functions.nodes.tool as tool_module

    for module in (agent_module, tool_module):
        tree = ast.parse(Path(str(module.__file__)).read_text())
        imported = [node.module or "" for node in tree.body
                    if isinstance(node, ast.ImportFrom)] + \
                   [alias.name for node in tree.body if isinstance(node, ast.Import)
                    for alias in node.names]
        assert not [name for name in imported
                    if name.startswith(("functions.ai", "jsonschema"))], module.__name__
