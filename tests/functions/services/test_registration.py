"""The stack's workflows in the registry (issue 10, item 3): the registration custom
resource's Create / Update / Delete on moto, idempotent, and ``LocalCloud.deploy`` going
through the same code, so the API knows stack workflows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from compiler import compile_workflow
from functions.handlers import registration as handler
from functions.services.registration import on_event, registration_properties
from functions.services.triggers import trigger_name
from functions.store.repository import Execution
from local import moto_patches
from local.cloud import LocalCloud
from local.serve import LocalPlatform
from tests.conftest import TIME_SCALE
from tests.local.test_serve import KEY, Client

HOOKED = {"name": "hooked", "nodes": [
    {"name": "Hook", "type": "webhook", "parameters": {"path": "orders/new"}},
    {"name": "Nightly", "type": "scheduleTrigger",
     "parameters": {"expression": "cron(0 2 * * ? *)"}},
    {"name": "Work", "type": "noOp"}],
    "connections": [{"from": "Hook", "to": "Work"}, {"from": "Nightly", "to": "Work"}]}


def stack_machine(cloud: LocalCloud, document: dict[str, Any]) -> tuple[Any, str]:
    """A state machine as the stack deploys it (no registry involved)."""
    compiled = compile_workflow(document)
    arn = cloud.sfn.create_state_machine(
        name=cloud.config.state_machine_name(compiled.name),
        definition=compiled.definition_json({
            "NodeRunnerArn": cloud.config.node_runner_arn or "",
            "MergeQuorumTable": cloud.config.merge_quorum_table,
            "Partition": cloud.config.partition}),
        roleArn=cloud.config.state_machine_role_arn or "")["stateMachineArn"]
    return compiled, arn


def request(kind: str, compiled: Any, arn: str, physical: str | None = None) -> dict[str, Any]:
    """What the provider framework passes the handler (CloudFormation's request)."""
    body: dict[str, Any] = {"RequestType": kind, "LogicalResourceId": "Registration",
                            "ResourceType": "Custom::SfnflowWorkflow",
                            "ResourceProperties": {"ServiceToken": "arn:token",
                                                   **registration_properties(compiled, arn)}}
    if physical is not None:
        body["PhysicalResourceId"] = physical
    return body


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = handler.lambda_handler(
        event, moto_patches.InvokeContext("sfnflow-registration"))
    return result


def schedules(cloud: LocalCloud) -> list[str]:
    return [s["Name"] for s in cloud.scheduler_client.list_schedules()["Schedules"]]


@pytest.fixture
def registering(cloud: LocalCloud) -> Iterator[LocalCloud]:
    handler._workflows.cache_clear()
    yield cloud
    handler._workflows.cache_clear()


def test_create_registers_and_activates_idempotently(registering: LocalCloud) -> None:
    cloud = registering
    compiled, arn = stack_machine(cloud, HOOKED)
    for _ in range(2):  # CloudFormation may send a request again
        answer = invoke(request("Create", compiled, arn))
        assert answer == {"PhysicalResourceId": "hooked",
                          "Data": {"Version": "1", "Active": "true"}}
    record = cloud.workflows.get("hooked")
    assert record.version == 1 and record.active and record.state_machine_arn == arn
    assert record.document == HOOKED
    assert record.manifest == {**compiled.manifest, "deployedBy": "stack"}
    assert cloud.workflows.workflows.webhook_owner("POST", "orders/new") == "hooked"
    assert schedules(cloud) == [trigger_name(cloud.config, "hooked", "Nightly")]


def test_update_makes_a_version_and_delete_forgets_all_but_run_data(
        registering: LocalCloud) -> None:
    cloud = registering
    compiled, arn = stack_machine(cloud, HOOKED)
    invoke(request("Create", compiled, arn))
    moved = json.loads(json.dumps(HOOKED))
    moved["nodes"][0]["parameters"]["path"] = "orders/created"
    changed = compile_workflow(moved)
    for _ in range(2):
        assert invoke(request("Update", changed, arn, "hooked"))["Data"]["Version"] == "2"
    registry = cloud.workflows.workflows
    assert registry.webhook_owner("POST", "orders/new") is None
    assert registry.webhook_owner("POST", "orders/created") == "hooked"
    assert [v["version"] for v in registry.versions("hooked")] == [2, 1]

    cloud.repository.create_execution(Execution("run-1", "hooked", "SUCCEEDED",
                                                "2026-06-01T09:00:00.000Z"))
    for _ in range(2):
        assert invoke(request("Delete", changed, arn, "hooked")) == {
            "PhysicalResourceId": "hooked"}
    assert registry.get("hooked") is None
    assert registry.webhook_owner("POST", "orders/created") is None
    assert schedules(cloud) == []
    assert cloud.repository.get_execution("run-1") is not None  # run data stays
    # CloudFormation deletes the machine itself; the registry never does.
    assert cloud.sfn.describe_state_machine(stateMachineArn=arn)["name"] == "hooked"


def test_a_deactivated_workflow_stays_inactive_across_updates(registering: LocalCloud) -> None:
    cloud = registering
    compiled, arn = stack_machine(cloud, HOOKED)
    on_event(request("Create", compiled, arn), cloud.workflows)
    cloud.workflows.set_active("hooked", False)
    assert schedules(cloud) == []
    on_event(request("Update", compiled, arn, "hooked"), cloud.workflows)
    assert schedules(cloud) == [] and not cloud.workflows.get("hooked").active


def test_local_deploy_registers_like_the_stack(cloud: LocalCloud) -> None:
    cloud.deploy(compile_workflow(HOOKED))
    record = cloud.workflows.get("hooked")
    assert record.document == HOOKED and record.version == 1
    assert cloud.workflows.workflows.webhook_owner("POST", "orders/new") == "hooked"


def test_the_api_knows_a_stack_workflow() -> None:
    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE) as platform:
        api = Client(platform.url)
        platform.cloud.deploy(compile_workflow(HOOKED))
        found = api("GET", "/workflows/hooked")
        assert found.status_code == 200, found.text
        assert found.json()["active"] is True
        again = api("POST", "/workflows", json=HOOKED)
        assert again.status_code == 409, again.text
        # CloudFormation owns its machine: the API may pause it, not change or delete it.
        for method in ("PUT", "DELETE"):
            refused = api(method, "/workflows/hooked", json=HOOKED)
            assert refused.status_code == 409 and "deployed with the stack" in refused.text
        assert api("POST", "/workflows/hooked/deactivate").status_code == 200
        assert api("GET", "/workflows/hooked").json()["active"] is False


def test_a_create_that_fails_to_activate_leaves_no_record_or_trigger(
        registering: LocalCloud) -> None:
    """CloudFormation then reports the resource FAILED and rolls back; nothing of the
    half-made registration stays active (issue 11)."""
    from compiler.errors import WorkflowInvalid
    from local.cloud import LOCAL_EVENT_BUS

    cloud = registering
    document = json.loads(json.dumps(HOOKED))
    document["nodes"].append({"name": "Ordered", "type": "eventTrigger", "parameters": {
        "eventBus": LOCAL_EVENT_BUS, "pattern": {"source": ["shop"]}}})
    document["connections"].append({"from": "Ordered", "to": "Work"})
    compiled, arn = stack_machine(cloud, document)
    cloud.events.delete_event_bus(Name=LOCAL_EVENT_BUS)
    with pytest.raises(WorkflowInvalid):
        invoke(request("Create", compiled, arn))
    assert cloud.workflows.workflows.get("hooked") is None
    assert cloud.workflows.workflows.webhook_owner("POST", "orders/new") is None
    assert schedules(cloud) == []
