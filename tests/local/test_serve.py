"""The REST API and webhooks over real HTTP on loopback, against ``sfnflow serve``'s
platform (the embedded cloud, with the status-change and schedule threads running)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from functions.services.webhooks import signature
from local.serve import LocalPlatform, deployment_order
from tests.conftest import TIME_SCALE, HttpApi
from tests.support.api_client import ApiClient

KEY = "test-key"


class Client(ApiClient):
    key = KEY

    def wait_status(self, execution_id: str, *statuses: str, seconds: float = 20,
                    runs_of: tuple[str, ...] = ()) -> dict[str, Any]:
        """Poll until the execution has one of ``statuses`` and a run of every node in
        ``runs_of``: the final status is recorded before native nodes' runs, which are read
        from the history after it (``ExecutionService.on_status_change``)."""
        deadline = time.monotonic() + seconds
        while True:
            body: dict[str, Any] = self("GET", f"/executions/{execution_id}").json()
            recorded = {run["node"] for run in body.get("nodeRuns", [])}
            done = body["status"] in statuses and set(runs_of) <= recorded
            if done or time.monotonic() > deadline:
                return body
            time.sleep(0.05)


@pytest.fixture
def platform() -> Iterator[LocalPlatform]:
    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE) as local_platform:
        yield local_platform


@pytest.fixture
def api(platform: LocalPlatform) -> Client:
    return Client(platform.url)


def hello(name: str = "hello", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "nodes": [
            {"name": "Start", "type": "manualTrigger"},
            {"name": "Greet", "type": "code",
             "parameters": {"code": "return [{'greeting': 'hi ' + str(i.get('who'))} "
                                    "for i in items]"}},
        ],
        "connections": [{"from": "Start", "to": "Greet"}],
        **extra,
    }


# ------------------------------------------------------------------ auth, OpenAPI, errors


def test_management_routes_need_the_api_key(platform: LocalPlatform) -> None:
    missing = requests.get(platform.url + "/workflows", timeout=10)
    wrong = requests.get(platform.url + "/workflows", headers={"x-api-key": "nope"},
                         timeout=10)
    assert missing.status_code == 401 and missing.json()["error"]["type"] == "Unauthorized"
    assert wrong.status_code == 403 and wrong.json()["error"]["type"] == "Forbidden"


def test_openapi_document_lists_the_routes(api: Client) -> None:
    document = api("GET", "/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert {"/workflows", "/workflows/{workflow_id}/executions", "/executions",
            "/executions/{execution_id}/retry"} <= set(document["paths"])


def test_unknown_route_is_a_json_404(api: Client) -> None:
    response = api("GET", "/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "RouteNotFound"


# ------------------------------------------------------------------ workflows


def test_workflow_lifecycle(api: Client) -> None:
    created = api("POST", "/workflows", json=hello())
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1 and created.json()["active"] is True
    assert api("POST", "/workflows", json=hello()).status_code == 409

    assert [w["id"] for w in api("GET", "/workflows").json()["items"]] == ["hello"]
    changed = hello(description="second")
    updated = api("PUT", "/workflows/hello", json=changed)
    assert updated.status_code == 200 and updated.json()["version"] == 2
    versions = api("GET", "/workflows/hello/versions").json()["items"]
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["document"]["description"] == "second"

    assert api("POST", "/workflows/hello/deactivate").json()["active"] is False
    assert api("POST", "/workflows/hello/activate").json()["active"] is True
    assert api("DELETE", "/workflows/hello").status_code == 204
    gone = api("GET", "/workflows/hello")
    assert gone.status_code == 404 and gone.json()["error"]["type"] == "NotFound"


def test_an_invalid_workflow_gets_every_problem(api: Client) -> None:
    document = {
        "name": "broken",
        "nodes": [
            {"name": "Start", "type": "manualTrigger"},
            {"name": "Mystery", "type": "noSuchType"},
            {"name": "Cut", "type": "limit", "parameters": {"maxItems": -1}},
        ],
        "connections": [{"from": "Start", "to": "Mystery"}, {"from": "Start", "to": "Cut"}],
    }
    response = api("POST", "/workflows", json=document)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "WorkflowInvalid"
    assert {(p["node"], p["field"]) for p in error["details"]} >= {
        ("Mystery", "type"), ("Cut", "parameters.maxItems")}
    assert api("GET", "/workflows/broken").status_code == 404


def test_malformed_json_body_is_a_400(api: Client) -> None:
    response = api("POST", "/workflows", data="{not json",
                   headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "BadRequest"


def test_a_child_workflow_must_be_deployed_first(api: Client) -> None:
    parent = {
        "name": "parent",
        "nodes": [{"name": "Start", "type": "manualTrigger"},
                  {"name": "Run", "type": "executeWorkflow",
                   "parameters": {"workflow": "child"}}],
        "connections": [{"from": "Start", "to": "Run"}],
    }
    response = api("POST", "/workflows", json=parent)
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "parameters.workflow"
    assert api("POST", "/workflows", json=hello("child")).status_code == 201
    assert api("POST", "/workflows", json=parent).status_code == 201


def test_deployment_order_puts_children_first() -> None:
    documents = [
        {"name": "a", "nodes": [{"name": "R", "type": "executeWorkflow",
                                 "parameters": {"workflow": "b"}}]},
        {"name": "b", "nodes": []},
    ]
    assert [d["name"] for d in deployment_order(documents)] == ["b", "a"]


# ------------------------------------------------------------------ executions


def test_start_and_wait_for_the_result(api: Client) -> None:
    api("POST", "/workflows", json=hello())
    response = api("POST", "/workflows/hello/executions?wait=true",
                   json={"input": {"who": "ada"}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "SUCCEEDED"
    assert body["items"] == [{"greeting": "hi ada"}]

    described = api.wait_status(body["executionId"], "SUCCEEDED")
    assert described["workflowId"] == "hello" and described["mode"] == "api"
    assert [run["node"] for run in described["nodeRuns"]] == ["Start", "Greet"]
    runs = api("GET", f"/executions/{body['executionId']}/nodes/Greet").json()["items"]
    assert runs[0]["output"] == [[{"greeting": "hi ada"}]]


def test_an_idempotency_key_never_starts_a_second_execution(api: Client) -> None:
    api("POST", "/workflows", json=hello())
    first = api("POST", "/workflows/hello/executions",
                json={"input": {"who": "x"}, "idempotencyKey": "order-7"})
    again = api("POST", "/workflows/hello/executions",
                json={"input": {"who": "x"}, "idempotencyKey": "order-7"})
    assert first.status_code == again.status_code == 202
    assert first.json()["executionId"] == again.json()["executionId"]
    api.wait_status(first.json()["executionId"], "SUCCEEDED")
    listed = api("GET", "/executions?workflowId=hello").json()["items"]
    assert len(listed) == 1


def test_start_body_is_validated(api: Client) -> None:
    api("POST", "/workflows", json=hello())
    response = api("POST", "/workflows/hello/executions", json={"inputs": []})
    assert response.status_code == 400
    assert api("POST", "/workflows/nope/executions", json={}).status_code == 404


def test_pagination_over_250_executions(platform: LocalPlatform, api: Client) -> None:
    api("POST", "/workflows", json=hello())
    record = platform.cloud.repository
    from functions.store.repository import Execution

    for index in range(250):  # the records the API lists; starting 250 runs adds nothing
        record.create_execution(Execution(
            f"e{index:03d}", "hello", "SUCCEEDED" if index % 5 else "FAILED",
            f"2026-01-01T00:{index // 60:02d}:{index % 60:02d}.000Z"))
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = "/executions?workflowId=hello&limit=100" + (f"&cursor={cursor}" if cursor
                                                             else "")
        page = api("GET", query).json()
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["cursor"]
        if not cursor:
            break
    assert pages == 3
    assert seen == [f"e{index:03d}" for index in reversed(range(250))]  # newest first
    failed = api("GET", "/executions?status=FAILED&limit=100").json()
    assert len(failed["items"]) == 50 and failed["cursor"] is None
    window = api("GET", "/executions?workflowId=hello&from=2026-01-01T00:01:00.000Z"
                        "&to=2026-01-01T00:01:59.999Z&status=FAILED").json()
    assert len(window["items"]) == 12
    assert api("GET", "/executions?cursor=garbage").status_code == 400


def test_cancel_a_running_execution(api: Client) -> None:
    document = {
        "name": "slow",
        "nodes": [{"name": "Start", "type": "manualTrigger"},
                  {"name": "Nap", "type": "wait", "parameters": {"seconds": 360000}},
                  {"name": "After", "type": "noOp"}],
        "connections": [{"from": "Start", "to": "Nap"}, {"from": "Nap", "to": "After"}],
    }
    api("POST", "/workflows", json=document)
    started = api("POST", "/workflows/slow/executions", json={}).json()
    time.sleep(0.3)
    cancelled = api("POST", f"/executions/{started['executionId']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "ABORTED"
    assert cancelled.json()["error"]["type"] == "Sfnflow.Cancelled"
    again = api("POST", f"/executions/{started['executionId']}/cancel")
    assert again.status_code == 409


def flaky_chain(name: str, http_api: HttpApi) -> dict[str, Any]:
    """Fetch, then Notify, whose endpoint answers 500 once (no retry), then 200."""
    return {
        "name": name,
        "nodes": [
            {"name": "Start", "type": "manualTrigger"},
            {"name": "Fetch", "type": "httpRequest",
             "parameters": {"url": f"{http_api.url}/orders"}},
            {"name": "Notify", "type": "httpRequest",
             "parameters": {"url": f"{http_api.url}/fails-once"}},
        ],
        "connections": [{"from": "Start", "to": "Fetch"}, {"from": "Fetch", "to": "Notify"}],
    }


def test_retry_starts_at_the_failed_node(api: Client, http_api: HttpApi) -> None:
    document = flaky_chain("flaky-chain", http_api)
    api("POST", "/workflows", json=document)
    first = api("POST", "/workflows/flaky-chain/executions?wait=true", json={}).json()
    assert first["status"] == "FAILED"
    failed = api.wait_status(first["executionId"], "FAILED")
    assert failed["error"]["node"] == "Notify"
    assert api("POST", f"/executions/{first['executionId']}/retry").status_code \
        == 202

    listed = api("GET", "/executions?workflowId=flaky-chain").json()["items"]
    retry_id = next(item["id"] for item in listed if item["id"] != first["executionId"])
    retried = api.wait_status(retry_id, "SUCCEEDED")
    assert retried["status"] == "SUCCEEDED" and retried["mode"] == "retry"
    statuses = {run["node"]: run["status"] for run in retried["nodeRuns"]}
    assert statuses == {"Start": "reused", "Fetch": "reused", "Notify": "success"}
    assert http_api.hits["/orders"] == 1  # Fetch did not run again
    assert http_api.hits["/fails-once"] == 2
    assert api("POST", f"/executions/{retry_id}/retry").status_code == 409


# ------------------------------------------------------------------ webhooks


def webhook_workflow(name: str, **parameters: Any) -> dict[str, Any]:
    return {
        "name": name,
        "nodes": [
            {"name": "Hook", "type": "webhook", "parameters": {"path": name, **parameters}},
            {"name": "Echo", "type": "code",
             "parameters": {"code": "return [{'got': i['body'], 'q': i['query']} "
                                    "for i in items]"}},
        ],
        "connections": [{"from": "Hook", "to": "Echo"}],
    }


def test_webhook_starts_the_workflow_without_an_api_key(platform: LocalPlatform,
                                                        api: Client) -> None:
    api("POST", "/workflows", json=webhook_workflow("orders-in"))
    response = requests.post(platform.url + "/webhook/orders-in?src=shop",
                             json={"order": 7}, timeout=10)
    assert response.status_code == 202
    execution = api.wait_status(response.json()["executionId"], "SUCCEEDED")
    assert execution["mode"] == "webhook"
    runs = api("GET", f"/executions/{execution['id']}/nodes/Echo").json()["items"]
    assert runs[0]["output"] == [[{"got": {"order": 7}, "q": {"src": "shop"}}]]


def test_webhook_signature_bad_json_unknown_path_and_repeats(platform: LocalPlatform,
                                                             api: Client) -> None:
    secret = "s3cret-key-for-tests"
    api("POST", "/workflows", json=webhook_workflow("signed", secret=secret))
    url = platform.url + "/webhook/signed"
    body = json.dumps({"amount": 12}).encode()
    headers = {"Content-Type": "application/json"}

    unsigned = requests.post(url, data=body, headers=headers, timeout=10)
    forged = requests.post(url, data=body, timeout=10, headers=headers | {
        "X-Sfnflow-Signature": signature("wrong-secret-123", body)})
    assert unsigned.status_code == forged.status_code == 401
    assert forged.json()["error"]["type"] == "Unauthorized"

    bad = b"{oops"
    malformed = requests.post(url, data=bad, timeout=10, headers=headers | {
        "X-Sfnflow-Signature": signature(secret, bad)})
    assert malformed.status_code == 400
    assert requests.post(platform.url + "/webhook/nowhere", json={}, timeout=10) \
        .status_code == 404
    assert requests.get(url, timeout=10).status_code == 404  # wrong method

    signed = headers | {"X-Sfnflow-Signature": signature(secret, body),
                        "Idempotency-Key": "delivery-1"}
    first = requests.post(url, data=body, headers=signed, timeout=10)
    repeat = requests.post(url, data=body, headers=signed, timeout=10)
    assert first.status_code == repeat.status_code == 202
    assert first.json()["executionId"] == repeat.json()["executionId"]
    api.wait_status(first.json()["executionId"], "SUCCEEDED")
    assert len(api("GET", "/executions?workflowId=signed").json()["items"]) == 1


def test_webhook_last_node_mode_answers_with_the_items(platform: LocalPlatform,
                                                        api: Client) -> None:
    api("POST", "/workflows", json=webhook_workflow("sync", responseMode="lastNode"))
    response = requests.post(platform.url + "/webhook/sync", json={"n": 1}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["items"] == [{"got": {"n": 1}, "q": {}}]


def test_a_deactivated_webhook_is_gone(platform: LocalPlatform, api: Client) -> None:
    api("POST", "/workflows", json=webhook_workflow("paused"))
    api("POST", "/workflows/paused/deactivate")
    assert requests.post(platform.url + "/webhook/paused", json={}, timeout=10) \
        .status_code == 404


def test_serve_deploys_a_folder(tmp_path: Path) -> None:
    (tmp_path / "hello.yaml").write_text(json.dumps(hello()), encoding="utf-8")
    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE, workflows=tmp_path) as platform:
        assert platform.deployed == ["hello"]
        listed = Client(platform.url)("GET", "/workflows").json()["items"]
        assert [w["id"] for w in listed] == ["hello"]


# ------------------------------------------------------------------ partial runs, replay


def three_steps(http_api: HttpApi) -> dict[str, Any]:
    return {
        "name": "steps",
        "nodes": [
            {"name": "Start", "type": "manualTrigger"},
            {"name": "Fetch", "type": "httpRequest",
             "parameters": {"url": f"{http_api.url}/orders"}},
            {"name": "Count", "type": "code",
             "parameters": {"code": "return [{'n': len(items[0]['orders'])}]"}},
            {"name": "Tag", "type": "set", "parameters": {"values": {"tagged": True}}},
        ],
        "connections": [{"from": "Start", "to": "Fetch"}, {"from": "Fetch", "to": "Count"},
                        {"from": "Count", "to": "Tag"}],
    }


def test_partial_run_reuses_recorded_outputs(api: Client, http_api: HttpApi) -> None:
    api("POST", "/workflows", json=three_steps(http_api))
    first = api("POST", "/workflows/steps/executions?wait=true", json={}).json()
    assert first["status"] == "SUCCEEDED"
    api.wait_status(first["executionId"], "SUCCEEDED")

    partial = api("POST", "/workflows/steps/executions?wait=true", json={
        "startNodes": ["Count"], "destinationNode": "Count",
        "fromExecution": first["executionId"]}).json()
    assert partial["status"] == "SUCCEEDED", partial
    described = api.wait_status(partial["executionId"], "SUCCEEDED")
    statuses = {run["node"]: run["status"] for run in described["nodeRuns"]}
    assert statuses == {"Start": "reused", "Fetch": "reused", "Count": "success"}
    assert http_api.hits["/orders"] == 1  # Fetch was replayed, not called

    missing = api("POST", "/workflows/steps/executions",
                  json={"startNodes": ["Count"]})
    assert missing.status_code == 400
    assert {p["node"] for p in missing.json()["error"]["details"]} == {"Start", "Fetch"}
    unknown = api("POST", "/workflows/steps/executions", json={"startNodes": ["Nope"]})
    assert unknown.json()["error"]["details"][0]["field"] == "startNodes"


def test_replay_with_modified_input(api: Client) -> None:
    api("POST", "/workflows", json=hello())
    first = api("POST", "/workflows/hello/executions?wait=true",
                json={"input": {"who": "ada"}}).json()
    replay = api("POST", f"/executions/{first['executionId']}/replay",
                 json={"input": {"who": "grace"}})
    assert replay.status_code == 202
    described = api.wait_status(replay.json()["executionId"], "SUCCEEDED")
    assert described["replayOf"] == first["executionId"] and described["mode"] == "replay"
    runs = api("GET", f"/executions/{described['id']}/nodes/Greet").json()["items"]
    assert runs[0]["output"] == [[{"greeting": "hi grace"}]]


# ------------------------------------------------------------------ progress


def test_progress_events_in_order_finishing_at_100(api: Client) -> None:
    api("POST", "/workflows", json=hello())
    started = api("POST", "/workflows/hello/executions?wait=true", json={}).json()
    api.wait_status(started["executionId"], "SUCCEEDED")
    page = api("GET", f"/executions/{started['executionId']}/events").json()
    kinds = [(event["type"], event["node"]) for event in page["items"]]
    assert kinds == [("nodeStarted", "Start"), ("nodeFinished", "Start"),
                     ("nodeStarted", "Greet"), ("nodeFinished", "Greet"),
                     ("executionFinished", None)]
    assert [event["percent"] for event in page["items"]] == [0.0, 50.0, 50.0, 100.0, 100.0]
    rest = api("GET", f"/executions/{started['executionId']}/events",
               params={"after": page["items"][1]["seq"]}).json()
    assert len(rest["items"]) == 3


def test_sse_stream_read_by_a_real_http_client(platform: LocalPlatform, api: Client) -> None:
    from local.watch import sse_events

    document = hello()
    document["nodes"].insert(1, {"name": "Pause", "type": "wait",
                                 "parameters": {"seconds": 30}})
    document["connections"] = [{"from": "Start", "to": "Pause"},
                               {"from": "Pause", "to": "Greet"}]
    api("POST", "/workflows", json=document)
    started = api("POST", "/workflows/hello/executions", json={}).json()
    events = list(sse_events(platform.url, KEY, started["executionId"], timeout=30))
    assert events[0]["type"] == "nodeStarted" and events[0]["node"] == "Start"
    assert events[-1]["type"] == "executionFinished" and events[-1]["percent"] == 100.0
    assert events[-1]["status"] == "SUCCEEDED"
    with pytest.raises(RuntimeError, match="401"):
        list(sse_events(platform.url, None, started["executionId"]))


def test_a_schedule_deployed_from_the_folder_fires_at_start(tmp_path: Path) -> None:
    """As EventBridge Scheduler fires a new rate schedule at its creation, so does one
    ``--workflows`` deploys (only schedules kept from an earlier server wait a period)."""
    (tmp_path / "tick.json").write_text(json.dumps({
        "name": "tick", "nodes": [
            {"name": "Tick", "type": "scheduleTrigger",
             "parameters": {"expression": "rate(1 hour)"}},
            {"name": "Work", "type": "noOp"}],
        "connections": [{"from": "Tick", "to": "Work"}]}))
    with LocalPlatform(api_key=KEY, workflows=tmp_path, time_scale=TIME_SCALE) as local:
        api = Client(local.url)
        deadline = time.monotonic() + 10
        while not api("GET", "/executions?workflowId=tick").json()["items"] \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        assert api("GET", "/executions?workflowId=tick").json()["items"]
