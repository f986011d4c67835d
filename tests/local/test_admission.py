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


def _document(name: str, seconds: float) -> dict[str, Any]:
    return {
        "name": name,
        "settings": {"maxConcurrency": 2},
        "nodes": [{"name": "Start", "type": "manualTrigger"},
                  {"name": "Nap", "type": "wait", "parameters": {"seconds": seconds}},
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


def test_concurrent_starts_run_two_at_a_time_all_finish_by_priority(
        platform: LocalPlatform) -> None:
    api = Client(platform.url)
    assert api("POST", "/workflows", json=_document("limited", 50)).status_code == 201
    peak, stop = [0], threading.Event()

    def watch() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _running(platform, "limited"))
            time.sleep(0.01)

    def start(priority: str) -> str:
        return str(api("POST", "/workflows/limited/executions",
                       json={"priority": priority}).json()["executionId"])

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        holders = [start("normal"), start("normal")]
        priorities = ["low", "normal", "high", "low", "normal", "high"]
        with ThreadPoolExecutor(max_workers=4) as pool:
            queued = dict(zip(pool.map(start, priorities), priorities, strict=True))
        views = _ended(api, [*holders, *queued])
    finally:
        stop.set()
        watcher.join()
    assert {view["status"] for view in views.values()} == {"SUCCEEDED"}
    assert peak[0] <= 2
    by_start = sorted(queued, key=lambda i: views[i]["startedAt"])
    assert [queued[i] for i in by_start] == ["high"] * 2 + ["normal"] * 2 + ["low"] * 2


def test_queued_executions_show_their_position_and_cancel(platform: LocalPlatform) -> None:
    api = Client(platform.url)
    assert api("POST", "/workflows", json=_document("held", 100_000)).status_code == 201
    holders = [api("POST", "/workflows/held/executions", json={}).json()["executionId"]
               for _ in range(2)]
    high = api("POST", "/workflows/held/executions", json={},
               headers={"X-Priority": "high"}).json()
    low = api("POST", "/workflows/held/executions", json={"priority": "low"}).json()
    normal = api("POST", "/workflows/held/executions", json={}).json()
    assert [high["status"], high["position"]] == ["QUEUED", 1]
    assert (normal["position"], low["position"]) == (2, 2)  # low was 2nd, normal got ahead
    view = api("GET", f"/executions/{low['executionId']}").json()
    assert view["status"] == "QUEUED" and view["position"] == 3

    queue = api("GET", "/admin/queue").json()
    assert queue["byWorkflow"]["held"] == {"high": 1, "normal": 1, "low": 1}
    assert queue["running"]["held"] == 2 and queue["limits"]["workflows"]["held"] == 2
    assert queue["oldestWaiting"]["executionId"] == high["executionId"]

    cancelled = api("POST", f"/executions/{normal['executionId']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "ABORTED"
    assert cancelled.json()["error"]["type"] == "Sfnflow.Cancelled"
    assert api("POST", f"/executions/{normal['executionId']}/cancel").status_code == 409
    assert api("GET", f"/executions/{low['executionId']}").json()["position"] == 2

    for execution_id in holders:  # their ends admit high, then low
        assert api("POST", f"/executions/{execution_id}/cancel").status_code == 200
    deadline = time.monotonic() + 10
    while api("GET", f"/executions/{low['executionId']}").json()["status"] != "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    for execution_id in (high["executionId"], low["executionId"]):
        assert api("POST", f"/executions/{execution_id}/cancel").status_code == 200
    started = platform.cloud.sfn.list_executions(
        stateMachineArn=local_arn("states", "stateMachine:held"))["executions"]
    assert normal["executionId"] not in {e["name"] for e in started}
    assert len(started) == 4


def test_a_bad_priority_is_a_400(platform: LocalPlatform) -> None:
    api = Client(platform.url)
    api("POST", "/workflows", json=_document("picky", 1))
    answer = api("POST", "/workflows/picky/executions", json={},
                 headers={"X-Priority": "urgent"})
    assert answer.status_code == 400 and "urgent" in answer.text
    assert api("POST", "/workflows/picky/executions",
               json={"priority": "urgent"}).status_code == 400


def test_a_lost_release_is_recovered_by_the_reconciler(
        platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch) -> None:
    api = Client(platform.url)
    assert api("POST", "/workflows", json=_document("wedged", 5)).status_code == 201
    monkeypatch.setattr(Admission, "on_finished", lambda *args: False)  # every release lost
    monkeypatch.setattr(Admission, "reconcile", lambda *args: {})  # the schedule's too
    holders = [api("POST", "/workflows/wedged/executions", json={}).json()
               for _ in range(2)]
    waiting = api("POST", "/workflows/wedged/executions", json={}).json()
    _ended(api, [h["executionId"] for h in holders])
    assert api("GET", f"/executions/{waiting['executionId']}").json()["status"] == "QUEUED"
    monkeypatch.undo()
    platform.cloud.reconcile()  # gives the two slots back and admits the waiting one
    assert _ended(api, [waiting["executionId"]])[waiting["executionId"]]["status"] == \
        "SUCCEEDED"
