"""``sfnflow serve`` keeps its state across a restart (local/persistence.py, local/recovery.py):
a restart loses nothing, a crash mid-write loses at most the torn line, one server per
folder, and the journal is compacted at start."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
import requests

from functions.services.workflows import unqualified
from local.cloud import PAYLOAD_BUCKET, REGION, UNDELIVERED, LocalCloud
from local.persistence import (
    JOURNAL,
    JournalCorrupt,
    Persistence,
    StateDirLocked,
    read_journal,
)
from local.serve import LocalPlatform
from tests.conftest import TIME_SCALE
from tests.support.api_client import ApiClient

KEY = "test-key"
TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


class Client(ApiClient):
    key = KEY

    def until(self, what: str, check: Any, seconds: float = 20) -> Any:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            time.sleep(0.02)
        raise AssertionError(f"never: {what}")

    def start(self, workflow: str, user_input: Any = None) -> str:
        response = self("POST", f"/workflows/{workflow}/executions", json={"input": user_input})
        assert response.status_code == 202, response.text
        return str(response.json()["executionId"])

    def paused(self, execution_id: str) -> dict[str, Any]:
        def wait() -> dict[str, Any] | None:
            items = self("GET", f"/executions/{execution_id}/waits").json()["items"]
            return next((w for w in items if w["status"] == "waiting"), None)
        return dict(self.until(f"{execution_id} paused", wait))

    def finished(self, execution_id: str) -> dict[str, Any]:
        def ended() -> dict[str, Any] | None:
            body: dict[str, Any] = self("GET", f"/executions/{execution_id}").json()
            return body if body["status"] in TERMINAL else None
        return dict(self.until(f"{execution_id} ended", ended))

    def executions(self, workflow: str) -> list[dict[str, Any]]:
        return list(self("GET", f"/executions?workflowId={workflow}").json()["items"])


def approval(name: str) -> dict[str, Any]:
    return {"name": name, "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Hold", "type": "wait", "parameters": {"resume": "approval"}},
        {"name": "After", "type": "code",
         "parameters": {"code": "return [dict(i, after=True) for i in items]"}}],
        "connections": [{"from": "Start", "to": "Hold"}, {"from": "Hold", "to": "After"}]}


def ticking(name: str) -> dict[str, Any]:
    return {"name": name, "nodes": [
        {"name": "Tick", "type": "scheduleTrigger",
         "parameters": {"expression": "rate(1 hour)"}},  # fires at creation, then 36 s
        {"name": "Work", "type": "noOp"}],
        "connections": [{"from": "Tick", "to": "Work"}]}


def dead_letter() -> None:
    """A failed asynchronous invocation, as the cloud records one (Lambda's OnFailure)."""
    sqs = boto3.client("sqs", region_name=REGION)
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=UNDELIVERED)["QueueUrl"],
                     MessageBody=json.dumps({
                         "requestContext": {"functionArn": "arn:aws:lambda:us-east-1:"
                                            "123456789012:function:sfnflow-triggers",
                                            "condition": "RetriesExhausted"},
                         "requestPayload": {"kept": True}}))


def test_a_restart_loses_nothing(tmp_path: Path) -> None:
    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE, state_dir=tmp_path) as first:
        api = Client(first.url)
        for document in (approval("expense"), ticking("tick")):
            assert api("POST", "/workflows", json=document).status_code == 201
        assert api("PUT", "/workflows/expense", json=approval("expense")).status_code == 200
        done = api.start("expense", {"amount": 1})
        decided = api.paused(done)
        assert api("POST", f"/executions/{done}/approve/{decided['waitId']}",
                   json={"by": "ada"}).status_code == 200
        assert api.finished(done)["status"] == "SUCCEEDED"
        api.until("its run data complete", lambda: any(  # native runs are recorded last
            e["type"] == "executionFinished"
            for e in api("GET", f"/executions/{done}/events").json()["items"]))
        paused = api.start("expense", {"amount": 2})
        held = api.paused(paused)
        pin = api("PUT", "/workflows/expense/pins/After", json={"items": [{"pinned": 1}]})
        assert pin.status_code == 200, pin.text
        dead_letter()
        ticks = len(api.until("the schedule fired and its run ended", lambda: [
            e for e in api.executions("tick") if e["status"] == "SUCCEEDED"]))
        before = {path: api(*call).json() for path, call in {
            "workflows": ("GET", "/workflows"),
            "versions": ("GET", "/workflows/expense/versions"),
            "done": ("GET", f"/executions/{done}"),
            "pin": ("GET", "/workflows/expense/pins/After"),
            "dead": ("GET", "/admin/dead-letters")}.items()}

    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE, state_dir=tmp_path) as second:
        api = Client(second.url)
        assert second.recovered.resumed == [paused] and second.recovered.failed == []
        assert api("GET", "/workflows").json() == before["workflows"]
        assert api("GET", "/workflows/expense/versions").json() == before["versions"]
        assert api("GET", f"/executions/{done}").json() == before["done"]
        assert api("GET", "/workflows/expense/pins/After").json() == before["pin"]
        dead = api("GET", "/admin/dead-letters").json()["items"]
        assert [d["id"] for d in dead] == [d["id"] for d in before["dead"]["items"]]
        assert dead[0]["payload"] == {"kept": True}

        again = api.paused(paused)  # the same wait, paused again with a fresh token
        assert again["waitId"] == held["waitId"]
        assert api("GET", f"/executions/{paused}").json()["status"] == "WAITING"
        approved = api("POST", f"/executions/{paused}/approve/{again['waitId']}",
                       json={"by": "grace"})
        assert approved.status_code == 200, approved.text
        body = api.finished(paused)
        assert body["status"] == "SUCCEEDED", body
        (after,) = api("GET", f"/executions/{paused}/nodes/After").json()["items"]
        assert after["output"][0] == [{"by": "grace", "after": True}]
        # The schedule was not fired again by the restart (nothing started in moto, whose
        # executions start empty), and fires one period after it (the clock moved ahead).
        scheduler, machine = second.cloud.scheduler, second.cloud.workflows.workflows.get(
            "tick")
        assert machine is not None
        assert scheduler.tick() == []
        assert second.cloud.sfn.list_executions(stateMachineArn=unqualified(
            machine.state_machine_arn))["executions"] == []
        assert len(scheduler.tick(scheduler.now() + timedelta(hours=1))) == 1
        api.until("the schedule fires again", lambda: len(api.executions("tick")) > ticks)
        # an S3 payload and the state machine of version 2 came back too
        assert boto3.client("s3", region_name=REGION).head_bucket(Bucket=PAYLOAD_BUCKET)


def hook(name: str) -> dict[str, Any]:
    return {"name": name, "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Hold", "type": "wait", "parameters": {"resume": "webhook"}},
        {"name": "After", "type": "noOp"}],
        "connections": [{"from": "Start", "to": "Hold"}, {"from": "Hold", "to": "After"}]}


def test_a_resume_url_from_before_a_restart_resumes_the_execution(tmp_path: Path) -> None:
    """The resumed execution pauses its wait again with a new task token; the URL a person
    was sent before the restart still resumes it (signed with the wait's first token)."""
    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE, state_dir=tmp_path) as first:
        api = Client(first.url)
        assert api("POST", "/workflows", json=hook("hook")).status_code == 201
        paused = api.start("hook", {"n": 1})
        held = api.paused(paused)
        parts = urlsplit(held["resumeUrl"])
        sent = f"{parts.path}?{parts.query}"

    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE, state_dir=tmp_path) as second:
        api = Client(second.url)
        assert second.recovered.resumed == [paused]
        again = api.until("paused again", lambda: (wait := api.paused(paused))["createdAt"]
                          != held["createdAt"] and wait)
        assert again["waitId"] == held["waitId"]
        resumed = requests.post(second.url + sent, json={"by": "url"}, timeout=10)
        assert resumed.status_code == 200, resumed.text
        assert api.finished(paused)["status"] == "SUCCEEDED"
        (run,) = api("GET", f"/executions/{paused}/nodes/Hold").json()["items"]
        assert run["output"][0] == [{"by": "url"}]


def test_a_torn_last_line_is_dropped_and_the_rest_restored(tmp_path: Path) -> None:
    with LocalCloud(state_dir=tmp_path) as cloud:
        cloud.s3.put_object(Bucket=PAYLOAD_BUCKET, Key="kept", Body=b"\x00kept")
        cloud.s3.put_object(Bucket=PAYLOAD_BUCKET, Key="torn", Body=b"torn")
    journal = tmp_path / JOURNAL
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join(lines[:-1]) + lines[-1][:25])  # killed mid-write
    with LocalCloud(state_dir=tmp_path) as cloud:
        assert cloud.s3.get_object(Bucket=PAYLOAD_BUCKET, Key="kept")["Body"].read() \
            == b"\x00kept"
        listed = cloud.s3.list_objects_v2(Bucket=PAYLOAD_BUCKET)["Contents"]
        assert [entry["Key"] for entry in listed] == ["kept"]
    assert all(record["key"] != "torn" for record in read_journal(journal))


def test_a_damaged_line_before_the_last_is_refused(tmp_path: Path) -> None:
    (tmp_path / JOURNAL).write_text('{"t":"object"\n{"t":"queue"}\n')
    with pytest.raises(JournalCorrupt, match="line 1"):
        read_journal(tmp_path / JOURNAL)


def test_a_second_server_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    with LocalCloud(state_dir=tmp_path) as cloud:
        cloud.s3.put_object(Bucket=PAYLOAD_BUCKET, Key="mine", Body=b"1")
        with pytest.raises(StateDirLocked, match="one sfnflow serve per folder"):
            Persistence(tmp_path).open()  # what a second process's cloud does first
        cloud.s3.put_object(Bucket=PAYLOAD_BUCKET, Key="still mine", Body=b"2")
    assert [r["key"] for r in read_journal(tmp_path / JOURNAL)] == ["mine", "still mine"]


def test_the_journal_is_compacted_at_start(tmp_path: Path) -> None:
    with LocalCloud(state_dir=tmp_path) as cloud:
        for value in range(20):
            cloud.s3.put_object(Bucket=PAYLOAD_BUCKET, Key="same", Body=str(value).encode())
        cloud.s3.put_object(Bucket=PAYLOAD_BUCKET, Key="gone", Body=b"x")
        cloud.s3.delete_object(Bucket=PAYLOAD_BUCKET, Key="gone")
    assert len(read_journal(tmp_path / JOURNAL)) == 22
    with LocalCloud(state_dir=tmp_path) as cloud:
        assert cloud.s3.get_object(Bucket=PAYLOAD_BUCKET, Key="same")["Body"].read() == b"19"
    assert [record["key"] for record in read_journal(tmp_path / JOURNAL)] == ["same"]
    assert len(list((tmp_path / "objects").iterdir())) == 1


def test_control_plane_calls_are_replayed_and_deletes_compacted(tmp_path: Path) -> None:
    definition = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    role = "arn:aws:iam::123456789012:role/r"
    with LocalCloud(state_dir=tmp_path) as cloud:
        secrets = boto3.client("secretsmanager", region_name=REGION)
        secrets.create_secret(Name="db", SecretString="one")
        secrets.put_secret_value(SecretId="db", SecretString="two")
        secrets.create_secret(Name="old", SecretString="x")
        secrets.delete_secret(SecretId="old", ForceDeleteWithoutRecovery=True)
        cloud.events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop"]}))
        cloud.events.put_targets(Rule="orders", Targets=[{"Id": "t", "Arn": role}])
        cloud.events.put_rule(Name="gone", ScheduleExpression="rate(1 hour)")
        cloud.events.delete_rule(Name="gone")
        arn = cloud.sfn.create_state_machine(name="m", definition=definition, roleArn=role,
                                             publish=True)["stateMachineArn"]
        cloud.sfn.update_state_machine(stateMachineArn=arn, definition=definition,
                                       publish=True)
    with LocalCloud(state_dir=tmp_path) as cloud:
        assert cloud.restored.failed_calls == []
        secrets = boto3.client("secretsmanager", region_name=REGION)
        assert secrets.get_secret_value(SecretId="db")["SecretString"] == "two"
        assert [s["Name"] for s in secrets.list_secrets()["SecretList"]] == ["db"]
        rules = {rule["Name"] for rule in cloud.events.list_rules()["Rules"]}
        assert "orders" in rules and "gone" not in rules
        (target,) = cloud.events.list_targets_by_rule(Rule="orders")["Targets"]
        assert target["Arn"] == role
        assert cloud.sfn.describe_state_machine(stateMachineArn=f"{arn}:2")["name"] == "m"
    calls = [r for r in read_journal(tmp_path / JOURNAL) if r["t"] == "call"]
    assert not any("old" in r["body"] or "gone" in r["body"] for r in calls)
