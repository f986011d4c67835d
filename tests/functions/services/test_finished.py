"""Observers of ended executions hear of each one once it is recorded; one that fails does
not silence the others (``functions.services.finished``)."""

from __future__ import annotations

from typing import Any

import pytest

from compiler import compile_workflow
from functions.handlers import execution_events
from functions.services import finished as finished_module
from functions.services.finished import Finished
from local.cloud import LocalCloud

FLOW = {"name": "observed", "nodes": [
    {"name": "Start", "type": "manualTrigger"},
    {"name": "Same", "type": "noOp"},
    {"name": "Greet", "type": "code", "parameters": {"code": "return items"}}],
    "connections": [{"from": "Start", "to": "Same"}, {"from": "Same", "to": "Greet"}]}


def test_every_observer_hears_of_the_ended_execution_after_its_runs_are_recorded(
        cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    heard: list[Finished] = []
    later: list[str] = []

    def observe(finished: Finished) -> None:  # sees what is recorded, native runs included
        runs = cloud.repository.node_runs(finished.execution_id, with_output=False)
        heard.append(finished)
        later.append(",".join(sorted(run.node for run in runs)))

    def broken(_finished: Finished) -> Any:
        raise RuntimeError("a broken observer")

    monkeypatch.setattr(finished_module, "observers", lambda _repository: [broken, observe])
    execution_events._service.cache_clear()  # the status-change handler's service
    compiled = compile_workflow(FLOW)
    cloud.deploy(compiled)
    execution_id = cloud.start(compiled, {"who": "ada"})
    assert cloud.wait(execution_id).status == "SUCCEEDED"
    (finished,) = [f for f in heard if f.execution_id == execution_id]
    assert finished.workflow_id == "observed" and finished.status == "SUCCEEDED"
    assert [run.node for run in finished.native_runs] == ["Same"]
    assert later == ["Greet,Same,Start"]


@pytest.fixture(autouse=True)
def _fresh_status_handler() -> Any:
    yield
    execution_events._service.cache_clear()  # built with this test's observers
