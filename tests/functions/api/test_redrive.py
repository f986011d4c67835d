"""``POST /executions/{id}/redrive`` end to end over real HTTP on loopback (the embedded
cloud's RedriveExecution, ``local/moto_redrive.py``): a workflow whose HTTP node fails once
(500, no retry) is redriven into SUCCEEDED under the same execution id; the nodes before
the failed one did not run again (their runs are not recorded twice), and the execution's
record follows the redrive: RUNNING again, then SUCCEEDED, with its error gone."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from functions.services.executions import execution_arn_of
from local.cloud import local_arn
from local.serve import LocalPlatform
from tests.conftest import TIME_SCALE, HttpApi
from tests.local.test_serve import KEY, Client, flaky_chain


@pytest.fixture(scope="module")
def platform() -> Iterator[LocalPlatform]:
    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE) as local_platform:
        yield local_platform


def ended(platform: LocalPlatform, arn: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while (described := platform.cloud.sfn.describe_execution(executionArn=arn))[
            "status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.01)
    return dict(described)


def test_a_failed_execution_is_redriven_from_its_failed_node(platform: LocalPlatform,
                                                              http_api: HttpApi) -> None:
    api = Client(platform.url)
    document = flaky_chain("redriven", http_api)
    assert api("POST", "/workflows", json=document).status_code == 201
    first = api("POST", "/workflows/redriven/executions?wait=true", json={}).json()
    execution_id = first["executionId"]
    failed = api.wait_status(execution_id, "FAILED")
    assert failed["status"] == "FAILED" and failed["error"]["node"] == "Notify"

    answer = api("POST", f"/executions/{execution_id}/redrive")
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"executionId": execution_id, "status": "RUNNING",
                             "redriveCount": 1}

    machine = local_arn("states", "stateMachine:redriven")
    described = ended(platform, execution_arn_of(machine, execution_id))
    assert described["status"] == "SUCCEEDED" and described["name"] == execution_id
    assert described["redriveCount"] == 1
    assert http_api.hits == Counter({"/orders": 1, "/fails-once": 2})
    recorded = api.wait_status(execution_id, "SUCCEEDED")
    assert recorded["status"] == "SUCCEEDED" and recorded.get("error") is None, recorded
    runs = api("GET", f"/executions/{execution_id}").json()["nodeRuns"]
    assert [run["status"] for run in runs if run["node"] == "Fetch"] == ["success"]
    assert "success" in {run["status"] for run in runs if run["node"] == "Notify"}
    listed = api("GET", "/executions?workflowId=redriven").json()["items"]
    assert [item["id"] for item in listed] == [execution_id]  # no new execution
    refused = api("POST", f"/executions/{execution_id}/redrive")
    assert refused.status_code == 409 and "SUCCEEDED" in refused.json()["error"]["message"]
