"""n8n's Wait node lowers to a native Wait state (no Lambda) and runs on the embedded cloud:
fixed amounts as Seconds, fixed moments as a UTC Timestamp, one field of the first item as
JSONata, webhook as sfnflow's paused Task; its items come out paired to their positions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from compiler import compile_workflow
from compiler.errors import WorkflowInvalid
from compiler.n8n.catalogue import N8N_TYPES
from compiler.n8n.wait import N8N_WAIT, WAIT_VALUE_ERROR
from compiler.n8n.wait_params import COMPUTED, N8nWaitParams, node_type
from compiler.nodetypes import NODE_TYPES
from functions.services.waits import WaitService
from functions.store.waits import WaitRepository
from local.cloud import LocalCloud
from tests.conftest import TIME_SCALE

BASE = "n8n-nodes-base."


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    """One embedded cloud for the module's runs (each run is its own execution)."""
    with LocalCloud(time_scale=TIME_SCALE) as local_cloud:
        yield local_cloud


def workflow(wait: dict[str, Any], items: list[Any] | None = None,
             timezone: str | None = None, version: float = 1.1) -> dict[str, Any]:
    """Start -> Data (test items) -> Wait -> Done (NoOp), as n8n exports it."""
    nodes = [
        {"name": "Start", "type": BASE + "manualTrigger", "typeVersion": 1, "parameters": {}},
        {"name": "Data", "type": "n8n-nodes-testing.testData", "typeVersion": 1,
         "parameters": {"data": items if items is not None else [{"a": 1}, {"a": 2}]}},
        {"name": "Wait", "type": N8N_WAIT, "typeVersion": version, "parameters": wait},
        {"name": "Done", "type": BASE + "noOp", "typeVersion": 1, "parameters": {}},
    ]
    chain = ["Start", "Data", "Wait", "Done"]
    document: dict[str, Any] = {
        "name": "wait", "nodes": nodes, "settings": {"executionOrder": "v1"},
        "connections": {a: {"main": [[{"node": b, "type": "main", "index": 0}]]}
                        for a, b in zip(chain, chain[1:], strict=False)}}
    if timezone:
        document["settings"]["timezone"] = timezone
    return document


def wait_state(document: dict[str, Any]) -> dict[str, Any]:
    definition = compile_workflow(document).definition
    states = _all_states(definition)
    return states["Wait"]


def _all_states(definition: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, state in definition.get("States", {}).items():
        found[name] = state
        for branch in state.get("Branches", []):
            found.update(_all_states(branch))
        if "ItemProcessor" in state:
            found.update(_all_states(state["ItemProcessor"]))
    return found


def test_compiler_nodetypes_builds_the_wait_from_the_catalogue() -> None:
    assert NODE_TYPES[N8N_WAIT].lowering == "wait"
    assert NODE_TYPES[N8N_WAIT].params is node_type(N8N_TYPES[N8N_WAIT]).params


def test_a_fixed_amount_is_a_native_wait_state() -> None:
    state = wait_state(workflow({"amount": 1.5, "unit": "minutes"}))
    assert state["Type"] == "Wait" and state["Seconds"] == 90


def test_a_fixed_moment_is_a_utc_timestamp_in_the_workflow_zone() -> None:
    state = wait_state(workflow({"resume": "specificTime", "dateTime": "2030-01-15T08:30:00"},
                                timezone="Europe/Berlin", version=1))
    assert state["Type"] == "Wait" and state["Timestamp"] == "2030-01-15T07:30:00Z"


def test_only_a_fixed_amount_bounds_the_node_in_time() -> None:
    def bound(parameters: dict[str, Any]) -> Any:
        return N8nWaitParams.model_validate({"typeVersion": 1.1,
                                             "parameters": parameters}).seconds

    assert bound({"amount": 3}) == 3
    assert bound({"amount": "={{ $json.s }}"}) == COMPUTED
    assert bound({"resume": "specificTime", "dateTime": "2030-01-01T00:00:00Z"}) == COMPUTED


def test_refusals_name_node_and_field() -> None:
    with pytest.raises(WorkflowInvalid) as invalid:
        compile_workflow(workflow({"resume": "form"}))
    assert [(p.node, p.field) for p in invalid.value.problems] == [("Wait", "parameters.resume")]


def test_webhook_is_a_paused_task() -> None:
    state = wait_state(workflow({"resume": "webhook"}))
    assert state["Type"] == "Task" and state["Resource"].endswith("waitForTaskToken")
    assert state["Arguments"]["Payload"]["wait"]["mode"] == "webhook"


def run(cloud: LocalCloud, document: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(status, node runs by node) of one run of ``document``."""
    execution_id = cloud.start(compile_workflow(document))
    cloud.wait(execution_id)
    execution = cloud.repository.get_execution(execution_id)
    assert execution is not None
    return execution.status, {r.node: r for r in cloud.repository.node_runs(execution_id)}


def test_a_wait_runs_natively_and_passes_its_items_paired(cloud: LocalCloud) -> None:
    status, runs = run(cloud, workflow({"amount": 2, "unit": "seconds"}))
    assert status == "SUCCEEDED"
    assert runs["Wait"].output == [[{"json": {"a": 1}, "pairedItem": {"item": 0}},
                                    {"json": {"a": 2}, "pairedItem": {"item": 1}}]]
    assert [item["json"] for item in runs["Done"].output[0]] == [{"a": 1}, {"a": 2}]


def test_one_item_stays_a_list_of_one(cloud: LocalCloud) -> None:
    status, runs = run(cloud, workflow({"amount": 1, "unit": "seconds"}, items=[{"a": 1}]))
    assert status == "SUCCEEDED"  # JSONata unwraps a one-element result: the state wraps it
    assert runs["Wait"].output == [[{"json": {"a": 1}, "pairedItem": {"item": 0}}]]
    assert runs["Done"].output == [[{"json": {"a": 1}, "pairedItem": {"item": 0}}]]


def test_a_field_of_the_first_item_gives_the_time(cloud: LocalCloud) -> None:
    items = [{"delay": "1.5"}, {"delay": 999}]
    status, runs = run(cloud, workflow({"amount": "={{ $json.delay }}"}, items))
    assert status == "SUCCEEDED" and len(runs["Done"].output[0]) == 2
    status, _ = run(cloud, workflow({"amount": "={{ $json.m > 1 ? $json.m / 2 : 1 }}"},
                                    [{"m": 3}]))
    assert status == "SUCCEEDED"
    moment = [{"at": "2020-01-01T00:00:00+02:00"}]
    status, _ = run(cloud, workflow({"resume": "specificTime", "dateTime": "={{ $json.at }}"},
                                    moment, timezone="Europe/Berlin", version=1))
    assert status == "SUCCEEDED"


@pytest.mark.parametrize("delay", ["soon", 400 * 86400])
def test_a_field_outside_the_exact_domain_fails_naming_the_node(cloud: LocalCloud,
                                                                 delay: Any) -> None:
    execution_id = cloud.start(compile_workflow(workflow({"amount": "={{ $json.delay }}"},
                                                         [{"delay": delay}])))
    finished = cloud.wait(execution_id)
    failed = [e for e in finished.history if e["type"] == "ExecutionFailed"]
    assert failed and failed[0]["executionFailedEventDetails"]["error"] == WAIT_VALUE_ERROR
    assert "'Wait'" in failed[0]["executionFailedEventDetails"]["cause"]


def test_a_webhook_wait_pauses_until_its_signed_url_is_called(cloud: LocalCloud) -> None:
    execution_id = cloud.start(compile_workflow(workflow({"resume": "webhook"})))
    service = WaitService(cloud.sfn, cloud.repository, WaitRepository(), cloud.config)
    deadline = time.monotonic() + 30
    views: list[dict[str, Any]] = []
    while not views and time.monotonic() < deadline:
        views = [v for v in service.views(execution_id) if "resumeUrl" in v]
        time.sleep(0.02)
    (view,) = views
    assert view["node"] == "Wait" and view["mode"] == "webhook"
    signature = parse_qs(urlsplit(view["resumeUrl"]).query)["sig"][0]
    service.resume(execution_id, view["waitId"], signature, {"approved": True})
    cloud.wait(execution_id)
    runs = {r.node: r for r in cloud.repository.node_runs(execution_id)}
    assert [item["json"] for item in runs["Done"].output[0]] == [{"approved": True}]
