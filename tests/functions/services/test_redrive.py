"""Step Functions' redrive rules (AWS's, checked before the call) and the service on the
embedded cloud (``local/moto_redrive.py``'s RedriveExecution)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from compiler import compile_workflow
from functions.services.redrive import (
    ExecutionNotRedrivable,
    ExecutionRedrive,
    client_token,
    redrive_refusal,
)
from local.cloud import LocalCloud
from tests.conftest import TIME_SCALE

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
ARN = "arn:aws:states:us-east-1:1:execution:sfnflow-dev-orders:e-1"


def described(**fields: Any) -> dict[str, Any]:
    return {"executionArn": ARN, "status": "FAILED", "startDate": NOW - timedelta(hours=2),
            "stopDate": NOW - timedelta(hours=1)} | fields


@pytest.mark.parametrize(("title", "execution", "machine_type", "reason"), [
    ("failed", described(), "STANDARD", None),
    ("timed out", described(status="TIMED_OUT"), "STANDARD", None),
    ("aborted, 13 days ago", described(status="ABORTED", stopDate=NOW - timedelta(days=13)),
     "STANDARD", None),
    ("succeeded", described(status="SUCCEEDED"), "STANDARD", "SUCCEEDED"),
    ("running", described(status="RUNNING", stopDate=None), "STANDARD", "RUNNING"),
    ("express", described(), "EXPRESS", "Standard only"),
    ("15 days ago", described(stopDate=NOW - timedelta(days=15)), "STANDARD", "14 days"),
    ("open over a year", described(startDate=NOW - timedelta(days=366)), "STANDARD",
     "one year"),
    ("a Distributed Map child",
     described(executionArn="arn:aws:states:us-east-1:1:execution:m/run-1:child"),
     "STANDARD", "redrive its parent"),
    ("AWS says no", described(redriveStatus="NOT_REDRIVABLE",
                              redriveStatusReason="Execution history event limit exceeded"),
     "STANDARD", "history event limit"),
])
def test_redrive_rules(title: str, execution: dict[str, Any], machine_type: str,
                       reason: str | None) -> None:
    refusal = redrive_refusal(execution, machine_type, NOW)
    if reason is None:
        assert refusal is None, title
    else:
        assert refusal is not None and reason in refusal, title


def test_one_client_token_per_redrive() -> None:
    assert client_token(ARN, 0) == client_token(ARN, 0) != client_token(ARN, 1)
    assert len(client_token(ARN, 0)) <= 64  # RedriveExecution's limit


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(time_scale=TIME_SCALE) as local_cloud:
        yield local_cloud


def run(cloud: LocalCloud, name: str, code: str) -> str:
    document = {"name": name, "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Work", "type": "code", "parameters": {"code": code}}],
        "connections": [{"from": "Start", "to": "Work"}]}
    return cloud.wait(cloud.start(compile_workflow(document), [{"n": 1}])).execution_arn


def test_a_failed_execution_is_redriven_under_its_arn(cloud: LocalCloud) -> None:
    failed = run(cloud, "jam", "raise ValueError('paper jam')")
    answer = ExecutionRedrive(cloud.sfn).redrive(failed)
    assert answer["executionArn"] == failed and answer["redriveCount"] == 0
    deadline = datetime.now(UTC) + timedelta(seconds=5)
    while (described := cloud.sfn.describe_execution(executionArn=failed))["status"] == \
            "RUNNING" and datetime.now(UTC) < deadline:
        time.sleep(0.002)
    assert described["status"] == "FAILED"  # the same jam, once more
    assert described["redriveCount"] == 1


def test_a_succeeded_execution_is_not_redriven(cloud: LocalCloud) -> None:
    done = run(cloud, "fine", "return items")
    with pytest.raises(ExecutionNotRedrivable, match="SUCCEEDED"):
        ExecutionRedrive(cloud.sfn).redrive(done)
