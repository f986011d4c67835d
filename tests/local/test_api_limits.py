"""API Gateway's and Lambda's limits, over real HTTP on loopback against the embedded cloud.

AWS rules encoded here (each looked up in AWS's documentation):
* API Gateway REST: the integration timeout is 29 s from the request's arrival; the payload
  is at most 10 MB (REQUEST_TOO_LARGE: 413).
* Lambda: a synchronous invocation's request and response are at most 6 MB (6,291,556
  bytes): a larger request is refused (413), a larger response is a 502 at API Gateway.
* Step Functions: StartExecution input is at most 262,144 bytes (UTF-8).

The local gateway (``local.server``) enforces all of them, so these tests fail the way a
deployment would: a wait that outlives the gateway, an inline 7 MB output, a 400 KB webhook
body started inline.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from functions.services.executions import execution_arn_of
from functions.services.waiting import SAFETY_MARGIN_SECONDS
from local.cloud import LocalCloud
from local.server import LAMBDA_MAX_PAYLOAD, ApiGateway, LocalServer
from tests.conftest import TIME_SCALE

GATEWAY_SECONDS = SAFETY_MARGIN_SECONDS + 2  # a handler may wait up to 2 s (less its start)
START_INPUT_LIMIT = 262_144  # bytes: StartExecution's input


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    """One embedded cloud for the module (each test deploys workflows of its own)."""
    with LocalCloud(time_scale=TIME_SCALE) as local_cloud:
        yield local_cloud


@pytest.fixture
def url(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch,
        request: pytest.FixtureRequest) -> Iterator[str]:
    """The local API Gateway on loopback; its integration timeout is 29 s, or the
    parameter of an indirect parametrization."""
    from functions.api import dependencies
    from functions.handlers import api, webhooks

    gateway = ApiGateway(api.lambda_handler, webhooks.lambda_handler, None,
                         integration_timeout=getattr(request, "param", 29.0))
    with LocalServer(gateway) as server:
        monkeypatch.setenv("SFNFLOW_API_URL", server.url)
        dependencies.services.cache_clear()
        webhooks._service.cache_clear()
        yield server.url


def _create(url: str, document: dict[str, Any]) -> None:
    response = requests.post(url + "/workflows", json=document, timeout=30)
    assert response.status_code == 201, response.text


def _napping(name: str, trigger: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "nodes": [trigger, {"name": "Nap", "type": "wait",
                                              "parameters": {"seconds": 360000}}],
            "connections": [{"from": trigger["name"], "to": "Nap"}]}


def _finished(cloud: LocalCloud, workflow: str, execution_id: str) -> str:
    arn = execution_arn_of(cloud.config.state_machine_arn(workflow), execution_id)
    deadline = time.monotonic() + 30
    while True:
        status = str(cloud.sfn.describe_execution(executionArn=arn)["status"])
        if status != "RUNNING" or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


# ------------------------------------------------------------------ 29 s


@pytest.mark.parametrize("url", [GATEWAY_SECONDS], indirect=True)
def test_a_wait_that_outlives_the_gateway_answers_202_with_a_status_url(url: str) -> None:
    """The handler's context counts down API Gateway's timeout: the wait stops in time
    and answers 202 with where to look, for ?wait=true and for a lastNode webhook."""
    _create(url, _napping("slow", {"name": "Start", "type": "manualTrigger"}))
    _create(url, _napping("slow-hook", {"name": "Hook", "type": "webhook", "parameters": {
        "path": "slow-hook", "responseMode": "lastNode"}}))

    for method, path in [("POST", "/workflows/slow/executions?wait=true"),
                         ("POST", "/webhook/slow-hook")]:
        started = time.monotonic()
        response = requests.request(method, url + path, json={}, timeout=30)
        elapsed = time.monotonic() - started
        assert response.status_code == 202, response.text  # in time: not the gateway's 504
        assert elapsed < GATEWAY_SECONDS + 1  # the client's clock adds the HTTP round trip
        body = response.json()
        assert body["status"] == "RUNNING"
        assert body["statusUrl"] == f"{url}/executions/{body['executionId']}"
        assert response.headers["Location"] == body["statusUrl"]
        followed = requests.get(body["statusUrl"], timeout=30)
        assert followed.status_code == 200 and followed.json()["status"] == "RUNNING"


# ------------------------------------------------------------------ payloads


def test_a_400_kb_webhook_body_is_staged_and_reaches_the_trigger_whole(
        url: str, cloud: LocalCloud) -> None:
    _create(url, {"name": "big-in", "nodes": [{"name": "Hook", "type": "webhook", "parameters": {
        "path": "big-in", "responseMode": "lastNode"}}], "connections": []})
    payload = {"rows": [{"n": n, "text": "x" * 390} for n in range(1000)]}
    assert len(json.dumps(payload)) > 400_000

    response = requests.post(url + "/webhook/big-in", json=payload, timeout=60)
    assert response.status_code == 200, response.text[:500]
    result = response.json()
    assert [item["body"] for item in result["items"]] == [payload]

    arn = execution_arn_of(cloud.config.state_machine_arn("big-in"), result["executionId"])
    started = cloud.sfn.describe_execution(executionArn=arn)["input"]
    assert len(started.encode()) < START_INPUT_LIMIT
    assert json.loads(started)["items"]["ref"].startswith("s3://")
    runs = requests.get(f"{url}/executions/{result['executionId']}/nodes/Hook", timeout=30)
    assert runs.json()["items"][0]["output"][0][0]["body"] == payload


def test_a_large_api_input_is_staged_too(url: str, cloud: LocalCloud) -> None:
    _create(url, {"name": "big-api", "nodes": [{"name": "Start", "type": "manualTrigger"}],
                  "connections": []})
    rows = [{"n": n, "text": "q" * 990} for n in range(300)]
    response = requests.post(url + "/workflows/big-api/executions?wait=true",
                             json={"input": rows}, timeout=60)
    assert response.status_code == 200, response.text[:500]
    assert response.json()["items"] == rows
    arn = execution_arn_of(cloud.config.state_machine_arn("big-api"),
                           response.json()["executionId"])
    started = cloud.sfn.describe_execution(executionArn=arn)["input"]
    assert json.loads(started)["items"]["count"] == 300

    # A replay starts from the recorded input: the reference, resolved again by the runner
    replay = requests.post(f"{url}/executions/{response.json()['executionId']}/replay",
                           json={}, timeout=30)
    assert replay.status_code == 202, replay.text
    replayed = replay.json()["executionId"]
    assert _finished(cloud, "big-api", replayed) == "SUCCEEDED"
    runs = requests.get(f"{url}/executions/{replayed}/nodes/Start", timeout=30).json()
    assert runs["items"][0]["output"] == [rows]


class _BigJson(BaseHTTPRequestHandler):
    body = json.dumps([{"n": n, "pad": "y" * 990} for n in range(7000)]).encode()

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)


@pytest.fixture
def big_json() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BigJson)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/big"
    finally:
        server.shutdown()
        server.server_close()


def test_a_7_mb_output_is_served_as_a_presigned_url(url: str, big_json: str) -> None:
    """Inline, the answer would pass Lambda's 6 MB (a 502): the result and the node's run
    carry a short-lived pre-signed S3 URL of the stored output instead."""
    assert len(_BigJson.body) > 7_000_000
    _create(url, {"name": "big-out", "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Fetch", "type": "httpRequest", "parameters": {"url": big_json}},
    ], "connections": [{"from": "Start", "to": "Fetch"}]})

    response = requests.post(url + "/workflows/big-out/executions?wait=true&timeout=20",
                             json={}, timeout=60)
    assert response.status_code == 200, response.text[:500]
    assert len(response.content) < LAMBDA_MAX_PAYLOAD
    result = response.json()
    assert "items" not in result and result["itemsTooLarge"] is True
    [output] = result["outputs"]
    assert output["node"] == "Fetch" and output["count"] == 7000
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in output["url"]  # SigV4, not SigV2
    assert "X-Amz-Expires=900" in output["url"]

    runs = requests.get(f"{url}/executions/{result['executionId']}/nodes/Fetch", timeout=60)
    assert runs.status_code == 200 and len(runs.content) < LAMBDA_MAX_PAYLOAD
    [run] = runs.json()["items"]
    assert "output" not in run and run["outputBytes"] > 7_000_000
    stored = requests.get(run["outputUrl"], timeout=60)  # S3 (moto) answers the signed GET
    assert stored.status_code == 200
    assert stored.json()[0] == json.loads(_BigJson.body)


def test_requests_over_the_limits_get_a_413_and_start_nothing(url: str) -> None:
    _create(url, _napping("never", {"name": "Start", "type": "manualTrigger"}))
    over_lambda = {"input": {"blob": "z" * 7_000_000}}  # under API Gateway's 10 MB
    response = requests.post(url + "/workflows/never/executions", json=over_lambda,
                             timeout=60)
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "RequestTooLarge"

    over_gateway = b"{" + b" " * (10 * 1024 * 1024) + b"}"
    response = requests.post(url + "/webhook/never", data=over_gateway, timeout=60)
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "RequestTooLarge"
    listed = requests.get(url + "/executions?workflowId=never", timeout=30).json()
    assert listed["items"] == []
