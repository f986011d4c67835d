"""The credentials' AWS calls are ones the deployed roles allow (``local.call_recorder``'s
Secrets Manager rules against the synthesized stack): the API creates, rotates, lists,
describes and deletes credentials, a deploy checks a workflow's credentials exist, and the
node runner reads the one its node names — over HTTP on loopback on ``sfnflow serve``'s
platform, every call recorded and checked as ``test_iam_calls.py`` checks its flows."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from functions import credentials
from functions.credentials.names import LOCAL_STAGE, secret_prefix
from local.call_recorder import Call, CallRecorder
from tests.support.api_client import ApiClient
from tests.support.iam_audit import deployed_roles
from tests.support.loopback import JsonHandler, serving

from .conftest import Built


class Ok(JsonHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.reply(200, {})


@pytest.fixture
def url() -> Iterator[str]:
    with serving(Ok) as base:
        yield base + '/'


def finished(api: ApiClient, execution_id: str, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while True:
        status = str(api("GET", f"/executions/{execution_id}").json()["status"])
        if status not in ("RUNNING", "PENDING", "QUEUED"):
            return status
        assert time.monotonic() < deadline, f"{execution_id} still {status}"
        time.sleep(0.02)


def record_credentials_flow(url: str) -> list[Call]:
    from local.serve import LocalPlatform
    from tests.conftest import TIME_SCALE

    with CallRecorder() as recorder, \
            LocalPlatform(api_key=ApiClient.key, time_scale=TIME_SCALE) as platform:
        api = ApiClient(platform.url)
        assert api("POST", "/credentials", json={
            "name": "partner", "type": "httpHeaderAuth",
            "data": {"name": "X-Key", "value": "v-1f0a"}}).status_code == 201
        assert api("PUT", "/credentials/partner", json={
            "data": {"name": "X-Other", "value": "v-2b1c"}}).status_code == 200
        assert api("GET", "/credentials").status_code == 200
        assert api("GET", "/credentials/partner").status_code == 200
        deployed = api("POST", "/workflows", json={"name": "keyed", "nodes": [
            {"name": "Start", "type": "manualTrigger"},
            {"name": "Call", "type": "httpRequest", "credentials": {"name": "partner"},
             "parameters": {"url": url}}],
            "connections": [{"from": "Start", "to": "Call"}]})
        assert deployed.status_code == 201, deployed.text
        started = api("POST", "/workflows/keyed/executions", json={"input": {}})
        assert started.status_code == 202, started.text
        assert finished(api, started.json()["executionId"]) == "SUCCEEDED"
        assert api("DELETE", "/credentials/partner").status_code == 204
    credentials.reset()
    return list(recorder.calls)


def on_stage(call: Call, stage: str) -> Call:
    """The local secret's ARN under the stack's stage (``StageNames`` maps tables, machines
    and functions, not secrets)."""
    local, staged = secret_prefix(LOCAL_STAGE), secret_prefix(stage)
    resources = tuple(r.replace(f":secret:{local}", f":secret:{staged}")
                      for r in call.request.resources)
    return replace(call, request=replace(call.request, resources=resources))


def test_every_credentials_call_is_modelled_and_allowed(built: Built, url: str) -> None:
    calls = record_credentials_flow(url)
    secrets = {(c.principal, c.request.action) for c in calls
               if c.operation.startswith("secretsmanager.")}
    assert secrets == {
        ("sfnflow-api", "secretsmanager:CreateSecret"),
        ("sfnflow-api", "secretsmanager:TagResource"),
        ("sfnflow-api", "secretsmanager:DescribeSecret"),
        ("sfnflow-api", "secretsmanager:PutSecretValue"),
        ("sfnflow-api", "secretsmanager:UpdateSecret"),
        ("sfnflow-api", "secretsmanager:ListSecrets"),
        ("sfnflow-api", "secretsmanager:DeleteSecret"),
        ("sfnflow-node-runner", "secretsmanager:GetSecretValue")}
    roles = deployed_roles(built.stack, built.template.to_json())
    refused = roles.refused([on_stage(c, built.stack.naming.stage) for c in calls])
    assert not refused, "the deployed roles would refuse:\n" + "\n".join(refused)
