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
