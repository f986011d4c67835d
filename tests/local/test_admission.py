"""Admission end to end over real HTTP on loopback (``sfnflow serve``'s platform): starts of a
workflow with ``maxConcurrency: 2`` from concurrent threads never run more than two at
once and all finish, queued ones are admitted highest priority first, a queued one shows
``QUEUED`` with its position and can be cancelled, ``GET /admin/queue`` shows the queue,
and a release that never happened is recovered by the reconciler."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from functions.services.admission import Admission
from local.cloud import local_arn
from local.serve import LocalPlatform
from tests.conftest import TIME_SCALE
from tests.local.test_serve import KEY, Client

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def _document(name: str) -> dict[str, Any]:
    """Naps as long as its input's ``seconds`` say."""
    return {
        "name": name,
        "settings": {"maxConcurrency": 2},
        "nodes": [{"name": "Start", "type": "manualTrigger"},
                  {"name": "Nap", "type": "wait",
                   "parameters": {"seconds": "{% $json.seconds %}"}},
                  {"name": "Done", "type": "noOp"}],
        "connections": [{"from": "Start", "to": "Nap"}, {"from": "Nap", "to": "Done"}],
    }


@pytest.fixture(scope="module")
def platform() -> Iterator[LocalPlatform]:
    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE) as local_platform:
        yield local_platform


def _running(platform: LocalPlatform, workflow: str) -> int:
    return len(platform.cloud.sfn.list_executions(
        stateMachineArn=local_arn("states", f"stateMachine:{workflow}"),
        statusFilter="RUNNING")["executions"])


def _ended(api: Client, ids: list[str], seconds: float = 30) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + seconds
    while True:
        views = {i: api("GET", f"/executions/{i}").json() for i in ids}
        if all(view["status"] in TERMINAL for view in views.values()):
            return views
        assert time.monotonic() < deadline, {i: v["status"] for i, v in views.items()}
        time.sleep(0.05)


def test_a_limit_of_two_queues_the_rest_admits_by_priority_and_cancels(
        platform: LocalPlatform) -> None:
    api = Client(platform.url)
    assert api("POST", "/workflows", json=_document("limited")).status_code == 201
    peak, stop = [0], threading.Event()

    def watch() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _running(platform, "limited"))
            time.sleep(0.01)

    def start(priority: str, seconds: float = 20) -> dict[str, Any]:
        answer = api("POST", "/workflows/limited/executions",
                     json={"input": {"seconds": seconds}}, headers={"X-Priority": priority})
        assert answer.status_code == 202, answer.text
        return dict(answer.json())

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        holders = [start("normal", 100_000)["executionId"] for _ in range(2)]
        priorities = ["low", "normal", "high", "normal", "low"]
        with ThreadPoolExecutor(max_workers=4) as pool:  # concurrent starts, all waiting
            answers = list(pool.map(start, priorities))
        assert {a["status"] for a in answers} == {"QUEUED"}
        queued = {a["executionId"]: p for a, p in zip(answers, priorities, strict=True)}
        positions = {i: api("GET", f"/executions/{i}").json()["position"] for i in queued}
        assert sorted(positions.values()) == list(range(1, 6))
        ranked = sorted(queued, key=positions.__getitem__)
        assert [queued[i] for i in ranked] == ["high"] + ["normal"] * 2 + ["low"] * 2

        queue = api("GET", "/admin/queue").json()
        assert queue["byWorkflow"]["limited"] == {"high": 1, "normal": 2, "low": 2}
        assert queue["running"]["limited"] == 2
        assert queue["limits"]["workflows"]["limited"] == 2
        assert queue["oldestWaiting"]["workflowId"] == "limited"

        doomed = ranked[1]  # the first normal: cancelled while queued
        cancelled = api("POST", f"/executions/{doomed}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "ABORTED"
        assert cancelled.json()["error"]["type"] == "Sfnflow.Cancelled"
        assert api("POST", f"/executions/{doomed}/cancel").status_code == 409
        assert api("GET", f"/executions/{ranked[2]}").json()["position"] == 2

        for holder in holders:  # their ends admit the queued ones, two at a time
            assert api("POST", f"/executions/{holder}/cancel").status_code == 200
        rest = [i for i in ranked if i != doomed]
        views = _ended(api, rest)
    finally:
        stop.set()
        watcher.join()
    assert {view["status"] for view in views.values()} == {"SUCCEEDED"}
    assert peak[0] <= 2
    assert sorted(rest, key=lambda i: views[i]["startedAt"]) == rest  # priority, then arrival
    started = platform.cloud.sfn.list_executions(
        stateMachineArn=local_arn("states", "stateMachine:limited"))["executions"]
    assert doomed not in {e["name"] for e in started} and len(started) == 6
    assert api("GET", "/admin/queue").json()["byWorkflow"].get("limited") is None


def test_a_bad_priority_is_a_400(platform: LocalPlatform) -> None:
    api = Client(platform.url)
    api("POST", "/workflows", json=_document("picky"))
    answer = api("POST", "/workflows/picky/executions", json={},
                 headers={"X-Priority": "urgent"})
    assert answer.status_code == 400 and "urgent" in answer.text
    assert api("POST", "/workflows/picky/executions",
               json={"priority": "urgent"}).status_code == 400


def test_a_lost_release_is_recovered_by_the_reconciler(
        platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch) -> None:
    api = Client(platform.url)
    assert api("POST", "/workflows", json=_document("wedged")).status_code == 201
    monkeypatch.setattr(Admission, "on_finished", lambda *args: False)  # every release lost
    monkeypatch.setattr(Admission, "reconcile", lambda *args: {})  # the schedule's too
    holders = [api("POST", "/workflows/wedged/executions",
                   json={"input": {"seconds": 1}}).json() for _ in range(2)]
    waiting = api("POST", "/workflows/wedged/executions",
                  json={"input": {"seconds": 1}}).json()
    _ended(api, [h["executionId"] for h in holders])
    assert api("GET", f"/executions/{waiting['executionId']}").json()["status"] == "QUEUED"
    listed = api("GET", "/executions?status=QUEUED&workflowId=wedged")  # was a 400
    assert listed.status_code == 200, listed.text
    assert [e["id"] for e in listed.json()["items"]] == [waiting["executionId"]]
    monkeypatch.undo()
    platform.cloud.reconcile()  # gives the two slots back and admits the waiting one
    assert _ended(api, [waiting["executionId"]])[waiting["executionId"]]["status"] == \
        "SUCCEEDED"


def test_a_start_with_use_pins_is_admitted(platform: LocalPlatform) -> None:
    """``usePins`` starts go through admission too: beyond the limit they wait QUEUED."""
    api = Client(platform.url)
    assert api("POST", "/workflows", json=_document("pinned")).status_code == 201
    holders = [api("POST", "/workflows/pinned/executions",
                   json={"input": {"seconds": 100_000}}).json()["executionId"]
               for _ in range(2)]
    answer = api("POST", "/workflows/pinned/executions",
                 json={"usePins": True, "input": {"seconds": 0}})
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "QUEUED" and answer.json()["position"] == 1
    urgent = api("POST", "/workflows/pinned/executions", headers={"X-Priority": "high"},
                 json={"usePins": True, "input": {"seconds": 0}})
    assert urgent.json()["position"] == 1, urgent.json()  # its priority: ahead of the first
    for holder in holders:
        assert api("POST", f"/executions/{holder}/cancel").status_code == 200
    queued = [answer.json()["executionId"], urgent.json()["executionId"]]
    assert {e["status"] for e in _ended(api, queued).values()} == {"SUCCEEDED"}
