"""n8n's Schedule Trigger, Error Trigger and Execute Workflow (Trigger) end to end on the
embedded cloud, each on sfnflow's own machinery: a Scheduler schedule fired by the local
scheduler, the error router, a child execution."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from compiler import compile_project, compile_workflow
from compiler.project import load_project
from functions.services.error_router import error_execution_name
from local.cloud import LocalCloud
from local.scheduler import LocalScheduler
from local.serve import deployment_order

BASE = "n8n-nodes-base."
T0 = datetime(2026, 6, 1, 8, 59, 30, tzinfo=UTC)


def node(name: str, kind: str, version: float = 1, **parameters: Any) -> dict[str, Any]:
    return {"name": name, "type": BASE + kind, "typeVersion": version, "position": [0, 0],
            "parameters": parameters}


def n8n(name: str, *nodes: dict[str, Any], **settings: Any) -> dict[str, Any]:
    connections = {a["name"]: {"main": [[{"node": b["name"], "type": "main", "index": 0}]]}
                   for a, b in zip(nodes, nodes[1:], strict=False)}
    return {"name": name, "nodes": list(nodes), "connections": connections,
            "settings": {"executionOrder": "v1", **settings}}


def wait_for(cloud: LocalCloud, workflow: str, name: str) -> str:
    """The status of an execution a schedule started, once it ended."""
    arn = cloud._state_machines[workflow].replace(":stateMachine:", ":execution:") + ":" + name
    deadline = time.monotonic() + 30
    while (status := cloud.sfn.describe_execution(executionArn=arn)["status"]) == "RUNNING" \
            and time.monotonic() < deadline:
        time.sleep(0.02)
    return str(status)


def first_output(cloud: LocalCloud, execution_id: str, node_name: str) -> list[Any]:
    (run,) = [run for run in cloud.repository.node_runs(execution_id) if run.node == node_name]
    assert run.output is not None
    return [item["json"] for item in run.output[0]]


def test_a_schedule_trigger_fires_on_its_cron_with_n8ns_item(cloud: LocalCloud) -> None:
    rule = {"interval": [{"field": "days", "triggerAtHour": 11, "triggerAtMinute": 0}]}
    cloud.deploy(compile_workflow(n8n("daily", node("Tick", "scheduleTrigger", 1.2, rule=rule),
                                      node("Work", "noOp"), timezone="Europe/Berlin")))
    (listed,) = cloud.scheduler_client.list_schedules()["Schedules"]
    schedule = cloud.scheduler_client.get_schedule(Name=listed["Name"])
    assert schedule["ScheduleExpression"] == "cron(0 11 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Berlin"
    clock = LocalScheduler(cloud.scheduler_client, cloud.sfn)
    clock.tick(T0)  # 10:59:30 in Berlin
    (fired,) = clock.tick(T0 + timedelta(seconds=30))  # 11:00 CEST
    assert wait_for(cloud, "daily", fired) == "SUCCEEDED"
    (item,) = first_output(cloud, fired, "Work")
    assert item == {
        "timestamp": "2026-06-01T11:00:00.000+02:00",
        "Readable date": "June 1st 2026, 11:00:00 am", "Readable time": "11:00:00 am",
        "Day of week": "Monday", "Year": "2026", "Month": "June", "Day of month": "01",
        "Hour": "11", "Minute": "00", "Second": "00",
        "Timezone": "Europe/Berlin (UTC+02:00)"}


def test_an_n8n_error_workflow_gets_n8ns_error_item(cloud: LocalCloud) -> None:
    cloud.deploy(compile_workflow(n8n("on-error", node("Failed", "errorTrigger"),
                                      node("Notify", "noOp"))))
    failing = compile_workflow(n8n(
        "fragile", node("Start", "manualTrigger"),
        node("Boom", "stopAndError", errorMessage="out of paper"), errorWorkflow="on-error"))
    assert failing.manifest["tags"]["sfnflow:errorWorkflow"] == "on-error"
    failed = cloud.wait(cloud.start(failing, None))
    assert failed.status == "FAILED"
    name = error_execution_name(failed.execution_id)
    finished = cloud.wait(name)
    assert finished.status == "SUCCEEDED", finished.cause
    (item,) = first_output(cloud, name, "Notify")
    assert list(item) == ["execution", "workflow"]
    execution = item["execution"]
    assert list(execution) == ["id", "url", "error", "lastNodeExecuted", "mode"]
    assert execution["id"] == failed.execution_id
    assert execution["error"] == {"message": "out of paper"}
    assert execution["lastNodeExecuted"] == "Boom"
    assert item["workflow"] == {"id": "fragile", "name": "fragile"}


def test_execute_workflow_runs_the_child_with_the_items_and_outputs_its_items(
        cloud: LocalCloud, tmp_path: Path) -> None:
    child = n8n("Child flow", node("Called", "executeWorkflowTrigger", 1.1,
                                   inputSource="passthrough"),
                node("Double", "code", 2, jsCode="return $input.all().map(i => "
                     "({json: {n: i.json.n * 2}}));"))
    locator = {"__rl": True, "value": "Xy12Ab", "mode": "list", "cachedResultName": "Child flow"}
    parent = n8n("parent", node("Start", "manualTrigger"),
                 node("Make", "code", 2, jsCode="return [{json: {n: 1}}, {json: {n: 2}}];"),
                 node("Call", "executeWorkflow", 1.2, workflowId=locator, options={}),
                 node("After", "noOp"))
    # Exported files side by side, found as `sfnflow run parent.json` and `serve` find them.
    (tmp_path / "parent.json").write_text(json.dumps(parent))
    (tmp_path / "child.json").write_text(json.dumps(child))
    project = compile_project(load_project(tmp_path / "parent.json"))
    assert set(project) == {"parent", "Child-flow"}
    assert [d["name"] for d in deployment_order([parent, child])] == ["Child flow", "parent"]
    cloud.deploy_project(project)
    execution_id = cloud.start(project["parent"], None)
    finished = cloud.wait(execution_id)
    assert finished.status == "SUCCEEDED", finished.cause
    assert first_output(cloud, execution_id, "After") == [{"n": 2}, {"n": 4}]
    children = cloud.sfn.list_executions(
        stateMachineArn=cloud._state_machines["Child-flow"])["executions"]
    (child_run,) = children
    envelope = json.loads(cloud.sfn.describe_execution(
        executionArn=child_run["executionArn"])["input"])
    assert [item["json"] for item in envelope["items"]] == [{"n": 1}, {"n": 2}]
