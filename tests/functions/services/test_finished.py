"""Observers of ended executions hear of each one once it is recorded; one that fails does
not silence the others (``functions.services.finished``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from compiler import compile_workflow
from functions.handlers import error_router, execution_events
from functions.services import finished as finished_module
from functions.services.finished import Finished
from local.cloud import LocalCloud
from tests.conftest import TIME_SCALE

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


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    """One embedded cloud for the module (each test deploys a workflow of its own)."""
    with LocalCloud(time_scale=TIME_SCALE) as local_cloud:
        yield local_cloud


@pytest.fixture(autouse=True)
def _fresh_status_handler() -> Any:
    yield
    execution_events._service.cache_clear()  # built with this test's observers
    error_router._router.cache_clear()  # its execution service, likewise


FAILING = {"name": "observed-failing", "nodes": [
    {"name": "Start", "type": "manualTrigger"},
    {"name": "Same", "type": "noOp"},
    {"name": "Boom", "type": "code", "parameters": {"code": "raise ValueError('boom')"}}],
    "connections": [{"from": "Start", "to": "Same"}, {"from": "Same", "to": "Boom"}]}


def test_the_end_of_an_execution_reads_its_node_runs_once(
        cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    """The error, the cost and the statistics all come from one query of the node runs,
    handed to the observers in ``Finished.runs`` (natives included)."""
    from functions.services.executions import ExecutionService
    from functions.store.models import NodeRunModel

    per_change: list[list[str]] = []  # the node-run queries of each final status change
    inside: list[bool] = []
    real_query = NodeRunModel.query.__func__  # type: ignore[attr-defined]
    real_change = ExecutionService.on_status_change

    def query(cls: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        if inside:
            per_change[-1].append(str(hash_key))
        return real_query(cls, hash_key, *args, **kwargs)

    def on_status_change(self: Any, detail: dict[str, Any]) -> None:
        if detail.get("status") == "RUNNING":
            return real_change(self, detail)
        per_change.append([])
        inside.append(True)
        try:
            return real_change(self, detail)
        finally:
            inside.pop()

    heard: list[Finished] = []

    def listen(finished: Finished) -> None:
        heard.append(finished)

    real_observers = finished_module.observers
    monkeypatch.setattr(NodeRunModel, "query", classmethod(query))
    monkeypatch.setattr(ExecutionService, "on_status_change", on_status_change)
    monkeypatch.setattr(finished_module, "observers",
                        lambda repository: [*real_observers(repository), listen])
    execution_events._service.cache_clear()
    compiled = compile_workflow(FAILING)
    cloud.deploy(compiled)
    execution_id = cloud.start(compiled, {})
    assert cloud.wait(execution_id).status == "FAILED"
    # the status-change handler and the error router each hear the end (a replay): once each
    assert per_change and all(queries == [execution_id] for queries in per_change)
    ended = [f for f in heard if f.execution_id == execution_id]
    assert ended and all(sorted((run.node, run.status) for run in finished.runs) == [
        ("Boom", "error"), ("Same", "success"), ("Start", "success")] for finished in ended)
