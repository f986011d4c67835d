"""compiler.express: which definitions can run as Express state machines, and the type
settings.type gets. Titled ASL cases (one checker), then compiled workflows."""

from __future__ import annotations

from typing import Any

import pytest

from compiler import compile_workflow
from compiler.express import CAVEATS, ExpressRefused, blockers, decide


def _machine(**states: dict[str, Any]) -> dict[str, Any]:
    names = list(states)
    linked = {name: {**state, **({"Next": names[k + 1]} if k + 1 < len(names) else
                                 {"End": True})}
              for k, (name, state) in enumerate(states.items())}
    return {"StartAt": names[0], "States": linked}


LAMBDA = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke"}
CASES: dict[str, tuple[dict[str, Any], list[str | None]]] = {
    "request-response tasks and short waits": (
        _machine(A=LAMBDA, W={"Type": "Wait", "Seconds": 300}, P={"Type": "Pass"}), []),
    "a callback": (
        _machine(A={"Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken"}), ["A"]),
    "a sub-workflow run to its end": (
        _machine(S={"Type": "Task",
                    "Resource": "arn:aws:states:::states:startExecution.sync:2"}), ["S"]),
    "an activity": (
        _machine(X={"Type": "Task",
                    "Resource": "arn:aws:states:us-east-1:123456789012:activity:x"}), ["X"]),
    "a wait over five minutes": (_machine(W={"Type": "Wait", "Seconds": 301}), ["W"]),
    "a wait known at run time": (
        _machine(W={"Type": "Wait", "Seconds": "{% $states.input.s %}"},
                 U={"Type": "Wait", "Timestamp": "2030-01-01T00:00:00Z"}), ["W", "U"]),
    "a callback inside a Parallel branch": (
        _machine(P={"Type": "Parallel", "Branches": [
            _machine(B={"Type": "Task",
                        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken"})]}),
        ["B"]),
    "a Distributed Map, and a long wait inside an inline one": (
        _machine(D={"Type": "Map", "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED"}, **_machine(I=LAMBDA)}},
            M={"Type": "Map", "ItemProcessor": _machine(W={"Type": "Wait", "Seconds": 900})}),
        ["D", "W"]),
    "a machine timeout over five minutes": (
        {**_machine(A=LAMBDA), "TimeoutSeconds": 3600}, [None]),
}


@pytest.mark.parametrize("title", list(CASES))
def test_blockers(title: str) -> None:
    definition, expected = CASES[title]
    found = blockers(definition)
    assert [b.state for b in found] == expected
    assert all(b.reason for b in found)


def test_a_long_estimate_or_timeout_setting_blocks() -> None:
    definition = _machine(A=LAMBDA)
    assert [b.reason for b in blockers(definition, estimated_seconds=301.5)] == [
        "is estimated to run 301.5 s, more than Express's 300 s"]
    assert len(blockers(definition, timeout_seconds=600)) == 1
    assert blockers(definition, timeout_seconds=300, estimated_seconds=12) == []


def _compiled(*nodes: dict[str, Any], settings: dict[str, Any] | None = None) -> Any:
    names = ["T", *(node["name"] for node in nodes)]
    return compile_workflow({
        "name": "express-case", "settings": settings or {},
        "nodes": [{"name": "T", "type": "manualTrigger"}, *nodes],
        "connections": [{"from": a, "to": b} for a, b in zip(names, names[1:], strict=False)]})


def test_auto_chooses_express_for_a_short_runner_chain_with_its_caveats() -> None:
    compiled = _compiled({"name": "H", "type": "httpRequest", "parameters": {"url": "http://x"}},
                         {"name": "S", "type": "set", "parameters": {"values": {"a": 1}}})
    decision = decide("auto", compiled.definition)
    assert (decision.type, decision.express_possible) == ("EXPRESS", True)
    assert decision.caveats == CAVEATS
    assert decision.to_dict()["blockers"] == []


def test_auto_falls_back_to_standard_naming_the_long_wait() -> None:
    compiled = _compiled({"name": "Pause", "type": "wait", "parameters": {"seconds": 600}})
    decision = decide("auto", compiled.definition)
    assert decision.type == "STANDARD"
    assert decision.reason == "settings.type is auto and Pause: waits 600 s, more than " \
                              "Express's 300 s"


def test_express_is_refused_by_state_and_field() -> None:
    compiled = _compiled({"name": "Pause", "type": "wait", "parameters": {"seconds": 600}})
    with pytest.raises(ExpressRefused) as caught:
        decide("express", compiled.definition)
    [problem] = caught.value.problems
    assert (problem.node, problem.field, problem.code) == ("Pause", "settings.type",
                                                           "express-refused")


def test_standard_stays_standard_and_still_says_whether_express_could_run() -> None:
    compiled = _compiled({"name": "S", "type": "set", "parameters": {"values": {"a": 1}}})
    decision = decide("standard", compiled.definition)
    assert (decision.type, decision.express_possible) == ("STANDARD", True)
