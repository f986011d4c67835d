"""The agent examples (examples/ai/) end to end on the embedded cloud, the model being the fake
OpenAI-compatible server on loopback (which also serves the HTTP tool): the state machine
runs the agent on the node runner, the sub-workflow tool runs as a child execution of
subworkflow-child, and the run data keeps the turns and token usage."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from compiler import compile_workflow, load_file
from local.cloud import LocalCloud, state_machine_arn
from tests.conftest import TIME_SCALE
from tests.examples.test_examples import EXAMPLES, run_compiled
from tests.support.asl_validator import assert_valid_asl
from tests.support.fake_model import fake_model, text, tool_calls

AI_EXAMPLES = EXAMPLES / "ai"


def run_example(cloud: LocalCloud, name: str, user_input: Any) -> dict[str, Any]:
    compiled = compile_workflow(load_file(AI_EXAMPLES / name))
    assert_valid_asl(compiled)
    return run_compiled(cloud, compiled, user_input)


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    """One embedded cloud for the module's runs (each run is its own execution)."""
    with LocalCloud(time_scale=TIME_SCALE) as local_cloud:
        local_cloud.deploy(compile_workflow(load_file(EXAMPLES / "subworkflow-child.yaml")))
        yield local_cloud


def weather(body: Any) -> tuple[int, Any]:
    return 200, {"city": body["city"], "sky": "snow", "celsius": -3}


def test_agent_with_an_http_tool_and_a_subworkflow_tool(cloud: LocalCloud) -> None:
    with fake_model(tool_calls(("weather", {"city": "Oslo"}), ("double", {"amount": 21}),
                               usage=(40, 12)),
                    text("Snowing in Oslo; twice 21 is 42.", usage=(90, 11)),
                    routes={"POST /tools/weather": weather}) as server:
        report = run_example(cloud, "agent-tools.yaml", {
            "question": "Weather in Oslo, and twice 21?", "modelUrl": server.base_url,
            "toolsUrl": server.url})
    assert report["status"] == "SUCCEEDED", report["error"]
    assert report["output"]["Answer"] == [{"answer": "Snowing in Oslo; twice 21 is 42.",
                                           "tokens": 153, "modelCalls": 2}]
    (item,) = report["nodes"]["Assistant"]["output"][0]
    assert item["usage"] == {"inputTokens": 130, "outputTokens": 23, "totalTokens": 153,
                             "modelCalls": 2}
    weather_call, double_call = item["turns"][0]["toolResults"]
    assert weather_call["result"] == {"city": "Oslo", "sky": "snow", "celsius": -3}
    assert double_call["result"] == {"amount": 42, "doubledBy": "subworkflow-child"}
    # the model read the child's output as the tool's result
    sent = server.chat_requests[1].body["messages"]
    assert sent[-1] == {"role": "tool", "tool_call_id": "call_1",
                        "content": '{"amount": 42, "doubledBy": "subworkflow-child"}'}
    children = cloud.sfn.list_executions(
        stateMachineArn=state_machine_arn("subworkflow-child"))["executions"]
    mine = [c for c in children if c["name"].startswith(report["executionId"][:32])]
    assert [c["status"] for c in mine] == ["SUCCEEDED"]


def test_structured_answers_route_and_a_bad_one_is_retried(cloud: LocalCloud) -> None:
    with fake_model(text('{"severity": "urgent", "summary": "crash"}'),  # not in the enum
                    text('{"severity": "high", "summary": "App crashes on start"}'),
                    text('{"severity": "low", "summary": "Typo on the about page"}')
                    ) as server:
        report = run_example(cloud, "agent-structured.yaml", {
            "modelUrl": server.base_url,
            "tickets": [{"text": "The app crashes"}, {"text": "A typo"}]})
    assert report["status"] == "SUCCEEDED", report["error"]
    assert report["output"]["Page on-call"] == [{"page": "App crashes on start"}]
    assert report["output"]["Queue"] == [{"queued": "Typo on the about page"}]
    first, second = report["nodes"]["Triage"]["output"][0]
    assert len(first["turns"]) == 2 and "$.severity" in first["turns"][0]["answerProblems"][0]
    assert len(second["turns"]) == 1
    assert len(server.chat_requests) == 3


def test_an_answer_never_valid_fails_the_execution_and_keeps_the_turns(
        cloud: LocalCloud) -> None:
    with fake_model(text("I think it is bad.")) as server:
        report = run_example(cloud, "agent-structured.yaml", {
            "modelUrl": server.base_url, "tickets": [{"text": "The app crashes"}]})
    assert report["status"] == "FAILED"
    assert report["error"]["node"] == "Triage"
    assert report["error"]["type"] == "Sfnflow.AgentAnswerInvalid"
    assert len(server.chat_requests) == 3  # the answer, then answerRetries: 2
    runs = cloud.repository.node_runs(report["executionId"])
    (triage,) = [run for run in runs if run.node == "Triage"]
    assert triage.logs is not None and len(triage.logs) == 4
    assert all("answer invalid" in line for line in triage.logs[:3])
    assert triage.logs[3].startswith("agent model usage: ")
    assert json.loads(triage.logs[3].split(": ", 1)[1])["openai:gpt-4o-mini"][
        "modelCalls"] == 3


def test_the_tool_node_runs_a_subworkflow_per_item_and_checks_its_output(
        cloud: LocalCloud) -> None:
    document = {"name": "tool-double", "nodes": [
        {"name": "Amounts", "type": "manualTrigger"},
        {"name": "Double", "type": "tool", "parameters": {
            "tool": {"name": "double", "workflow": "subworkflow-child",
                     "inputSchema": {"type": "object", "required": ["amount"]},
                     "outputSchema": {"type": "object", "required": ["amount"],
                                      "properties": {"amount": {"type": "number",
                                                                "maximum": 100}}}},
            "input": {"amount": "{% $json.n %}"}}}],
        "connections": [{"from": "Amounts", "to": "Double"}]}
    compiled = compile_workflow(document)
    report = run_compiled(cloud, compiled, [{"n": 1}, {"n": 20}])
    assert report["status"] == "SUCCEEDED", report["error"]
    assert report["output"]["Double"] == [
        {"output": {"amount": 2, "doubledBy": "subworkflow-child"}},
        {"output": {"amount": 40, "doubledBy": "subworkflow-child"}}]
    failed = run_compiled(cloud, compiled, [{"n": 60}])  # 120 breaks the outputSchema
    assert failed["status"] == "FAILED"
    assert failed["error"]["type"] == "Sfnflow.ToolOutputInvalid"
    assert "$.amount: 120 is greater than the maximum of 100" in failed["error"]["message"]



def test_a_workflow_tool_calling_its_own_workflow_stops_at_the_depth_limit(
        cloud: LocalCloud) -> None:
    """Started at depth 8 of 10 (as a sub-workflow would be), the tool's children run at
    9 and 10; the one at 11 is refused by its trigger and the failure comes back up."""
    import time

    arn = cloud.deploy(compile_workflow({"name": "tool-recurse", "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Again", "type": "tool", "parameters": {
            "tool": {"name": "again", "workflow": "tool-recurse", "timeoutSeconds": 60}}}],
        "connections": [{"from": "Start", "to": "Again"}]}))
    envelope = {"items": [{"n": 1}], "mode": "subworkflow", "workflow": "tool-recurse",
                "parent": {"depth": 8, "maxDepth": 10}}
    execution = cloud.sfn.start_execution(stateMachineArn=arn, name="recurse-at-8",
                                          input=json.dumps(envelope))["executionArn"]
    deadline = time.monotonic() + 60
    while (described := cloud.sfn.describe_execution(executionArn=execution))[
            "status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert described["status"] == "FAILED"
    assert described["error"] == "Sfnflow.ToolFailed"
    assert "Sfnflow.SubworkflowDepthExceeded" in described["cause"]
    depths = sorted(json.loads(cloud.sfn.describe_execution(executionArn=child[
        "executionArn"])["input"])["parent"]["depth"] for child in cloud.sfn.list_executions(
        stateMachineArn=arn)["executions"])
    assert depths == [8, 9, 10, 11]


def test_the_agents_credential_reaches_the_model_and_no_record(cloud: LocalCloud) -> None:
    """An openAiApi credential in (moto's) Secrets Manager gives the agent its key and base
    URL; the key is in no DynamoDB item and no S3 object the execution left."""
    import boto3

    from functions import credentials

    key = "sk-agent-e2e-0123456789abcdef"
    with fake_model(text(f"My key? I never saw {key[:6]}.")) as server:
        credentials.reset()
        credentials.store_for(cloud.config).create(
            "openai-e2e", credentials.OpenAiApi(apiKey=key, baseUrl=server.base_url))
        compiled = compile_workflow({
            "name": "agent-credential", "nodes": [
                {"name": "Start", "type": "manualTrigger"},
                {"name": "Ask", "type": "agent", "credentials": {"name": "openai-e2e"},
                 "parameters": {"model": {"model": "gpt-test"}, "prompt": "Hello"}}],
            "connections": [{"from": "Start", "to": "Ask"}]})
        report = run_compiled(cloud, compiled, {})
    assert report["status"] == "SUCCEEDED", report["error"]
    assert server.chat_requests[0].headers["Authorization"] == f"Bearer {key}"
    dynamodb = boto3.client("dynamodb", region_name=cloud.config.region)
    tables = dynamodb.list_tables()["TableNames"]
    stored = [json.dumps(item) for table in tables
              for item in dynamodb.scan(TableName=table)["Items"]]
    assert any(report["executionId"] in text_ for text_ in stored)  # the scan sees the run
    assert not [text_ for text_ in stored if key in text_]
    s3 = boto3.client("s3", region_name=cloud.config.region)
    for bucket in s3.list_buckets()["Buckets"]:
        for obj in s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", []):
            body = s3.get_object(Bucket=bucket["Name"], Key=obj["Key"])["Body"].read()
            assert key.encode() not in body, obj["Key"]
