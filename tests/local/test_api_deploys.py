"""What the API deploys is what AWS accepts, and looks like what the stack deploys (issue
10): API-created machines log and trace like the stack's (item 2), their names fit Step
Functions' 80 characters (item 19), and event triggers listen only on buses the platform
may put rules on (item 9). Over HTTP on loopback, against ``sfnflow serve``'s platform."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local.cloud import LOCAL_EVENT_BUS, LOCAL_MACHINE_LOG_GROUP
from local.serve import LocalPlatform
from tests.conftest import TIME_SCALE

KEY = "test-key"
LONG_PREFIX = "sfnflow-abcdefghijklmnopqrst-"  # a 20-character stage: 29 characters


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalPlatform]:
    monkeypatch.setenv("SFNFLOW_STATE_MACHINE_PREFIX", LONG_PREFIX)
    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE) as local_platform:
        yield local_platform


def call(platform: LocalPlatform, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, platform.url + path, headers={"x-api-key": KEY},
                            timeout=30, **kwargs)


def workflow(name: str = "logged", **extra_nodes: Any) -> dict[str, Any]:
    return {"name": name, "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Same", "type": "noOp"}, *extra_nodes.get("nodes", [])],
        "connections": [{"from": "Start", "to": "Same"}]}


def on_bus(bus: str, name: str = "on-order") -> dict[str, Any]:
    return {"name": name, "nodes": [
        {"name": "Order placed", "type": "eventTrigger",
         "parameters": {"eventBus": bus, "pattern": {"source": ["shop.orders"]}}},
        {"name": "Same", "type": "noOp"}],
        "connections": [{"from": "Order placed", "to": "Same"}]}


def test_api_created_machines_log_and_trace_like_the_stacks(platform: LocalPlatform) -> None:
    created = call(platform, "POST", "/workflows", json=workflow())
    assert created.status_code == 201, created.text
    sfn = platform.cloud.sfn
    arn = platform.cloud.config.state_machine_arn("logged")
    expected_logging = {"level": "ALL", "includeExecutionData": False, "destinations": [
        {"cloudWatchLogsLogGroup": {"logGroupArn": platform.cloud.config.arn(
            "logs", f"log-group:{LOCAL_MACHINE_LOG_GROUP}:*")}}]}
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["loggingConfiguration"] == expected_logging
    assert described["tracingConfiguration"] == {"enabled": True}
    # The same as the stack's machines (cdk/sfnflow_cdk/state_machines.py): ALL, no data.
    updated = call(platform, "PUT", "/workflows/logged", json=workflow())
    assert updated.status_code == 200, updated.text
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["loggingConfiguration"] == expected_logging
    assert described["tracingConfiguration"] == {"enabled": True}


def test_a_name_too_long_for_step_functions_is_a_400_naming_the_workflow(
        platform: LocalPlatform) -> None:
    fits = "w" * (80 - len(LONG_PREFIX))
    too_long = "w" * (81 - len(LONG_PREFIX))
    refused = call(platform, "POST", "/workflows", json=workflow(too_long))
    assert refused.status_code == 400, refused.text
    (problem,) = refused.json()["error"]["details"]
    assert problem["field"] == "name" and problem["code"] == "name_too_long"
    assert too_long in problem["message"] and "80" in problem["message"]
    assert platform.cloud.sfn.list_state_machines()["stateMachines"] == []
    accepted = call(platform, "POST", "/workflows", json=workflow(fits))
    assert accepted.status_code == 201, accepted.text
    (machine,) = platform.cloud.sfn.list_state_machines()["stateMachines"]
    assert len(machine["name"]) == 80


def test_an_event_trigger_on_a_foreign_bus_is_a_400_naming_node_and_field(
        platform: LocalPlatform) -> None:
    platform.cloud.events.create_event_bus(Name="shop")  # exists, but no role may use it
    refused = call(platform, "POST", "/workflows", json=on_bus("shop"))
    assert refused.status_code == 400, refused.text
    (problem,) = refused.json()["error"]["details"]
    assert (problem["node"], problem["field"], problem["code"]) == \
        ("Order placed", "parameters.eventBus", "event_bus")
    assert "'shop'" in problem["message"] and f"'{LOCAL_EVENT_BUS}'" in problem["message"]
    by_arn = on_bus("arn:aws:events:us-east-1:123456789012:event-bus/shop", "by-arn")
    assert call(platform, "POST", "/workflows", json=by_arn).status_code == 400
    assert platform.cloud.sfn.list_state_machines()["stateMachines"] == []
    # The stage's own bus and the default bus are fine, and their rules are created.
    for bus, name in ((LOCAL_EVENT_BUS, "on-stage-bus"), ("default", "on-default")):
        created = call(platform, "POST", "/workflows", json=on_bus(bus, name))
        assert created.status_code == 201, created.text
        rules = platform.cloud.events.list_rules(EventBusName=bus,
                                                 NamePrefix=LONG_PREFIX + name)["Rules"]
        assert len(rules) == 1
    # EventBridge rule (and Scheduler schedule) names: at most 64 characters, even for a
    # workflow whose machine name takes all 80, and still under the stage's prefix.
    from functions.services.triggers import trigger_name

    longest = "w" * (80 - len(LONG_PREFIX))
    names = {trigger_name(platform.cloud.config, longest, node) for node in ("A", "B")}
    assert len(names) == 2
    assert all(len(n) <= 64 and n.startswith(LONG_PREFIX) for n in names)



def versioned(output: str) -> dict[str, Any]:
    return {"name": "versioned", "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Mark", "type": "set", "parameters": {"values": {"v": output},
                                                      "keepOnlySet": True}}],
        "connections": [{"from": "Start", "to": "Mark"}]}


def test_executions_start_on_the_version_each_deploy_published(
        platform: LocalPlatform) -> None:
    """UpdateStateMachine is eventually consistent (a start right after it may run the
    previous definition); a published version is immutable: the API starts on it."""
    machine = platform.cloud.config.state_machine_arn("versioned")
    assert call(platform, "POST", "/workflows", json=versioned("one")).status_code == 201
    assert call(platform, "GET", "/workflows/versioned").json()["stateMachineArn"] == \
        f"{machine}:1"
    assert call(platform, "PUT", "/workflows/versioned",
                json=versioned("two")).status_code == 200
    assert call(platform, "GET", "/workflows/versioned").json()["stateMachineArn"] == \
        f"{machine}:2"
    started = call(platform, "POST", "/workflows/versioned/executions", json={})
    assert started.status_code in (200, 201, 202), started.text
    execution_id = started.json()["executionId"]
    # The execution belongs to the machine: its ARN and stateMachineArn are unqualified.
    execution_arn = machine.replace(":stateMachine:", ":execution:") + f":{execution_id}"
    deadline = time.monotonic() + 20
    while (described := platform.cloud.sfn.describe_execution(executionArn=execution_arn))[
            "status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert described["status"] == "SUCCEEDED", described.get("cause")
    assert described["stateMachineArn"] == machine
    assert json.loads(described["output"])["Mark"]  # ran to the end
    # The final status is recorded before the native nodes' runs, which are read from
    # the history after it (ExecutionService.on_status_change): wait for Mark's run.
    deadline = time.monotonic() + 20
    while (output := platform.cloud.repository.node_output(execution_id, "Mark")) is None \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    assert output == [[{"v": "two"}]]


def test_old_versions_are_deleted_so_the_quota_is_never_reached(
        platform: LocalPlatform) -> None:
    from functions.services.workflows import KEPT_VERSIONS

    machine = platform.cloud.config.state_machine_arn("versioned")
    call(platform, "POST", "/workflows", json=versioned("0"))
    updates = KEPT_VERSIONS + 2
    for number in range(updates):
        assert call(platform, "PUT", "/workflows/versioned",
                    json=versioned(str(number))).status_code == 200
    latest = updates + 1
    kept = {n for n in range(1, latest + 1)
            if _version_exists(platform, f"{machine}:{n}")}
    assert kept == set(range(latest - KEPT_VERSIONS + 1, latest + 1))


def _version_exists(platform: LocalPlatform, arn: str) -> bool:
    try:
        platform.cloud.sfn.describe_state_machine(stateMachineArn=arn)
    except platform.cloud.sfn.exceptions.StateMachineDoesNotExist:
        return False
    return True


# --------------------------------------------------------------------------- complete or
# roll back (issue 11): a deploy that fails part-way leaves nothing it created behind.


def _machines(platform: LocalPlatform) -> list[str]:
    return [m["name"] for m in platform.cloud.sfn.list_state_machines()["stateMachines"]]


def test_a_record_too_large_for_dynamodb_is_refused_before_the_machine_is_made(
        platform: LocalPlatform) -> None:
    big = versioned("one") | {"description": "d" * 450_000}
    refused = call(platform, "POST", "/workflows", json=big)
    assert refused.status_code == 413, refused.text
    assert "409,600" in refused.json()["error"]["message"]
    assert _machines(platform) == []  # no orphan
    # The same name deploys afterwards, with its own definition (not an orphan's).
    assert call(platform, "POST", "/workflows", json=versioned("two")).status_code == 201
    machine = platform.cloud.config.state_machine_arn("versioned")
    definition = platform.cloud.sfn.describe_state_machine(
        stateMachineArn=machine)["definition"]
    assert '\\"two\\"' in definition and '\\"one\\"' not in definition
    assert call(platform, "PUT", "/workflows/versioned", json=big).status_code == 413
    assert call(platform, "GET", "/workflows/versioned").json()["version"] == 1


def hooked_on_bus(bus: str, name: str = "on-order") -> dict[str, Any]:
    """An event trigger and a webhook: activation puts the webhook route first."""
    document = on_bus(bus, name)
    document["nodes"].append({"name": "Hook", "type": "webhook",
                              "parameters": {"path": f"{name}-hook"}})
    document["connections"].append({"from": "Hook", "to": "Same"})
    return document


def test_an_event_trigger_on_a_missing_bus_is_a_400_and_nothing_is_left(
        platform: LocalPlatform) -> None:
    """The stage's bus is allowed but gone: PutRule fails after the state machine, the
    record and the webhook route were made; all three are removed again."""
    platform.cloud.events.delete_event_bus(Name=LOCAL_EVENT_BUS)
    refused = call(platform, "POST", "/workflows", json=hooked_on_bus(LOCAL_EVENT_BUS))
    assert refused.status_code == 400, refused.text
    (problem,) = refused.json()["error"]["details"]
    assert (problem["node"], problem["field"], problem["code"]) == \
        ("Order placed", "parameters.eventBus", "unknown_event_bus")
    assert _machines(platform) == []
    assert call(platform, "GET", "/workflows/on-order").status_code == 404
    assert call(platform, "GET", "/workflows").json()["items"] == []
    assert requests.post(platform.url + "/webhook/on-order-hook", json={},
                         timeout=10).status_code == 404
    # Once the bus exists the same request succeeds: not a 409 from a half-made deploy.
    platform.cloud.events.create_event_bus(Name=LOCAL_EVENT_BUS)
    created = call(platform, "POST", "/workflows", json=hooked_on_bus(LOCAL_EVENT_BUS))
    assert created.status_code == 201, created.text


def test_an_update_that_fails_to_activate_leaves_the_previous_version_running(
        platform: LocalPlatform) -> None:
    assert call(platform, "POST", "/workflows",
                json=hooked_on_bus("default")).status_code == 201
    machine = platform.cloud.config.state_machine_arn("on-order")
    before = platform.cloud.sfn.describe_state_machine(stateMachineArn=machine)["definition"]
    platform.cloud.events.delete_event_bus(Name=LOCAL_EVENT_BUS)
    changed = hooked_on_bus(LOCAL_EVENT_BUS)
    refused = call(platform, "PUT", "/workflows/on-order", json=changed)
    assert refused.status_code == 400, refused.text
    current = call(platform, "GET", "/workflows/on-order").json()
    assert (current["version"], current["stateMachineArn"]) == (1, f"{machine}:1")
    assert platform.cloud.sfn.describe_state_machine(
        stateMachineArn=machine)["definition"] == before
    assert not _version_exists(platform, f"{machine}:2")
    rules = platform.cloud.events.list_rules(EventBusName="default",
                                             NamePrefix=LONG_PREFIX + "on-order")["Rules"]
    assert len(rules) == 1  # the previous version's rule is back
    assert requests.post(platform.url + "/webhook/on-order-hook", json={},
                         timeout=10).status_code == 202


def test_activating_with_a_missing_bus_leaves_the_workflow_inactive_and_untriggered(
        platform: LocalPlatform) -> None:
    created = call(platform, "POST", "/workflows?active=false",
                   json=hooked_on_bus(LOCAL_EVENT_BUS))
    assert created.status_code == 201, created.text
    platform.cloud.events.delete_event_bus(Name=LOCAL_EVENT_BUS)
    assert call(platform, "POST", "/workflows/on-order/activate").status_code == 400
    assert call(platform, "GET", "/workflows/on-order").json()["active"] is False
    from functions.store.workflows import WorkflowRepository

    assert WorkflowRepository().webhook("POST", "on-order-hook") is None  # route removed
