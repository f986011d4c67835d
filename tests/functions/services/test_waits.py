"""WaitService on moto: a wait that times out, before or after its runner records the pause;
a resume URL that outlives a new pause of its wait.

(The API side — approve, reject, resume, exactly once — is tested over HTTP in
``tests/local/test_approvals.py``.)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from functions.services.execution_control import ExecutionConflict
from functions.services.waits import SignatureInvalid, WaitService, wait_id_of
from functions.store.repository import Execution, utc_now
from functions.store.waits import TIMED_OUT, WaitRepository
from local.cloud import LocalCloud


def _service(cloud: LocalCloud, execution_id: str) -> WaitService:
    cloud.repository.create_execution(Execution(
        execution_id=execution_id, workflow_id="reminder", status="RUNNING",
        started_at=utc_now()))
    return WaitService(cloud.sfn, cloud.repository, WaitRepository(), cloud.config)


def _pause(service: WaitService, execution_id: str, token: str = "token-1") -> None:
    service.pause(execution_id=execution_id, workflow_id="reminder", node="Hold",
                  mode="webhook", token=token, inputs=[[{"n": 1}]], outputs=1)


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


class _StepFunctions:
    """Records the task token each decision is sent with (moto knows none of these)."""

    def __init__(self) -> None:
        self.tokens: list[str] = []

    def send_task_success(self, *, taskToken: str, output: str) -> dict[str, Any]:
        self.tokens.append(taskToken)
        return {}


def _signature(view: dict[str, Any]) -> str:
    return parse_qs(urlsplit(view["resumeUrl"]).query)["sig"][0]


def test_a_resume_url_outlives_a_new_pause_of_its_wait(cloud: LocalCloud) -> None:
    """A wait paused again (a retried Task; an execution resumed by a restarted server) has
    a new token: the URL handed out before still resumes it, with the new token."""
    _service(cloud, "e4")
    sfn = _StepFunctions()
    service = WaitService(sfn, cloud.repository, WaitRepository(), cloud.config)
    _pause(service, "e4", "token-1")
    (before,) = service.views("e4")
    _pause(service, "e4", "token-2")
    _pause(service, "e4", "token-3")
    (after,) = service.views("e4")
    assert after["resumeUrl"] == before["resumeUrl"]
    assert service.resume("e4", before["waitId"], _signature(before), {"ok": 1})[
        "status"] == "resumed"
    assert sfn.tokens == ["token-3"]
    with pytest.raises(ExecutionConflict, match="already resumed"):
        service.resume("e4", before["waitId"], _signature(before), {"ok": 2})

    # Decided, then paused again: a new question, with a URL of its own.
    _pause(service, "e4", "token-4")
    (again,) = service.views("e4")
    assert again["status"] == "waiting" and again["resumeUrl"] != before["resumeUrl"]
    with pytest.raises(SignatureInvalid):
        service.resume("e4", before["waitId"], _signature(before), {"ok": 3})
    service.resume("e4", again["waitId"], _signature(again), None)
    assert sfn.tokens == ["token-3", "token-4"]
