"""Dead letters over real HTTP on loopback (``sfnflow serve``'s platform): an event
trigger's delivery that fails every attempt is listed by ``GET /admin/dead-letters`` and redriven by
``POST /admin/dead-letters/{id}/redrive`` once; the second redrive is a 404 and starts
nothing. Step Functions' own redrive, ``POST /executions/{id}/redrive``: 404 for an unknown
execution, 409 for one AWS would not redrive, 202 for a failed one (the embedded cloud's
RedriveExecution: ``local/moto_redrive.py``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from compiler import compile_workflow
from local.cloud import local_arn
from local.serve import LocalPlatform
from tests.conftest import TIME_SCALE
from tests.local.test_serve import KEY, Client

WORKFLOW = {
    "name": "nightly",
    "nodes": [{"name": "Tidy up", "type": "eventTrigger",
               "parameters": {"pattern": {"source": ["house.chores"]}}},
              {"name": "Tidy", "type": "noOp"}],
    "connections": [{"from": "Tidy up", "to": "Tidy"}],
}


@pytest.fixture(scope="module")
def platform() -> Iterator[LocalPlatform]:
    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE) as local_platform:
        yield local_platform


def executions(platform: LocalPlatform) -> list[dict[str, Any]]:
    return platform.cloud.sfn.list_executions(
        stateMachineArn=local_arn("states", "stateMachine:nightly"))["executions"]


def test_a_failed_event_delivery_is_listed_and_redriven_once(
        platform: LocalPlatform) -> None:
    cloud, api = platform.cloud, Client(platform.url)
    compiled = compile_workflow(WORKFLOW)
    arn = cloud.deploy(compiled)
    cloud.sfn.delete_state_machine(stateMachineArn=arn)  # the starter fails every attempt
    cloud.events.put_events(Entries=[{"Source": "house.chores", "DetailType": "Chore",
                                      "Detail": "{}"}])
    cloud._state_machines.pop("nightly")
    cloud.deploy(compiled)

    listed = api("GET", "/admin/dead-letters?limit=10")
    assert listed.status_code == 200, listed.text
    (letter,) = listed.json()["items"]
    assert letter["payload"]["trigger"] == "event" and letter["payload"]["workflow"] == \
        "nightly"
    assert letter["error"]["type"] == "StateMachineDoesNotExist"
    assert executions(platform) == []

    first = api("POST", f"/admin/dead-letters/{letter['id']}/redrive")
    assert first.status_code == 202, first.text
    assert first.json()["redriven"]["id"] == letter["id"]
    second = api("POST", f"/admin/dead-letters/{letter['id']}/redrive")
    assert second.status_code == 404 and second.json()["error"]["type"] == \
        "DeadLetterNotFound"
    deadline = time.monotonic() + 5
    while not executions(platform) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(executions(platform)) == 1
    assert api("GET", "/admin/dead-letters").json()["items"] == []


def test_listing_is_bounded(platform: LocalPlatform) -> None:
    answer = Client(platform.url)("GET", "/admin/dead-letters?limit=101")
    assert answer.status_code == 400


def _run(platform: LocalPlatform, name: str, code: str) -> str:
    document = {"name": name, "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Work", "type": "code", "parameters": {"code": code}}],
        "connections": [{"from": "Start", "to": "Work"}]}
    cloud = platform.cloud
    return cloud.wait(cloud.start(compile_workflow(document), [{"n": 1}])).execution_id


def test_redriving_an_execution_over_http(platform: LocalPlatform) -> None:
    api = Client(platform.url)
    failed = _run(platform, "jammed", "raise ValueError('paper jam')")
    answer = api("POST", f"/executions/{failed}/redrive")
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"executionId": failed, "status": "RUNNING", "redriveCount": 1}
    done = _run(platform, "smooth", "return items")
    refused = api("POST", f"/executions/{done}/redrive")
    assert refused.status_code == 409 and "SUCCEEDED" in refused.json()["error"]["message"]
    assert api("POST", "/executions/nope/redrive").status_code == 404
