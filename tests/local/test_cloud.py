"""``local.cloud.LocalCloud``'s background work under ``sfnflow serve``: status changes are
published when executions start and end, not by polling every execution while idle."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from compiler import compile_workflow
from local.cloud import LocalCloud


class CountedPolls:
    """Stands in for the emitter's Step Functions client and counts its polls (each one
    lists the state machines, then every machine's executions)."""

    def __init__(self, sfn: Any) -> None:
        self._sfn = sfn
        self.polls: list[float] = []

    def get_paginator(self, name: str) -> Any:
        if name == "list_state_machines":
            self.polls.append(time.monotonic())
        return self._sfn.get_paginator(name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sfn, name)


@pytest.fixture
def counted_polls(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    counted = CountedPolls(cloud.emitter.sfn)
    monkeypatch.setattr(cloud.emitter, "sfn", counted)
    cloud.start_event_threads()
    try:
        yield counted.polls
    finally:
        cloud.stop_event_threads()


def test_idle_the_status_change_emitter_does_not_poll(counted_polls: list[float]) -> None:
    time.sleep(0.5)  # ten polls at the former 50 ms
    assert len(counted_polls) == 1  # the one at the start


def test_an_execution_ending_is_published_without_a_poll_interval(
        cloud: LocalCloud, counted_polls: list[float]) -> None:
    compiled = compile_workflow({
        "name": "announced", "nodes": [{"name": "Start", "type": "manualTrigger"},
                                       {"name": "Done", "type": "noOp"}],
        "connections": [{"from": "Start", "to": "Done"}]})
    arn = cloud.deploy(compiled)
    execution_arn = cloud.sfn.start_execution(stateMachineArn=arn, name="announced",
                                              input="{}")["executionArn"]
    deadline = time.monotonic() + 5  # the fallback poll comes after 10 s
    while not cloud.emitter.emitted(execution_arn, "SUCCEEDED"):
        assert time.monotonic() < deadline, "the end was not published"
        time.sleep(0.02)
    assert cloud.emitter.emitted(execution_arn, "RUNNING")


class CountedDeploys:
    """Stands in for the cloud's Step Functions client and counts what redeploys."""

    def __init__(self, sfn: Any) -> None:
        self._sfn = sfn
        self.calls: list[str] = []

    def update_state_machine(self, **kwargs: Any) -> Any:
        self.calls.append("update")
        return self._sfn.update_state_machine(**kwargs)

    def tag_resource(self, **kwargs: Any) -> Any:
        self.calls.append("tag")
        return self._sfn.tag_resource(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sfn, name)


def test_a_start_deploys_only_a_changed_definition(
        cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    document: dict[str, Any] = {
        "name": "deployed-once", "nodes": [{"name": "Start", "type": "manualTrigger"},
                                           {"name": "Done", "type": "noOp"}],
        "connections": [{"from": "Start", "to": "Done"}]}
    compiled = compile_workflow(document)
    cloud.deploy(compiled)
    counted = CountedDeploys(cloud.sfn)
    monkeypatch.setattr(cloud, "sfn", counted)
    for _ in range(2):
        assert cloud.wait(cloud.start(compiled)).status == "SUCCEEDED"
    assert counted.calls == []  # the same definition and tags: nothing redeployed
    document["nodes"][1]["name"] = "Finished"
    document["connections"][0]["to"] = "Finished"
    changed = compile_workflow(document)
    assert cloud.wait(cloud.start(changed)).status == "SUCCEEDED"
    assert counted.calls == ["update", "tag"]
    assert "Finished" in cloud.sfn.describe_state_machine(
        stateMachineArn=cloud.deploy(changed))["definition"]


def test_wait_reads_the_history_only_when_asked(
        cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = compile_workflow({
        "name": "history-on-demand", "nodes": [{"name": "Start", "type": "manualTrigger"},
                                               {"name": "Done", "type": "noOp"}],
        "connections": [{"from": "Start", "to": "Done"}]})
    reads: list[str] = []
    history = cloud.history
    monkeypatch.setattr(cloud, "history", lambda arn: reads.append(arn) or history(arn))
    finished = cloud.wait(cloud.start(compiled))
    assert reads == []
    assert [e["type"] for e in finished.history][-1] == "ExecutionSucceeded"
    assert finished.history is finished.history and reads == [finished.execution_arn]


def test_opening_a_cloud_imports_no_api_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """``sfnflow run`` never serves the API: a new cloud clears the API's cached clients
    only where the modules are loaded, rather than importing them (~0.2 s)."""
    import sys

    from local.cloud import _API_CACHES

    modules = {module for module, _cached in _API_CACHES} | {"functions.api.dependencies"}
    for module in modules:  # as in a fresh `sfnflow run` (restored afterwards)
        monkeypatch.delitem(sys.modules, module, raising=False)
    with LocalCloud():
        assert not modules & set(sys.modules)
