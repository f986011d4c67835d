"""Every AWS call the handlers and state machines make locally is one their deployed role
allows: the local cloud records each call (``local.call_recorder``) while representative
flows run through the API, webhooks, EventBridge and the Step Functions interpreter, and
each call is checked against the policies of that function's role in the synthesized
template (``tests.support.iam_policy``). moto enforces no IAM: without this test a missing
grant shows up only as a 500 or a failed execution in AWS.

The roles and the mapping of local names onto the stage's are ``tests.support.iam_audit``'s,
which also checks, as a pytest plugin (``-p tests.support.iam_audit``), whatever flows a
test run exercises.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import requests

from local.call_recorder import STATE_MACHINE, Call, CallRecorder
from tests.support import iam_policy
from tests.support.iam_audit import ENVIRONMENT, deployed_roles

from .conftest import Built

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
KEY = "iam-test-key"


# --------------------------------------------------------------------------- the flows


class Api:
    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.headers["x-api-key"] = KEY

    def __call__(self, method: str, path: str, expect: int | None = None,
                 **kwargs: Any) -> Any:
        response = self.session.request(method, self.url + path, timeout=60, **kwargs)
        if expect is not None:
            assert response.status_code == expect, (method, path, response.text)
        return response.json() if response.content else None

    def deploy(self, document: dict[str, Any]) -> None:
        self("POST", "/workflows", 201, json=document)

    def start(self, workflow: str, user_input: Any = None) -> str:
        return str(self("POST", f"/workflows/{workflow}/executions", 202,
                        json={"input": user_input})["executionId"])

    def finished(self, execution_id: str, seconds: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while True:
            body: dict[str, Any] = self("GET", f"/executions/{execution_id}", 200)
            if body["status"] in ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"):
                return body
            assert time.monotonic() < deadline, f"{execution_id} still {body['status']}"
            time.sleep(0.02)

    def paused(self, execution_id: str, seconds: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while True:
            waits = self("GET", f"/executions/{execution_id}/waits", 200)["items"]
            if paused := [w for w in waits if w["status"] == "waiting"]:
                return dict(paused[0])
            assert time.monotonic() < deadline, f"{execution_id} never paused"
            time.sleep(0.02)


def _load(name: str) -> dict[str, Any]:
    from compiler import load_file

    return dict(load_file(EXAMPLES / name))


def hello(name: str, *extra_nodes: dict[str, Any], **fields: Any) -> dict[str, Any]:
    nodes = [{"name": "Start", "type": "manualTrigger"}, *extra_nodes,
             {"name": "Greet", "type": "code",
              "parameters": {"code": "return [{'hi': i.get('who')} for i in items]"}}]
    names = [node["name"] for node in nodes]
    return {"name": name, "nodes": nodes, **fields,
            "connections": [{"from": a, "to": b}
                            for a, b in zip(names, names[1:], strict=False)]}


def _entered_wait(cloud: Any, workflow: str, execution_id: str) -> bool:
    """Stop it once it waits (moto cannot stop an execution its thread has not begun)."""
    from local.cloud import state_machine_arn

    arn = state_machine_arn(workflow).replace(":stateMachine:", ":execution:")
    history = cloud.history(f"{arn}:{execution_id}")
    return any(event["type"] == "WaitStateEntered" for event in history)


def _until(condition: Any, what: str, seconds: float = 120) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        assert time.monotonic() < deadline, what
        time.sleep(0.02)
    return found


def run_management(api: Api, platform: Any) -> str:
    """Create, list (paged), read, update, run, cancel, (de)activate and delete through
    the API, with a schedule and an event trigger (their schedule and rule), a pin and
    progress events; an event on the default bus starts the workflow through its rule.
    Returns the id of an execution that ran to the end."""
    triggered = hello("triggered")
    triggered["nodes"] += [
        {"name": "Hourly", "type": "scheduleTrigger",
         "parameters": {"expression": "rate(1 hour)"}},
        {"name": "Order placed", "type": "eventTrigger",
         "parameters": {"pattern": {"source": ["shop.orders"]}}}]
    triggered["connections"] += [{"from": "Hourly", "to": "Greet"},
                                 {"from": "Order placed", "to": "Greet"}]
    api.deploy(triggered)
    api.deploy(hello("napper", {"name": "Nap", "type": "wait",
                                "parameters": {"seconds": 3600}}))
    listed = api("GET", "/workflows", 200, params={"limit": 1})
    assert len(listed["items"]) == 1 and listed["cursor"]
    api("GET", "/workflows", 200, params={"limit": 1, "cursor": listed["cursor"]})
    api("GET", "/workflows/triggered", 200)
    api("PUT", "/workflows/triggered", 200, json={**triggered, "description": "v2"})
    api("GET", "/workflows/triggered/versions", 200)

    platform.cloud.events.put_events(Entries=[{
        "Source": "shop.orders", "DetailType": "Order", "Detail": json.dumps({"id": 1})}])
    runs = _until(lambda: api("GET", "/executions", 200,
                              params={"workflowId": "triggered"})["items"],
                  "the event never started the workflow")
    assert api.finished(runs[0]["id"])["status"] == "SUCCEEDED"

    api("PUT", "/workflows/triggered/pins/Greet", 200, json={"items": [{"hi": "pinned"}]})
    started = api("POST", "/workflows/triggered/executions?wait=true", None,
                  json={"input": {"who": "ada"}, "usePins": True})
    execution_id = started["executionId"]
    assert api.finished(execution_id)["status"] == "SUCCEEDED"
    api("GET", f"/executions/{execution_id}/nodes/Greet", 200)
    api("GET", f"/executions/{execution_id}/events", 200)
    api("GET", "/executions", 200, params={"status": "SUCCEEDED"})
    api("GET", "/executions", 200)

    napping = api.start("napper")
    _until(lambda: _entered_wait(platform.cloud, "napper", napping), "no nap")
    api("POST", f"/executions/{napping}/cancel", 200)
    assert api.finished(napping)["status"] == "ABORTED"

    api("POST", "/workflows/triggered/deactivate", 200)
    api("POST", "/workflows/triggered/activate", 200)
    api("DELETE", "/workflows/triggered", 204)
    return str(execution_id)


def run_webhook_last_node(api: Api, url: str) -> None:
    api.deploy({"name": "sync", "nodes": [
        {"name": "Hook", "type": "webhook",
         "parameters": {"path": "sync", "responseMode": "lastNode"}},
        {"name": "Echo", "type": "code",
         "parameters": {"code": "return [{'got': i['body']} for i in items]"}}],
        "connections": [{"from": "Hook", "to": "Echo"}]})
    response = requests.post(url + "/webhook/sync", json={"n": 1}, timeout=60)
    assert response.status_code == 200, response.text
    assert response.json()["items"] == [{"got": {"n": 1}}]


BULKY = {  # outputs past the inline limit travel through S3; Big's result is cached
    "name": "bulky", "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Big", "type": "code", "cache": {"ttlSeconds": 3600},
         "parameters": {"code": "return [{'i': i, 'pad': 'x' * 1000} for i in range(60)]"}},
        {"name": "Count", "type": "code",
         "parameters": {"code": "return [{'n': len(items)}]"}}],
    "connections": [{"from": "Start", "to": "Big"}, {"from": "Big", "to": "Count"}]}


def run_large_cached_and_partial(api: Api) -> None:
    """Large outputs (S3), a cache hit, a partial run from recorded outputs, a retry."""
    api.deploy(BULKY)
    first = api.start("bulky")
    assert api.finished(first)["status"] == "SUCCEEDED"
    assert api.finished(api.start("bulky"))["status"] == "SUCCEEDED"  # Big from the cache
    assert len(api("GET", f"/executions/{first}/nodes/Big", 200)["items"]) == 1
    partial = api("POST", "/workflows/bulky/executions", 202,
                  json={"startNodes": ["Count"], "fromExecution": first})["executionId"]
    assert api.finished(partial)["status"] == "SUCCEEDED"
    retried = api("POST", f"/executions/{first}/replay", None, json={})
    assert api.finished(retried["executionId"])["status"] == "SUCCEEDED"


def run_error_workflow(api: Api) -> None:
    api.deploy({"name": "on-failure", "nodes": [{"name": "Failed", "type": "errorTrigger"},
                                                {"name": "Notify", "type": "noOp"}],
                "connections": [{"from": "Failed", "to": "Notify"}]})
    api.deploy({"name": "fragile", "settings": {"errorWorkflow": "on-failure"},
                "nodes": [{"name": "Start", "type": "manualTrigger"},
                          {"name": "Boom", "type": "code",
                           "parameters": {"code": "raise ValueError('out of paper')"}}],
                "connections": [{"from": "Start", "to": "Boom"}]})
    assert api.finished(api.start("fragile"))["status"] == "FAILED"
    routed = _until(lambda: api("GET", "/executions", 200,
                                params={"workflowId": "on-failure"})["items"],
                    "the error workflow never started")
    assert api.finished(routed[0]["id"])["status"] == "SUCCEEDED"


def run_approval(api: Api) -> None:
    api.deploy(hello("expense", {"name": "Hold", "type": "wait",
                                 "parameters": {"resume": "approval"}}))
    execution_id = api.start("expense", {"who": "ada"})
    wait = api.paused(execution_id)
    api("POST", f"/executions/{execution_id}/approve/{wait['waitId']}", 200,
        json={"approvedBy": "ada"})
    assert api.finished(execution_id)["status"] == "SUCCEEDED"


def run_progress_stream(api: Api, execution_id: str) -> None:
    """Live progress over the WebSocket API: a token from the API, then ``$connect``, the
    table-stream publisher and ``$disconnect`` as API Gateway and Lambda invoke them."""
    from functions.handlers import stream
    from local.call_recorder import running
    from local.moto_patches import InvokeContext
    from tests.functions.handlers.test_stream import route, stream_records
    from tests.functions.services.test_streams import ENDPOINT

    token = api("POST", "/stream-tokens", 201, json={"executionId": execution_id})["token"]
    previous = os.environ.get("SFNFLOW_STREAM_ENDPOINT")
    os.environ["SFNFLOW_STREAM_ENDPOINT"] = ENDPOINT
    stream._service.cache_clear()
    try:
        connections, publisher = "sfnflow-stream-connections", "sfnflow-stream-publisher"
        with running(connections):
            opened = stream.connections_handler(
                route("$connect", "c1", {"token": token, "executionId": execution_id}),
                InvokeContext(connections))
        assert opened["statusCode"] == 200, opened
        records = stream_records()  # what the event source mapping reads for it
        with running(publisher):
            stream.publisher_handler({"Records": records}, InvokeContext(publisher))
        with running(connections):
            stream.connections_handler(route("$disconnect", "c1"), InvokeContext(connections))
    finally:
        if previous is None:
            os.environ.pop("SFNFLOW_STREAM_ENDPOINT", None)
        else:
            os.environ["SFNFLOW_STREAM_ENDPOINT"] = previous
        stream._service.cache_clear()


EXAMPLES_RUN = (  # what each exercises
    "subworkflow-parent.yaml",  # a child execution (startExecution.sync:2)
    "two-of-three-quotes.yaml",  # a quorum Merge (the machine's own UpdateItem)
    "non-series-parallel.yaml",  # rendezvous (task tokens, the quorum table)
)
DISTRIBUTED = {  # distributed-for-each.yaml, smaller: maxConcurrency over 40 distributes it
    "name": "distributed", "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Leads", "type": "code",
         "parameters": {"code": "return [{'lead': i} for i in range(3)]"}},
        {"name": "Each lead", "type": "forEach", "parameters": {"maxConcurrency": 100}},
        {"name": "Score", "type": "code",
         "parameters": {"code": "return [{**i, 'score': 1} for i in items]"}}],
    "connections": [{"from": "Start", "to": "Leads"}, {"from": "Leads", "to": "Each lead"},
                    {"from": "Each lead", "output": "loop", "to": "Score"},
                    {"from": "Score", "to": "Each lead"}]}


def run_examples(api: Api) -> None:
    """Examples (and a small Distributed Map) deployed and started through the API."""
    from local.serve import deployment_order

    documents = [_load("subworkflow-child.yaml"), *(_load(name) for name in EXAMPLES_RUN),
                 DISTRIBUTED]
    for document in deployment_order(documents):
        api.deploy(document)
    for name in (*(_load(name)["name"] for name in EXAMPLES_RUN), DISTRIBUTED["name"]):
        finished = api.finished(api.start(name))
        assert finished["status"] == "SUCCEEDED", (name, finished)


def record_flows() -> list[Call]:
    """Runs the flows on a fresh local platform; every call made, by whom."""
    from local.serve import LocalPlatform
    from tests.conftest import TIME_SCALE

    with CallRecorder() as recorder, \
            LocalPlatform(api_key=KEY, time_scale=TIME_SCALE) as platform:
        api = Api(platform.url)
        streamed = run_management(api, platform)
        run_progress_stream(api, streamed)
        run_webhook_last_node(api, platform.url)
        run_error_workflow(api)
        run_approval(api)
        run_large_cached_and_partial(api)
        run_examples(api)
        platform.cloud.reconcile()  # the scheduled reconciler, as its rule invokes it
    return list(recorder.calls)


# --------------------------------------------------------------------------- the tests


def test_every_call_of_every_flow_is_allowed_by_the_deployed_roles(built: Built) -> None:
    calls = record_flows()
    roles = deployed_roles(built.stack, built.template.to_json())
    principals = {call.principal for call in calls}
    assert {"sfnflow-api", "sfnflow-webhooks", "sfnflow-node-runner",
            "sfnflow-execution-events", "sfnflow-error-router", "sfnflow-reconciler",
            "sfnflow-stream-connections", "sfnflow-stream-publisher", STATE_MACHINE} \
        <= principals
    refused = roles.refused(calls)
    assert not refused, "the deployed roles would refuse:\n" + "\n".join(refused)


# --------------------------------------------------------------------------- the evaluator


def _statements(*raw: dict[str, Any]) -> list[iam_policy.Statement]:
    resolver = iam_policy.Resolver({"Resources": {}}, ENVIRONMENT)
    return [iam_policy.statement(s, resolver) for s in raw]


def test_wildcards_match_as_iam_does() -> None:
    """``*`` any run (also across ``:`` and ``/``), ``?`` exactly one character; actions
    ignore case, resources do not."""
    policy = _statements({"Effect": "Allow", "Action": "dynamodb:Get*",
                          "Resource": "arn:aws:dynamodb:*:*:table/sfnflow-dev-*"},
                         {"Effect": "Allow", "Action": "states:DescribeExecution",
                          "Resource": "arn:aws:states:us-east-1:1:execution:sfnflow-dev-?:*"})
    table = "arn:aws:dynamodb:us-east-1:1:table/sfnflow-dev-executions"
    assert iam_policy.allowed(policy, "DynamoDB:getitem", [table])
    assert iam_policy.allowed(policy, "dynamodb:GetItem", [table + "/index/byStatus"])
    assert not iam_policy.allowed(policy, "dynamodb:Query", [table])
    assert not iam_policy.allowed(policy, "dynamodb:GetItem", [table.upper()])
    assert not iam_policy.allowed(policy, "dynamodb:GetItem", [table.replace("dev", "prod")])
    execution = "arn:aws:states:us-east-1:1:execution:sfnflow-dev-{}:run-1"
    assert iam_policy.allowed(policy, "states:DescribeExecution", [execution.format("a")])
    assert not iam_policy.allowed(policy, "states:DescribeExecution", [execution.format("ab")])


def test_every_resource_must_be_allowed_and_deny_wins() -> None:
    policy = _statements(
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": "arn:aws:s3:::payloads/*"},
        {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::payloads/secret/*"},
        {"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"})
    assert iam_policy.allowed(policy, "s3:GetObject", ["arn:aws:s3:::payloads/a"])
    assert not iam_policy.allowed(policy, "s3:GetObject", ["arn:aws:s3:::payloads/a",
                                                           "arn:aws:s3:::other/b"])
    assert not iam_policy.allowed(policy, "s3:GetObject", ["arn:aws:s3:::payloads/secret/k"])
    assert iam_policy.allowed(policy, "sqs:SendMessage", ["arn:aws:sqs:us-east-1:1:q"])
    assert not iam_policy.allowed(policy, "s3:DeleteObject", ["arn:aws:s3:::payloads/a"])


def test_pass_role_needs_the_service_it_is_passed_to() -> None:
    """``iam:PassedToService`` (StringEquals): a role passable to Step Functions cannot be
    handed to Scheduler, and a request without the key does not match."""
    role = "arn:aws:iam::1:role/machines"
    policy = _statements({"Effect": "Allow", "Action": "iam:PassRole", "Resource": role,
                          "Condition": {"StringEquals": {
                              "iam:PassedToService": "states.amazonaws.com"}}})
    assert iam_policy.allowed(policy, "iam:PassRole", [role],
                              {"iam:PassedToService": "states.amazonaws.com"})
    assert not iam_policy.allowed(policy, "iam:PassRole", [role],
                                  {"iam:PassedToService": "scheduler.amazonaws.com"})
    assert not iam_policy.allowed(policy, "iam:PassRole", [role])


def test_template_tokens_resolve_to_the_local_names() -> None:
    template = {"Resources": {
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "t-runs"}},
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}}}}
    resolver = iam_policy.Resolver(template, ENVIRONMENT, {"Bucket": "payloads"})
    assert resolver.resolve({"Fn::GetAtt": ["Table", "Arn"]}) == \
        "arn:aws:dynamodb:us-east-1:123456789012:table/t-runs"
    assert resolver.resolve({"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/*"]]}) \
        == "arn:aws:s3:::payloads/*"
    assert resolver.resolve({"Fn::Join": [":", ["arn", {"Ref": "AWS::Partition"}, "states",
                                                {"Ref": "AWS::Region"},
                                                {"Ref": "AWS::AccountId"}, "x"]]}) \
        == "arn:aws:states:us-east-1:123456789012:x"
    assert resolver.resolve({"Fn::Sub": "${Table.Arn}/index/*"}) == \
        "arn:aws:dynamodb:us-east-1:123456789012:table/t-runs/index/*"


# --------------------------------------------------------------------------- the recorder


def test_calls_are_attributed_to_the_function_or_machine_making_them(cloud: Any) -> None:
    """pynamodb's and boto3's calls inside a handler belong to its function; the
    interpreter's Task calls (Lambda invoke) to the state machine; the harness's to nobody."""
    from compiler import compile_workflow

    document = hello("attributed")
    with CallRecorder() as recorder:
        execution_id = cloud.start(compile_workflow(document), {"who": "ada"})
        assert cloud.wait(execution_id).status == "SUCCEEDED"
    calls = {(c.principal, c.request.action, c.request.resources[0].split(":", 5)[-1])
             for c in recorder.calls}
    assert (STATE_MACHINE, "lambda:InvokeFunction", "function:sfnflow-node-runner") in calls
    assert ("sfnflow-node-runner", "dynamodb:PutItem", "table/sfnflow-node-runs") in calls
    assert ("sfnflow-execution-events", "states:GetExecutionHistory",
            f"execution:attributed:{execution_id}") in calls
    assert not any(c[1] == "states:StartExecution" for c in calls)  # the harness started it


def test_listing_workflows_queries_the_index_never_scans(cloud: Any) -> None:
    from functions.store.workflows import WorkflowRecord, WorkflowRepository
    from local.call_recorder import running

    workflows = WorkflowRepository()
    for name in ("b", "a", "c"):
        workflows.create(WorkflowRecord(name, 1, True, {"name": name, "big": "x" * 100},
                                        {"triggers": []}, f"arn:{name}", "t0", "t0"))
    with CallRecorder() as recorder, running("sfnflow-api"):
        first = workflows.list(2, None)
        rest = workflows.list(2, first.cursor)
    assert [r.workflow_id for r in first.items + rest.items] == ["a", "b", "c"]
    assert rest.cursor is None and first.items[0].summary()["stateMachineArn"] == "arn:a"
    assert first.items[0].document == {}  # the index projects summaries, not documents
    assert {c.request.action for c in recorder.calls} == {"dynamodb:Query"}
    assert all(c.request.resources[0].endswith("table/sfnflow-workflows/index/byKind")
               for c in recorder.calls)
