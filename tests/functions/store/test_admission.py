"""Admission's DynamoDB state (``functions.store.admission``) on moto: each way an admission
transaction can fail maps to its outcome (the cancellation reasons come in pynamodb's
order: deletes, puts, updates), a release happens once, a position counts what is ahead."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from functions.store.admission import STAGE, DynamoAdmissionStore, Outcome, Ticket
from functions.store.models import AdmissionModel, ExecutionModel, bind_tables
from local import moto_patches

ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:w"


@pytest.fixture(scope="module")
def store() -> Iterator[DynamoAdmissionStore]:
    moto_patches.apply_all()  # DynamoDB writes atomic, as in AWS
    with mock_aws():
        bind_tables(prefix="admission-store")
        for model in (AdmissionModel, ExecutionModel):
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        yield DynamoAdmissionStore()


def _queued(store: DynamoAdmissionStore, workflow: str, execution_id: str,
            priority: str = "normal", at: str = "2026-12-03T10:00:00.000001Z") -> Ticket:
    ExecutionModel(execution_id, workflowId=workflow, status="QUEUED", startedAt=at).save()
    ticket = Ticket(workflow, execution_id, priority, at, ARN)
    assert store.enqueue(ticket) is True
    return ticket


def test_admission_outcomes_name_what_refused(store: DynamoAdmissionStore) -> None:
    store.set_limit("w1", 1)
    first = _queued(store, "w1", "e1")
    second = _queued(store, "w1", "e2", at="2026-12-03T10:00:01Z")
    assert store.enqueue(first) is False  # a repeated start queues nothing more
    at = "2026-12-03T10:00:02Z"
    assert store.admit(first, workflow_limited=True, stage_limit=None, at=at) == \
        Outcome.ADMITTED
    assert store.admit(first, workflow_limited=True, stage_limit=None, at=at) == Outcome.GONE
    assert store.admit(second, workflow_limited=True, stage_limit=None, at=at) == \
        Outcome.WORKFLOW_FULL
    store.set_limit(STAGE, 0)
    store.set_limit("w1", 5)
    assert store.admit(second, workflow_limited=True, stage_limit=0, at=at) == \
        Outcome.STAGE_FULL
    assert store.slots("w1").held == 1 and [t.execution_id for t in store.waiting("w1")] == \
        ["e2"]


def test_a_lease_is_released_once(store: DynamoAdmissionStore) -> None:
    store.set_limit("w2", 2)
    ticket = _queued(store, "w2", "r1")
    store.admit(ticket, workflow_limited=True, stage_limit=None, at="2026-12-03T11:00:00Z")
    lease = store.lease("w2", "r1")
    assert lease is not None and lease.workflow_slot and not lease.stage
    assert store.release(lease) is True
    assert store.release(lease) is False
    assert store.slots("w2").held == 0 and store.lease("w2", "r1") is None


def test_positions_follow_priority_then_arrival(store: DynamoAdmissionStore) -> None:
    low = _queued(store, "w3", "p1", "low", "2026-12-03T12:00:00Z")
    normal = _queued(store, "w3", "p2", "normal", "2026-12-03T12:00:01Z")
    high = _queued(store, "w3", "p3", "high", "2026-12-03T12:00:02Z")
    later_high = _queued(store, "w3", "p4", "high", "2026-12-03T12:00:03Z")
    assert [store.position(t.entry, "w3") for t in (high, later_high, normal, low)] == \
        [1, 2, 3, 4]
    assert store.remove("w3", normal.entry) is True and store.remove("w3", normal.entry) is False
    assert store.position(low.entry, "w3") == 3
    assert store.marker("p1") == {"priority": "low", "entry": low.entry,
                                  "queuedAt": low.queued_at}
