"""Deploy writes that fail part-way (``functions.services.workflows``), in-process on the
local cloud with one Step Functions call made to fail: the workflow is left whole, as it
was, never half-deleted (issue 11). Creates and updates are covered over HTTP in
``tests/local/test_api_deploys.py``."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from functions.services.triggers import trigger_name
from local.cloud import LocalCloud

HOOKED = {"name": "hooked", "nodes": [
    {"name": "Hook", "type": "webhook", "parameters": {"path": "orders/new"}},
    {"name": "Nightly", "type": "scheduleTrigger",
     "parameters": {"expression": "cron(0 2 * * ? *)"}},
    {"name": "Work", "type": "noOp"}],
    "connections": [{"from": "Hook", "to": "Work"}, {"from": "Nightly", "to": "Work"}]}


class FailingDelete:
    """The service's Step Functions client, with DeleteStateMachine throttled."""

    def __init__(self, sfn: Any) -> None:
        self.sfn = sfn

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sfn, name)

    def delete_state_machine(self, **kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}},
                          "DeleteStateMachine")


def _schedules(cloud: LocalCloud) -> list[str]:
    return [s["Name"] for s in cloud.scheduler_client.list_schedules()["Schedules"]]


def test_a_delete_whose_machine_cannot_go_leaves_the_workflow_as_it_was(
        cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    service = cloud.workflows
    service.create(HOOKED)
    monkeypatch.setattr(service, "sfn", FailingDelete(service.sfn))
    with pytest.raises(ClientError):
        service.delete("hooked")
    record = service.workflows.get("hooked")
    assert record is not None and record.active
    assert service.workflows.webhook_owner("POST", "orders/new") == "hooked"
    assert _schedules(cloud) == [trigger_name(cloud.config, "hooked", "Nightly")]

    monkeypatch.undo()
    service.delete("hooked")
    assert service.workflows.get("hooked") is None and _schedules(cloud) == []
