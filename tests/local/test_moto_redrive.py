"""RedriveExecution in the embedded cloud (``local/moto_redrive.py``), on tiny ASL machines:
the failed top-level state runs again from its entry input and variables, under the same
ARN, with the history continued; AWS's refusals are kept."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local import moto_patches, moto_redrive
from local.cloud import LocalCloud
from tests.conftest import TIME_SCALE

ROLE = "arn:aws:iam::123456789012:role/test"
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:"


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(time_scale=TIME_SCALE) as local_cloud:
        yield local_cloud


class Flaky:
    """A Lambda handler that fails its first ``failures`` calls, then echoes its event."""

    def __init__(self, failures: int = 1) -> None:
        self.failures = failures
        self.events: list[Any] = []

    def __call__(self, event: Any, context: Any) -> Any:
        self.events.append(event)
        if len(self.events) <= self.failures:
            raise RuntimeError(f"attempt {len(self.events)} failed")
        return {"echo": event}


def start(cloud: LocalCloud, states: dict[str, Any], first: str, payload: Any) -> str:
    machine = cloud.sfn.create_state_machine(
        name=f"redrive-{time.monotonic_ns()}", roleArn=ROLE, definition=json.dumps(
            {"QueryLanguage": "JSONata", "StartAt": first, "States": states}),
    )["stateMachineArn"]
    return str(cloud.sfn.start_execution(stateMachineArn=machine, name="run",
                                         input=json.dumps(payload))["executionArn"])


def settled(cloud: LocalCloud, arn: str) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while (described := cloud.sfn.describe_execution(executionArn=arn))["status"] == \
            "RUNNING":
        assert time.monotonic() < deadline, "execution still running"
        time.sleep(0.002)
    return described


def history(cloud: LocalCloud, arn: str) -> list[dict[str, Any]]:
    return list(cloud.sfn.get_execution_history(executionArn=arn)["events"])


def entered(events: list[dict[str, Any]]) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in events
            if "stateEnteredEventDetails" in e]


def pass_then_task(function: str) -> dict[str, Any]:
    return {
        "Prepare": {"Type": "Pass", "Assign": {"before": "{% $states.input.n + 1 %}"},
                    "Output": {"m": "{% $states.input.n * 10 %}"}, "Next": "Call"},
        "Call": {"Type": "Task", "Resource": LAMBDA + function,
                 "Arguments": "{% $states.input %}",
                 "Output": "{% {'result': $states.result, 'before': $before,"
                           " 'redrives': $states.context.Execution.RedriveCount} %}",
                 "End": True},
    }


def test_only_the_failed_state_runs_again_under_the_same_arn(cloud: LocalCloud) -> None:
    flaky = Flaky()
    moto_patches.register_lambda("redrive-flaky", flaky)
    arn = start(cloud, pass_then_task("redrive-flaky"), "Prepare", {"n": 1})
    failed = settled(cloud, arn)
    assert failed["status"] == "FAILED" and failed["redriveCount"] == 0
    assert failed["redriveStatus"] == "REDRIVABLE"

    answer = cloud.sfn.redrive_execution(executionArn=arn)
    done = settled(cloud, arn)

    assert done["status"] == "SUCCEEDED" and done["executionArn"] == arn
    assert done["name"] == "run" and done["redriveCount"] == 1
    assert done["redriveDate"] == answer["redriveDate"]
    assert json.loads(done["output"]) == {"result": {"echo": {"m": 10}}, "before": 2,
                                          "redrives": 1}
    assert flaky.events == [{"m": 10}, {"m": 10}]  # the Task's entry input, twice
    events = history(cloud, arn)
    assert entered(events) == ["Prepare", "Call", "Call"]  # Prepare ran once
    kinds = [e["type"] for e in events]
    assert kinds.count("ExecutionStarted") == 1 and kinds[-1] == "ExecutionSucceeded"
    redriven = kinds.index("ExecutionRedriven")
    assert kinds[redriven - 1] == "ExecutionFailed"
    assert events[redriven]["executionRedrivenEventDetails"] == {"redriveCount": 1}
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert len(cloud.sfn.list_executions(
        stateMachineArn=done["stateMachineArn"])["executions"]) == 1


def test_a_redrive_is_announced_as_a_start_and_an_end(cloud: LocalCloud) -> None:
    moto_patches.register_lambda("redrive-announced", Flaky())
    arn = start(cloud, pass_then_task("redrive-announced"), "Prepare", {"n": 2})
    settled(cloud, arn)
    heard: list[str] = []
    both = threading.Event()

    def listener(execution_arn: str) -> None:
        heard.append(execution_arn)
        if heard.count(arn) == 2:
            both.set()

    remove = moto_patches.on_execution_change(listener)
    try:
        cloud.sfn.redrive_execution(executionArn=arn)
        assert both.wait(5)
    finally:
        remove()
    assert settled(cloud, arn)["status"] == "SUCCEEDED"


def test_a_failure_inside_a_parallel_reruns_the_whole_state(cloud: LocalCloud) -> None:
    """AWS reruns only the failed branch; this subset reruns the top-level Parallel whole."""
    steady, flaky = Flaky(failures=0), Flaky()
    moto_patches.register_lambda("redrive-steady", steady)
    moto_patches.register_lambda("redrive-branch", flaky)

    def branch(function: str) -> dict[str, Any]:
        return {"StartAt": "B", "States": {"B": {
            "Type": "Task", "Resource": LAMBDA + function, "Arguments": {"k": function},
            "End": True}}}

    arn = start(cloud, {"Both": {"Type": "Parallel", "End": True, "Branches": [
        branch("redrive-steady"), branch("redrive-branch")]}}, "Both", {})
    assert settled(cloud, arn)["status"] == "FAILED"
    cloud.sfn.redrive_execution(executionArn=arn)
    assert settled(cloud, arn)["status"] == "SUCCEEDED"
    assert len(steady.events) == 2 and len(flaky.events) == 2


def test_a_second_failure_can_be_redriven_again(cloud: LocalCloud) -> None:
    moto_patches.register_lambda("redrive-twice", Flaky(failures=2))
    arn = start(cloud, pass_then_task("redrive-twice"), "Prepare", {"n": 3})
    settled(cloud, arn)
    cloud.sfn.redrive_execution(executionArn=arn)
    again = settled(cloud, arn)
    assert again["status"] == "FAILED" and again["redriveCount"] == 1
    cloud.sfn.redrive_execution(executionArn=arn)
    done = settled(cloud, arn)
    assert done["status"] == "SUCCEEDED" and done["redriveCount"] == 2
    assert json.loads(done["output"])["redrives"] == 2


def test_a_repeated_client_token_is_the_same_redrive(cloud: LocalCloud) -> None:
    flaky = Flaky()
    moto_patches.register_lambda("redrive-token", flaky)
    arn = start(cloud, pass_then_task("redrive-token"), "Prepare", {"n": 4})
    settled(cloud, arn)
    first = cloud.sfn.redrive_execution(executionArn=arn, clientToken="token-1")
    settled(cloud, arn)
    repeated = cloud.sfn.redrive_execution(executionArn=arn, clientToken="token-1")
    assert repeated["redriveDate"] == first["redriveDate"]
    assert settled(cloud, arn)["redriveCount"] == 1 and len(flaky.events) == 2


def refused(cloud: LocalCloud, arn: str) -> str:
    with pytest.raises(ClientError) as raised:
        cloud.sfn.redrive_execution(executionArn=arn)
    assert raised.value.response["Error"]["Code"] == "ExecutionNotRedrivable"
    return str(raised.value.response["Error"]["Message"])


def test_succeeded_and_running_executions_are_refused(cloud: LocalCloud) -> None:
    release = threading.Event()

    def waiting(event: Any, context: Any) -> Any:
        release.wait(5)
        return event

    moto_patches.register_lambda("redrive-waiting", waiting)
    done = start(cloud, {"Only": {"Type": "Pass", "End": True}}, "Only", {})
    assert settled(cloud, done)["redriveStatus"] == "NOT_REDRIVABLE"
    assert "SUCCEEDED" in refused(cloud, done)
    running = start(cloud, {"Wait": {"Type": "Task", "Resource": LAMBDA + "redrive-waiting",
                                     "End": True}}, "Wait", {})
    try:
        assert "RUNNING" in refused(cloud, running)
    finally:
        release.set()
    settled(cloud, running)


def test_unknown_executions_do_not_exist(cloud: LocalCloud) -> None:
    with pytest.raises(ClientError) as raised:
        cloud.sfn.redrive_execution(
            executionArn="arn:aws:states:us-east-1:123456789012:execution:nope:none")
    assert raised.value.response["Error"]["Code"] in {"ExecutionDoesNotExist",
                                                      "StateMachineDoesNotExist"}


def test_the_redrivable_period_is_14_days() -> None:
    stopped = datetime(2026, 1, 1, tzinfo=UTC)
    execution = SimpleNamespace(
        state_machine=SimpleNamespace(type="STANDARD"), stop_date=stopped,
        exec_status=SimpleNamespace(value="FAILED"),
        exec_worker=SimpleNamespace(env=SimpleNamespace(_sfnflow_resume=object())))
    assert moto_redrive.refusal(execution, stopped + timedelta(days=13)) is None
    assert "period" in str(moto_redrive.refusal(execution, stopped + timedelta(days=15)))
    execution.state_machine.type = "EXPRESS"
    assert "Express" in str(moto_redrive.refusal(execution, stopped))
