"""Admission (``functions.services.admission`` on ``functions.store.admission``) on moto's
DynamoDB, with a Step Functions that only records what it is asked to start: limits hold
under concurrent starts, priority then arrival decides who is admitted, a release happens
once, a cancelled execution never starts, the reconciler gives back a lost slot."""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from functions.services.admission import (
    InvalidPriority,
    Policy,
    parse_priority,
    policy_of,
)
from functions.services.executions import ExecutionService
from functions.store.admission import STAGE, DynamoAdmissionStore, Outcome
from functions.store.repository import RunRepository
from local.cloud import LocalCloud
from tests.conftest import TIME_SCALE

ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:{}"
_ids = itertools.count()


class RecordingSfn:
    """StartExecution refuses a name it has seen (as Step Functions does); nothing runs."""

    def __init__(self, fail: set[str] | None = None) -> None:
        self.started: list[str] = []
        self.stopped: list[str] = []
        self.fail = fail or set()
        self._lock = threading.Lock()

    def start_execution(self, stateMachineArn: str, name: str, input: str) -> dict[str, Any]:  # noqa: A002, N803
        with self._lock:
            if name in self.fail:
                raise RuntimeError("Step Functions is down")
            if name in self.started:
                raise ClientError({"Error": {"Code": "ExecutionAlreadyExists",
                                             "Message": name}}, "StartExecution")
            self.started.append(name)
        machine = stateMachineArn.replace(":stateMachine:", ":execution:")
        return {"executionArn": f"{machine}:{name}"}

    def stop_execution(self, executionArn: str, **_: Any) -> None:  # noqa: N803
        self.stopped.append(executionArn)


@pytest.fixture(scope="module")
def local() -> Iterator[LocalCloud]:
    with LocalCloud(time_scale=TIME_SCALE) as cloud:
        yield cloud


def _service(local: LocalCloud, sfn: RecordingSfn | None = None,
             stage: int | None = None) -> ExecutionService:
    repository = RunRepository(dataclasses.replace(local.config, global_concurrency=stage),
                               s3_client=local.s3)
    return ExecutionService(sfn or RecordingSfn(), repository)


def _workflow() -> str:
    return f"wf{next(_ids)}"


def _start(service: ExecutionService, workflow: str, policy: Policy | None,
           label: str = "") -> str:
    return service.start(workflow, ARN.format(workflow), {"label": label},
                         mode="api", admission=policy).execution_id


def _finish(service: ExecutionService, workflow: str, execution_id: str) -> None:
    service.repository.record_execution_status(execution_id, "SUCCEEDED",
                                               stopped_at="2026-12-03T00:00:00Z")
    service.admission.on_finished(execution_id, workflow)


def _status(service: ExecutionService, execution_id: str) -> str:
    execution = service.repository.get_execution(execution_id)
    assert execution is not None
    return execution.status


def test_policy_reads_settings_and_a_start_overrides_the_priority() -> None:
    document = {"settings": {"maxConcurrency": 3, "priority": "low"}}
    assert policy_of(document) == Policy(3, "low")
    assert policy_of(document, "HIGH") == Policy(3, "high")
    assert policy_of({}) == Policy(None, "normal")
    assert parse_priority("") is None
    with pytest.raises(InvalidPriority):
        parse_priority("urgent")


def test_without_a_limit_nothing_is_queued_and_no_admission_state_is_written(
        local: LocalCloud) -> None:
    service, workflow = _service(local), _workflow()
    execution_id = _start(service, workflow, Policy(None))
    assert _status(service, execution_id) == "RUNNING"
    assert DynamoAdmissionStore().slots(workflow).limit is None
    assert service.admission.on_finished(execution_id, workflow) is False


def test_starts_beyond_the_limit_wait_queued_with_their_position(local: LocalCloud) -> None:
    sfn = RecordingSfn()
    service, workflow = _service(local, sfn), _workflow()
    ids = [_start(service, workflow, Policy(2)) for _ in range(5)]
    assert sfn.started == ids[:2]
    assert [_status(service, i) for i in ids] == ["RUNNING"] * 2 + ["QUEUED"] * 3
    queued = [service.repository.get_execution(i) for i in ids[2:]]
    assert [service.admission.position(e) for e in queued if e] == [1, 2, 3]
    assert DynamoAdmissionStore().slots(workflow).held == 2


def test_an_end_admits_the_next_by_priority_then_arrival(local: LocalCloud) -> None:
    sfn = RecordingSfn()
    service, workflow = _service(local, sfn), _workflow()
    holder = _start(service, workflow, Policy(1))
    low = _start(service, workflow, Policy(1, "low"))
    normal_1 = _start(service, workflow, Policy(1, "normal"))
    high = _start(service, workflow, Policy(1, "high"))
    normal_2 = _start(service, workflow, Policy(1, "normal"))
    order = [holder]
    for _ in range(4):
        _finish(service, workflow, order[-1])
        order.append(sfn.started[-1])
    assert order == [holder, high, normal_1, normal_2, low]
    assert sfn.started == order  # each started exactly once


def test_a_repeated_release_admits_one_execution_not_two(local: LocalCloud) -> None:
    sfn = RecordingSfn()
    service, workflow = _service(local, sfn), _workflow()
    first, second, third = (_start(service, workflow, Policy(1)) for _ in range(3))
    _finish(service, workflow, first)
    service.admission.on_finished(first, workflow)  # the status change delivered again
    assert sfn.started == [first, second]
    assert _status(service, third) == "QUEUED"
    assert DynamoAdmissionStore().slots(workflow).held == 1


def test_concurrent_starts_never_exceed_the_limit_and_all_start_once(
        local: LocalCloud) -> None:
    sfn = RecordingSfn()
    service, workflow = _service(local, sfn), _workflow()
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(lambda _: _start(service, workflow, Policy(3)), range(6)))
    assert len(sfn.started) == 3
    finished: set[str] = set()
    while len(finished) < len(ids):
        running = [i for i in sfn.started if i not in finished]
        assert len(running) <= 3
        with ThreadPoolExecutor(max_workers=3) as pool:  # ends race each other's admissions
            list(pool.map(lambda i: _finish(service, workflow, i), running))
        finished.update(running)
    assert sorted(sfn.started) == sorted(ids)
    assert DynamoAdmissionStore().slots(workflow).held == 0


def test_a_cancelled_queued_execution_is_never_started(local: LocalCloud) -> None:
    sfn = RecordingSfn()
    service, workflow = _service(local, sfn), _workflow()
    holder, doomed, after = (_start(service, workflow, Policy(1)) for _ in range(3))
    execution = service.repository.get_execution(doomed)
    assert execution is not None and service.admission.cancel(execution) is True
    assert service.admission.cancel(execution) is False  # off the queue already
    recorded = service.repository.get_execution(doomed)
    assert recorded is not None and recorded.status == "ABORTED"
    assert recorded.error and recorded.error["type"] == "Sfnflow.Cancelled"
    _finish(service, workflow, holder)
    assert sfn.started == [holder, after]


def test_a_start_that_fails_gives_its_slot_to_the_next(local: LocalCloud) -> None:
    workflow = _workflow()
    sfn = RecordingSfn()
    service = _service(local, sfn)
    holder = _start(service, workflow, Policy(1))
    broken = _start(service, workflow, Policy(1))
    fine = _start(service, workflow, Policy(1))
    sfn.fail.add(broken)
    _finish(service, workflow, holder)
    assert _status(service, broken) == "FAILED"
    assert sfn.started == [holder, fine]


def test_the_reconciler_gives_back_a_slot_whose_release_was_lost(local: LocalCloud) -> None:
    sfn = RecordingSfn()
    service, workflow = _service(local, sfn), _workflow()
    holder, waiting = (_start(service, workflow, Policy(1)) for _ in range(2))
    # the holder ended, but its status change never reached the release
    service.repository.record_execution_status(holder, "FAILED", stopped_at="2026-12-03Z")
    assert _status(service, waiting) == "QUEUED"
    result = service.admission.reconcile(datetime.now(UTC), settle_seconds=300)
    assert holder in result["released"] and waiting in result["admitted"]
    assert sfn.started == [holder, waiting]


def test_the_reconciler_starts_an_admission_whose_admitter_died(local: LocalCloud) -> None:
    sfn = RecordingSfn()
    service, workflow = _service(local, sfn), _workflow()
    sfn.fail.add("nothing")
    holder, orphan = (_start(service, workflow, Policy(1)) for _ in range(2))
    original = service.admission._start
    service.admission._start = lambda ticket: None  # type: ignore[method-assign]
    _finish(service, workflow, holder)  # the lease is taken, StartExecution never called
    service.admission._start = original  # type: ignore[method-assign]
    assert _status(service, orphan) == "QUEUED" and sfn.started == [holder]
    later = datetime.now(UTC).replace(year=2100)
    assert service.admission.reconcile(later, settle_seconds=300)["restarted"] == [orphan]
    assert _status(service, orphan) == "RUNNING" and sfn.started == [holder, orphan]


def test_the_stage_wide_limit_admits_across_workflows_by_priority(local: LocalCloud) -> None:
    sfn = RecordingSfn()
    service = _service(local, sfn, stage=1)
    store = DynamoAdmissionStore()
    store.set_limit(STAGE, 1)
    for ticket in list(store.waiting_in_stage()):  # other tests' executions: out of the way
        store.remove(ticket.workflow_id, ticket.entry)
    for lease in list(store.leases()):
        store.release(lease)
    a, b = _workflow(), _workflow()
    first = _start(service, a, None)
    later_low = _start(service, a, Policy(None, "low"))
    later_high = _start(service, b, Policy(None, "high"))
    assert sfn.started == [first]
    _finish(service, a, first)
    _finish(service, b, sfn.started[-1])
    assert sfn.started == [first, later_high, later_low]
    view = service.admission.overview()
    assert view["limits"]["stage"] == 1 and view["running"].get(a) == 1


def test_the_overview_counts_waiting_executions_by_workflow_and_priority(
        local: LocalCloud) -> None:
    service, workflow = _service(local), _workflow()
    _start(service, workflow, Policy(1))
    _start(service, workflow, Policy(1, "high"))
    _start(service, workflow, Policy(1, "low"))
    _start(service, workflow, Policy(1, "low"))
    view = service.admission.overview()
    assert view["byWorkflow"][workflow] == {"high": 1, "normal": 0, "low": 2}
    assert view["running"][workflow] == 1 and view["limits"]["workflows"][workflow] == 1
    assert view["oldestWaiting"] is not None and view["oldestWaiting"]["ageSeconds"] >= 0
    assert view["queued"] >= 3


def test_a_transaction_conflict_is_retried_and_never_fails_the_start(
        local: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    sfn = RecordingSfn()
    service, workflow = _service(local, sfn), _workflow()
    store, real = service.admission.store, service.admission.store.admit
    conflicts = iter([Outcome.CONFLICT, Outcome.CONFLICT])
    monkeypatch.setattr(store, "admit", lambda *a, **k: next(conflicts, None) or real(*a, **k))
    first = _start(service, workflow, Policy(1))
    assert sfn.started == [first]  # admitted on the third attempt
    monkeypatch.setattr(store, "admit", lambda *a, **k: Outcome.CONFLICT)
    second = _start(service, workflow, Policy(5))
    assert _status(service, second) == "QUEUED"  # left for the next end or the reconciler
