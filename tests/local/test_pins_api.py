"""Pin data, pinned runs and retention through the REST API, over real HTTP on loopback
against ``sfnflow serve``'s platform (and ``sfnflow prune`` against it)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests
from typer.testing import CliRunner

from functions.store.models import ExecutionModel, NodeCacheModel
from functions.store.repository import Execution, NodeRun
from local.cli import app as cli
from local.serve import LocalPlatform
from tests.conftest import TIME_SCALE, HttpApi
from tests.local.test_serve import KEY, Client

PINNED_ORDERS = [{"orders": [{"id": 7, "total": 10.0, "paid": True}]}]


@pytest.fixture
def platform() -> Iterator[LocalPlatform]:
    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE) as local_platform:
        yield local_platform


@pytest.fixture
def api(platform: LocalPlatform) -> Client:
    return Client(platform.url)


def shop(url: str, name: str = "shop", trigger: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "nodes": [
            trigger or {"name": "Start", "type": "manualTrigger"},
            {"name": "Fetch orders", "type": "httpRequest", "parameters": {"url": url}},
            {"name": "Split", "type": "splitOut", "parameters": {"field": "orders"}},
            {"name": "Tag", "type": "set", "parameters": {"values": {"seen": True}}},
            {"name": "Total", "type": "code", "parameters": {
                "code": "return [{'orders': len(items), "
                        "'total': sum(i['total'] for i in items)}]"}},
        ],
        "connections": [
            {"from": (trigger or {"name": "Start"})["name"], "to": "Fetch orders"},
            {"from": "Fetch orders", "to": "Split"}, {"from": "Split", "to": "Tag"},
            {"from": "Tag", "to": "Total"},
        ],
    }


FETCH = "/workflows/shop/pins/" + quote("Fetch orders")


def statuses(execution: dict[str, Any]) -> dict[str, str]:
    return {run["node"]: run["status"] for run in execution["nodeRuns"]}


# ------------------------------------------------------------------ pins


def test_pin_history_and_rollback(api: Client, http_api: HttpApi) -> None:
    assert api("POST", "/workflows", json=shop(f"{http_api.url}/orders")).status_code == 201
    assert api("GET", FETCH).status_code == 404  # not pinned yet

    first = api("PUT", FETCH, json={"items": [{"v": 1}]})
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 1 and first.json()["changed"] is True
    assert api("PUT", FETCH, json={"items": [{"v": 2}]}).json()["version"] == 2
    again = api("PUT", FETCH, json={"items": [{"v": 2}]}).json()
    assert again["version"] == 2 and again["changed"] is False

    current = api("GET", FETCH).json()
    assert current["version"] == 2 and current["items"] == [{"v": 2}]
    history = api("GET", FETCH + "/versions").json()
    assert history["current"] == 2
    assert [(v["version"], v["itemCount"]) for v in history["items"]] == [(2, 1), (1, 1)]

    rolled = api("POST", FETCH + "/rollback", json={"version": 1})
    assert rolled.status_code == 200, rolled.text
    assert rolled.json()["version"] == 3
    assert rolled.json()["source"] == {"kind": "rollback", "version": 1}
    assert api("GET", FETCH).json()["items"] == [{"v": 1}]
    assert api("POST", FETCH + "/rollback", json={"version": 99}).status_code == 404

    assert api("DELETE", FETCH).status_code == 204
    assert api("GET", FETCH).status_code == 404
    assert api("DELETE", FETCH).status_code == 404
    assert [v["version"] for v in api("GET", FETCH + "/versions").json()["items"]] == [3, 2, 1]


def test_unknown_bad_native_and_too_large_pins(api: Client, http_api: HttpApi) -> None:
    api("POST", "/workflows", json=shop(f"{http_api.url}/orders"))
    for path in ("/workflows/nope/pins/Split", "/workflows/shop/pins/Ghost",
                 "/workflows/shop/pins/Ghost/versions"):
        response = api("GET", path)
        assert response.status_code == 404 and response.json()["error"]["type"] == "NotFound"
    assert api("PUT", "/workflows/shop/pins/Ghost", json={"items": []}).status_code == 404

    bad = api("PUT", FETCH, json={"items": "not a list"})
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "BadRequest"

    native = api("PUT", "/workflows/shop/pins/Tag", json={"items": [{"x": 1}]})
    assert native.status_code == 400
    error = native.json()["error"]
    assert error["type"] == "NodeNotPinnable" and error["details"][0]["node"] == "Tag"
    assert "native" in error["message"] and "retry" in error["message"]

    noise = os.urandom(300_000).hex()  # incompressible: over a DynamoDB item compressed
    large = api("PUT", FETCH, json={"items": [{"blob": noise}]})
    assert large.status_code == 413, large.text
    assert large.json()["error"]["type"] == "PinTooLarge"
    assert "Fetch orders" in large.json()["error"]["message"]
    assert api("GET", FETCH + "/versions").json()["items"] == []


# ------------------------------------------------------------------ runs


def test_pinned_and_live_nodes_in_one_run(api: Client, http_api: HttpApi) -> None:
    api("POST", "/workflows", json=shop(f"{http_api.url}/orders"))
    api("PUT", FETCH, json={"items": PINNED_ORDERS})

    pinned = api("POST", "/workflows/shop/executions?wait=true", json={"usePins": True})
    assert pinned.status_code == 200, pinned.text
    assert pinned.json()["items"] == [{"orders": 1, "total": 10.0}]
    execution = api.wait_status(pinned.json()["executionId"], "SUCCEEDED",
                                runs_of=("Split", "Tag", "Total"))
    assert statuses(execution) == {"Start": "success", "Fetch orders": "pinned",
                                   "Split": "success", "Tag": "success", "Total": "success"}
    assert http_api.hits["/orders"] == 0  # the pinned node did not run

    live = api("POST", "/workflows/shop/executions?wait=true", json={}).json()
    assert live["items"] == [{"orders": 4, "total": 445.5}]  # API starts ignore pins
    assert http_api.hits["/orders"] == 1

    both = api("POST", "/workflows/shop/executions", json={
        "usePins": True, "startNodes": ["Split"], "fromExecution": live["executionId"]})
    assert both.status_code == 400 and "usePins" in both.text


def test_an_execution_keeps_the_pin_version_it_started_with(platform: LocalPlatform,
                                                            api: Client,
                                                            http_api: HttpApi) -> None:
    api("POST", "/workflows", json=shop(f"{http_api.url}/orders"))
    api("PUT", FETCH, json={"items": PINNED_ORDERS})
    from functions.api.pins import pin_service

    execution = pin_service().start("shop", None)
    assert execution.pin_versions == {"Fetch orders": 1}
    platform.cloud.repository.put_pin("shop", "Fetch orders", [{"orders": []}])  # version 2
    finished = api.wait_status(execution.execution_id, "SUCCEEDED")
    runs = api("GET", f"/executions/{finished['id']}/nodes/{quote('Fetch orders')}").json()
    assert runs["items"][0]["status"] == "pinned"
    assert runs["items"][0]["output"] == [PINNED_ORDERS]


def test_production_triggers_ignore_pins(platform: LocalPlatform, api: Client,
                                         http_api: HttpApi) -> None:
    hook = {"name": "Hook", "type": "webhook", "parameters": {"path": "shop-in"}}
    api("POST", "/workflows", json=shop(f"{http_api.url}/orders", trigger=hook))
    api("PUT", FETCH, json={"items": PINNED_ORDERS})
    response = requests.post(platform.url + "/webhook/shop-in", json={}, timeout=10)
    assert response.status_code == 202
    execution = api.wait_status(response.json()["executionId"], "SUCCEEDED")
    assert statuses(execution)["Fetch orders"] == "success"
    assert http_api.hits["/orders"] == 1


def test_pin_a_node_from_a_past_execution(api: Client, http_api: HttpApi) -> None:
    api("POST", "/workflows", json=shop(f"{http_api.url}/orders"))
    live = api("POST", "/workflows/shop/executions?wait=true", json={}).json()
    api.wait_status(live["executionId"], "SUCCEEDED")
    path = f"/executions/{live['executionId']}/nodes/{quote('Fetch orders')}/pin"
    pinned = api("POST", path)
    assert pinned.status_code == 200, pinned.text
    assert pinned.json()["source"] == {"kind": "execution",
                                       "executionId": live["executionId"]}
    assert api("GET", FETCH).json()["items"][0]["orders"][0]["id"] == 1

    again = api("POST", "/workflows/shop/executions?wait=true", json={"usePins": True})
    assert again.json()["items"] == live["items"]
    assert http_api.hits["/orders"] == 1  # replayed from the pin, not fetched

    assert api("POST", f"/executions/nope/nodes/{quote('Fetch orders')}/pin") \
        .status_code == 404
    assert api("POST", f"/executions/{live['executionId']}/nodes/Ghost/pin").status_code == 404


# ------------------------------------------------------------------ retention


def _old_execution(platform: LocalPlatform, execution_id: str, started_at: str) -> None:
    repository = platform.cloud.repository
    repository.create_execution(Execution(execution_id, "shop", "SUCCEEDED", started_at))
    repository.record_node_run(NodeRun(execution_id, "Start", "manualTrigger", "success",
                                       started_at, started_at, 1, output=[[{"a": 1}]]))


def test_prune_deletes_old_and_expired_run_data(platform: LocalPlatform, api: Client) -> None:
    _old_execution(platform, "ancient", "2020-01-01T00:00:00.000Z")
    _old_execution(platform, "recent", time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()))
    running = Execution("running", "shop", "RUNNING", "2020-01-01T00:00:00.000Z")
    platform.cloud.repository.create_execution(running)
    NodeCacheModel(cacheKey="k", workflowId="shop", node="N", encoding="json",
                   payload="[]", executionId="e", createdAt="2020", expiresAt=1).save()
    runner = CliRunner()
    args = ["prune", "--url", platform.url, "--api-key", KEY]

    result = runner.invoke(cli, [*args, "--older-than", "30"])
    assert result.exit_code == 0, result.output
    printed = " ".join(result.output.split())
    assert "1 executions" in printed and "1 node-runs" in printed
    assert "1 node-cache" in printed
    repository = platform.cloud.repository
    assert repository.get_execution("ancient") is None
    assert repository.node_runs("ancient") == []
    assert repository.get_execution("recent") is not None
    assert repository.get_execution("running") is not None  # never while it runs

    ExecutionModel.get("recent").update(actions=[ExecutionModel.expiresAt.set(1)])
    expired = api("POST", "/admin/prune", json={})
    assert expired.status_code == 200, expired.text
    assert expired.json()["deleted"]["executions"] == 1
    assert repository.get_execution("recent") is None
    assert runner.invoke(cli, args).output.startswith("deleted before")
    wrong_key = runner.invoke(cli, ["prune", "--url", platform.url, "--api-key", "nope"])
    assert wrong_key.exit_code == 1 and "HTTP 403" in wrong_key.output


def test_prune_skips_tables_it_may_not_scan(platform: LocalPlatform,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError
    from pynamodb.exceptions import ScanError

    from functions.store.retention import RetentionStore

    def denied(*_args: object, **_kwargs: object) -> None:
        cause = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}},
                            "Scan")
        raise ScanError("Failed to scan table", cause)

    monkeypatch.setattr(NodeCacheModel, "scan", denied)
    result = RetentionStore().prune()
    assert "node-cache" in result["skipped"]
