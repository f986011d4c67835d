"""Pause / resume and human in the loop over real HTTP, against ``sfnflow serve``'s platform:
approve, reject, resume by a signed URL, timeouts, exactly-once, ``status=waiting``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local.cloud import _clear_api_caches
from local.serve import LocalPlatform
from tests.conftest import TIME_SCALE
from tests.support.api_client import ApiClient

KEY = "test-key"


class Client(ApiClient):
    key = KEY

    def start(self, workflow: str, user_input: Any = None) -> str:
        response = self("POST", f"/workflows/{workflow}/executions", json={"input": user_input})
        assert response.status_code == 202, response.text
        return str(response.json()["executionId"])

    def paused(self, execution_id: str, seconds: float = 20) -> dict[str, Any]:
        """The execution's first paused wait, once it has one."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            response = self("GET", f"/executions/{execution_id}/waits")
            waits: list[dict[str, Any]] = response.json()["items"]
            paused = [wait for wait in waits if wait["status"] == "waiting"]
            if paused:
                return paused[0]
            time.sleep(0.02)
        raise AssertionError(f"execution {execution_id} never paused")

    def finished(self, execution_id: str, seconds: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while True:
            body: dict[str, Any] = self("GET", f"/executions/{execution_id}").json()
            if body["status"] in ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED") \
                    or time.monotonic() > deadline:
                return body
            time.sleep(0.02)

    def output(self, execution_id: str, node: str) -> list[Any]:
        (run,) = self("GET", f"/executions/{execution_id}/nodes/{node}").json()["items"]
        return list(run["output"][0])


@pytest.fixture
def platform() -> Iterator[LocalPlatform]:
    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE) as local_platform:
        yield local_platform


@pytest.fixture
def api(platform: LocalPlatform) -> Client:
    return Client(platform.url)


def paused_workflow(name: str, mode: str, *, on_error: str = "stopWorkflow",
                    timeout: int | None = None, on_timeout: str | None = None,
                    ) -> dict[str, Any]:
    wait: dict[str, Any] = {"name": "Hold", "type": "wait", "onError": on_error,
                            "parameters": {"resume": mode}}
    if timeout is not None:
        wait["timeoutSeconds"] = timeout
    if on_timeout is not None:
        wait["parameters"]["onTimeout"] = on_timeout
    after = {"name": "After", "type": "code",
             "parameters": {"code": "return [dict(i, after=True) for i in items]"}}
    return {"name": name, "nodes": [{"name": "Start", "type": "manualTrigger"}, wait, after],
            "connections": [{"from": "Start", "to": "Hold"}, {"from": "Hold", "to": "After"}]}


def deploy(api: Client, document: dict[str, Any]) -> None:
    response = api("POST", "/workflows", json=document)
    assert response.status_code == 201, response.text


# ------------------------------------------------------------------ approvals


def test_approve_resumes_with_the_payload_as_items(api: Client) -> None:
    deploy(api, paused_workflow("expense", "approval"))
    execution_id = api.start("expense", {"amount": 120})
    wait = api.paused(execution_id)
    assert wait["node"] == "Hold" and wait["mode"] == "approval"
    assert wait["approveUrl"].endswith(f"/executions/{execution_id}/approve/{wait['waitId']}")
    assert "resumeUrl" not in wait
    assert api("GET", f"/executions/{execution_id}").json()["status"] == "WAITING"

    response = api("POST", f"/executions/{execution_id}/approve/{wait['waitId']}",
                   json={"approvedBy": "ada"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "approved"
    body = api.finished(execution_id)
    assert body["status"] == "SUCCEEDED", body
    assert api.output(execution_id, "Hold") == [{"approvedBy": "ada"}]
    assert api.output(execution_id, "After") == [{"approvedBy": "ada", "after": True}]
    (decided,) = api("GET", f"/executions/{execution_id}/waits").json()["items"]
    assert decided["status"] == "approved" and "approveUrl" not in decided


def test_approve_without_a_payload_passes_the_input_items_through(api: Client) -> None:
    deploy(api, paused_workflow("expense", "approval"))
    execution_id = api.start("expense", [{"amount": 1}, {"amount": 2}])
    wait = api.paused(execution_id)
    form = api("POST", f"/executions/{execution_id}/approve/{wait['waitId']}")
    assert form.status_code == 200, form.text
    assert api.finished(execution_id)["status"] == "SUCCEEDED"
    assert [item["amount"] for item in api.output(execution_id, "After")] == [1, 2]


def test_reject_fails_the_wait_with_a_typed_error(api: Client) -> None:
    deploy(api, paused_workflow("expense", "approval"))
    execution_id = api.start("expense", {"amount": 5000})
    wait = api.paused(execution_id)
    response = api("POST", f"/executions/{execution_id}/reject/{wait['waitId']}",
                   data={"reason": "too expensive"})  # a form payload
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    body = api.finished(execution_id)
    assert body["status"] == "FAILED"
    assert body["error"]["type"] == "Sfnflow.Rejected"
    assert body["error"]["node"] == "Hold"
    (run,) = api("GET", f"/executions/{execution_id}/nodes/Hold").json()["items"]
    assert run["status"] == "error"
    assert run["error"] == {"type": "Sfnflow.Rejected", "message": "too expensive"}


def test_reject_is_routed_by_on_error(api: Client) -> None:
    deploy(api, paused_workflow("expense", "approval", on_error="continueRegularOutput"))
    execution_id = api.start("expense", {"amount": 5000})
    wait = api.paused(execution_id)
    api("POST", f"/executions/{execution_id}/reject/{wait['waitId']}")
    assert api.finished(execution_id)["status"] == "SUCCEEDED"
    (item,) = api.output(execution_id, "After")
    assert item["error"]["type"] == "Sfnflow.Rejected" and item["after"] is True


# ------------------------------------------------------------------ signed resume URLs


def test_resume_by_signed_url_needs_no_api_key(api: Client, platform: LocalPlatform) -> None:
    deploy(api, paused_workflow("callback", "webhook"))
    execution_id = api.start("callback", {"order": 7})
    wait = api.paused(execution_id)
    url = wait["resumeUrl"]
    assert url.startswith(f"{platform.url}/executions/{execution_id}/resume/")
    assert "approveUrl" not in wait

    response = requests.post(url, json=[{"paid": True}, {"paid": False}], timeout=10)
    assert response.status_code == 200, response.text
    assert response.json() == {"executionId": execution_id, "waitId": wait["waitId"],
                               "status": "resumed"}
    assert api.finished(execution_id)["status"] == "SUCCEEDED"
    assert api.output(execution_id, "Hold") == [{"paid": True}, {"paid": False}]


def test_resume_with_a_missing_or_wrong_signature_is_refused(
        api: Client, platform: LocalPlatform) -> None:
    deploy(api, paused_workflow("callback", "webhook"))
    execution_id = api.start("callback")
    wait = api.paused(execution_id)
    path = f"{platform.url}/executions/{execution_id}/resume/{wait['waitId']}"
    missing = requests.post(path, json={}, timeout=10)
    wrong = requests.post(path + "?sig=" + "0" * 40, json={}, timeout=10)
    unknown = requests.post(f"{platform.url}/executions/{execution_id}/resume/nope?sig=abc",
                            timeout=10)
    assert missing.status_code == 401 and missing.json()["error"]["type"] == "Unauthorized"
    assert wrong.status_code == 403 and wrong.json()["error"]["type"] == "Forbidden"
    assert unknown.status_code == 403
    # the other management routes under the execution still need the key
    assert requests.post(path.replace("/resume/", "/approve/"), timeout=10).status_code == 401
    assert api.paused(execution_id)["status"] == "waiting"  # nothing changed
    requests.post(wait["resumeUrl"], timeout=10)
    assert api.finished(execution_id)["status"] == "SUCCEEDED"


def test_mode_mismatch_is_a_conflict(api: Client) -> None:
    deploy(api, paused_workflow("callback", "webhook"))
    execution_id = api.start("callback")
    wait = api.paused(execution_id)
    response = api("POST", f"/executions/{execution_id}/approve/{wait['waitId']}")
    assert response.status_code == 409
    requests.post(wait["resumeUrl"], timeout=10)
    assert api.finished(execution_id)["status"] == "SUCCEEDED"


# ------------------------------------------------------------------ exactly once, restarts


def test_a_wait_resumes_exactly_once_even_after_the_api_restarts(api: Client) -> None:
    deploy(api, paused_workflow("callback", "webhook"))
    execution_id = api.start("callback")
    wait = api.paused(execution_id)
    _clear_api_caches()  # a new API container: everything it needs is in the run data
    again = Client(api.url)
    first = requests.post(wait["resumeUrl"], json={"n": 1}, timeout=10)
    second = requests.post(wait["resumeUrl"], json={"n": 2}, timeout=10)
    assert first.status_code == 200, first.text
    assert second.status_code == 409 and second.json()["error"]["type"] == "Conflict"
    assert again.finished(execution_id)["status"] == "SUCCEEDED"
    assert again.output(execution_id, "Hold") == [{"n": 1}]
    approve_twice = again("POST", f"/executions/{execution_id}/approve/{wait['waitId']}")
    assert approve_twice.status_code == 409


def test_status_waiting_lists_paused_executions(api: Client) -> None:
    deploy(api, paused_workflow("expense", "approval"))
    paused = [api.start("expense", {"n": n}) for n in range(2)]
    waits = {execution_id: api.paused(execution_id) for execution_id in paused}
    for status in ("waiting", "WAITING"):
        listed = api("GET", f"/executions?status={status}").json()["items"]
        assert {item["id"] for item in listed} == set(paused)
        assert all(item["status"] == "WAITING" for item in listed)
    first = paused[0]
    api("POST", f"/executions/{first}/approve/{waits[first]['waitId']}")
    assert api.finished(first)["status"] == "SUCCEEDED"
    listed = api("GET", "/executions?status=waiting").json()["items"]
    assert [item["id"] for item in listed] == [paused[1]]


def test_unknown_waits_and_executions(api: Client) -> None:
    assert api("GET", "/executions/nope/waits").status_code == 404
    assert api("POST", "/executions/nope/approve/x").status_code == 404


# ------------------------------------------------------------------ timeouts


def test_a_paused_execution_times_out_into_on_error(api: Client) -> None:
    deploy(api, paused_workflow("expense", "approval", timeout=30))  # 0.3 s at TIME_SCALE
    execution_id = api.start("expense", {"amount": 1})
    # 0.3 s may pass before a poll sees the wait paused: judge by the end state only
    body = api.finished(execution_id)
    assert body["status"] == "FAILED" and body["error"]["type"] == "States.Timeout"
    (wait,) = api("GET", f"/executions/{execution_id}/waits").json()["items"]
    assert wait["status"] in ("expired", "timedOut") and "approveUrl" not in wait
    late = api("POST", f"/executions/{execution_id}/approve/{wait['waitId']}")
    assert late.status_code == 409


def test_on_timeout_continue_passes_the_input_items_on(api: Client) -> None:
    deploy(api, paused_workflow("reminder", "webhook", timeout=30, on_timeout="continue"))
    execution_id = api.start("reminder", {"order": 9})
    body = api.finished(execution_id)
    assert body["status"] == "SUCCEEDED", body
    (wait,) = api("GET", f"/executions/{execution_id}/waits").json()["items"]
    assert wait["node"] == "Hold" and wait["mode"] == "webhook"
    assert api.output(execution_id, "After") == [{"order": 9, "after": True}]


@pytest.mark.parametrize("handling", [{"on_timeout": "continue"},
                                      {"on_error": "continueErrorOutput"}])
def test_after_a_handled_timeout_the_execution_is_running_again(
        api: Client, handling: dict[str, str]) -> None:
    """The workflow goes on after the timeout: the wait is timed out and the execution is
    running (not waiting) while its next node, a 5-minute Wait (3 s here), runs."""
    # 1.5 s at TIME_SCALE: the runner records the pause well before the Task times out
    document = paused_workflow("slow-reminder", "webhook", timeout=150, **handling)
    document["nodes"].append({"name": "Nap", "type": "wait", "parameters": {"seconds": 300}})
    timed_out = "error" if "on_error" in handling else "main"  # the port the items take
    document["connections"] = [{"from": "Start", "to": "Hold"},
                               {"from": "Hold", "to": "Nap", "output": timed_out},
                               {"from": "Nap", "to": "After"}]
    deploy(api, document)
    execution_id = api.start("slow-reminder", {"order": 7})
    deadline = time.monotonic() + 20
    while [w["status"] for w in api("GET", f"/executions/{execution_id}/waits").json()[
            "items"]] != ["timedOut"]:
        assert time.monotonic() < deadline, "the wait never timed out"
        time.sleep(0.02)
    # The wait is marked timed out first; the execution record leaves WAITING when the
    # ``#expired`` Task reaches the runner, a moment later (long before the 3 s Nap ends).
    statuses = []
    while (status := api("GET", f"/executions/{execution_id}").json()["status"]) == "WAITING":
        statuses.append(status)
        assert time.monotonic() < deadline, "the execution stayed WAITING"
        time.sleep(0.02)
    assert status == "RUNNING", statuses + [status]
    waiting = api("GET", "/executions", params={"status": "waiting"}).json()["items"]
    assert execution_id not in [e["executionId"] for e in waiting]
    assert api.finished(execution_id)["status"] == "SUCCEEDED"


def test_a_non_ascii_or_oversized_signature_is_a_403_not_a_500(
        api: Client, platform: LocalPlatform) -> None:
    """The signature check is total: whatever the caller puts in ``sig`` or the ids is a
    403 that looks like any wrong signature (issue 11)."""
    deploy(api, paused_workflow("callback", "webhook"))
    execution_id = api.start("callback")
    wait = api.paused(execution_id)
    path = f"{platform.url}/executions/{execution_id}/resume/{wait['waitId']}"
    answers = [
        requests.post(path + "?sig=%C3%A9" + "0" * 39, json={}, timeout=10),
        requests.post(path + "?sig=" + "é" * 40, json={}, timeout=10),
        requests.post(path + "?sig=" + "0" * 5000, json={}, timeout=10),
        requests.post(f"{platform.url}/executions/{'x' * 3000}/resume/{wait['waitId']}"
                      "?sig=abc", timeout=10),
        requests.post(f"{platform.url}/executions/{execution_id}/resume/{'w' * 2000}"
                      "?sig=abc", timeout=10),
    ]
    assert [answer.status_code for answer in answers] == [403] * len(answers)
    assert {answer.json()["error"]["type"] for answer in answers} == {"Forbidden"}
    assert api.paused(execution_id)["status"] == "waiting"  # nothing changed


def test_a_reason_longer_than_a_task_failures_cause_is_cut_not_a_500(api: Client) -> None:
    """SendTaskFailure takes a cause of at most 32,768 characters (issue 11)."""
    deploy(api, paused_workflow("expense", "approval"))
    execution_id = api.start("expense", {"amount": 5000})
    wait = api.paused(execution_id)
    response = api("POST", f"/executions/{execution_id}/reject/{wait['waitId']}",
                   json={"reason": "no " * 20_000})
    assert response.status_code == 200, response.text
    assert api.finished(execution_id)["status"] == "FAILED"
    (run,) = api("GET", f"/executions/{execution_id}/nodes/Hold").json()["items"]
    assert run["error"]["message"].startswith("no no") and len(run["error"]["message"]) \
        <= 4_096
