"""WaitService on moto: a wait that times out, before or after its runner records the pause.

(The API side — approve, reject, resume, exactly once — is tested over HTTP in
``tests/local/test_approvals.py``.)
"""

from __future__ import annotations

from functions.services.waits import WaitService, wait_id_of
from functions.store.repository import Execution, utc_now
from functions.store.waits import TIMED_OUT, WaitRepository
from local.cloud import LocalCloud


def _service(cloud: LocalCloud, execution_id: str) -> WaitService:
    cloud.repository.create_execution(Execution(
        execution_id=execution_id, workflow_id="reminder", status="RUNNING",
        started_at=utc_now()))
    return WaitService(cloud.sfn, cloud.repository, WaitRepository(), cloud.config)


def _pause(service: WaitService, execution_id: str) -> None:
    service.pause(execution_id=execution_id, workflow_id="reminder", node="Hold",
                  mode="webhook", token="token-1", inputs=[[{"n": 1}]], outputs=1)


def _expire(service: WaitService, execution_id: str) -> None:
    service.expire(execution_id=execution_id, workflow_id="reminder", node="Hold",
                   mode="webhook")


def _status(cloud: LocalCloud, execution_id: str) -> str:
    execution = cloud.repository.get_execution(execution_id)
    assert execution is not None
    return execution.status


def test_expiring_a_paused_wait_resumes_the_execution(cloud: LocalCloud) -> None:
    service = _service(cloud, "e1")
    _pause(service, "e1")
    assert _status(cloud, "e1") == "WAITING"
    _expire(service, "e1")
    assert [view["status"] for view in service.views("e1")] == [TIMED_OUT]
    assert _status(cloud, "e1") == "RUNNING"


def test_a_pause_recorded_after_its_timeout_stays_timed_out(cloud: LocalCloud) -> None:
    """The Task timed out before a slow runner recorded the pause: the late pause must not
    leave a wait that can never be decided, nor an execution shown as waiting."""
    service = _service(cloud, "e2")
    _expire(service, "e2")
    _pause(service, "e2")
    (view,) = service.views("e2")
    assert view["status"] == TIMED_OUT and "resumeUrl" not in view
    assert view["waitId"] == wait_id_of("Hold", 0)
    assert _status(cloud, "e2") == "RUNNING"


def test_expiring_twice_changes_nothing(cloud: LocalCloud) -> None:
    service = _service(cloud, "e3")
    _pause(service, "e3")
    _expire(service, "e3")
    _expire(service, "e3")
    assert [view["status"] for view in service.views("e3")] == [TIMED_OUT]
    assert _status(cloud, "e3") == "RUNNING"
