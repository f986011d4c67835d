"""The compiled ASL is accepted by asl-validator and by moto's ASL parser; broken ASL is not."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from compiler import compile_workflow
from tests.support import asl_validator
from tests.support.asl_validator import (
    NODE_RUNNER_ARN,
    AslValidatorUnavailable,
    assert_valid_asl,
    moto_problems,
    validate_asl,
)


def _trigger() -> dict[str, Any]:
    return {"name": "Start", "type": "manualTrigger"}


BRANCHING: dict[str, Any] = {
    "name": "branching",
    "nodes": [
        _trigger(),
        {"name": "Shape", "type": "code",
         "parameters": {"code": "return [{'n': i} for i in range(4)]"}},
        {"name": "Big?", "type": "if", "parameters": {"condition": "{% $json.n > 1 %}"}},
        {"name": "Big", "type": "noOp"},
        {"name": "Small", "type": "noOp", "retry": {"maxAttempts": 1}},  # runner: guarded
        {"name": "Together", "type": "merge", "parameters": {"mode": "append"}},
    ],
    "connections": [
        {"from": "Start", "to": "Shape"},
        {"from": "Shape", "to": "Big?"},
        {"from": "Big?", "output": "true", "to": "Big"},
        {"from": "Big?", "output": "false", "to": "Small"},
        {"from": "Big", "to": "Together", "input": 0},
        {"from": "Small", "to": "Together", "input": 1},
    ],
}

RETRYING: dict[str, Any] = {
    "name": "retrying",
    "settings": {"timeoutSeconds": 600},
    "nodes": [
        _trigger(),
        {"name": "Fetch", "type": "httpRequest",
         "parameters": {"url": "{% 'https://example.com/items/' & $json.id %}"},
         "retry": {"maxAttempts": 4, "intervalSeconds": 2, "backoffRate": 1.5,
                   "maxDelaySeconds": 30, "jitter": True},
         "onError": "continueErrorOutput"},
        {"name": "Label", "type": "set", "parameters": {"values": {"ok": True}}},
        {"name": "Report", "type": "set",
         "parameters": {"values": {"failed": "{% $json.error.message %}"}},
         "onError": "continueRegularOutput"},
    ],
    "connections": [
        {"from": "Start", "to": "Fetch"},
        {"from": "Fetch", "output": "main", "to": "Label"},
        {"from": "Fetch", "output": "error", "to": "Report"},
    ],
}

WAITING: dict[str, Any] = {
    "name": "waiting",
    "nodes": [
        _trigger(),
        {"name": "Pause", "type": "wait", "parameters": {"seconds": 5}},
        {"name": "Backoff", "type": "wait", "parameters": {"seconds": "{% $json.delay %}"}},
        {"name": "Done", "type": "noOp"},
    ],
    "connections": [
        {"from": "Start", "to": "Pause"},
        {"from": "Pause", "to": "Backoff"},
        {"from": "Backoff", "to": "Done"},
    ],
}

WORKFLOWS = {doc["name"]: doc for doc in (BRANCHING, RETRYING, WAITING)}


@pytest.fixture(scope="module")
def compiled() -> dict[str, Any]:
    return {name: compile_workflow(doc) for name, doc in WORKFLOWS.items()}


def test_asl_validator_accepts_compiled_workflows_in_one_batch(compiled: dict[str, Any]) -> None:
    assert validate_asl(compiled) == {name: [] for name in WORKFLOWS}


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_both_validators_accept(compiled: dict[str, Any], name: str) -> None:
    workflow = compiled[name]
    assert "${NodeRunnerArn}" in workflow.definition_json()
    assert NODE_RUNNER_ARN in asl_validator.definition_text(workflow)
    assert moto_problems(workflow) == []
    assert_valid_asl(workflow)


def test_workflows_use_the_features_under_test(compiled: dict[str, Any]) -> None:
    text = {name: workflow.definition_json(indent=2) for name, workflow in compiled.items()}
    assert '"Type": "Choice"' in text["branching"] and '"Type": "Parallel"' in text["branching"]
    assert '"Retry"' in text["retrying"] and '"Catch"' in text["retrying"]
    assert '"JitterStrategy": "FULL"' in text["retrying"]
    assert text["waiting"].count('"Type": "Wait"') == 2


def _dangling(workflow: Any) -> dict[str, Any]:
    definition = copy.deepcopy(workflow.definition)
    state = next(s for s in definition["States"].values() if "Next" in s)
    state["Next"] = "Nowhere"
    return definition


def test_both_validators_reject_a_next_pointing_nowhere(compiled: dict[str, Any]) -> None:
    broken = _dangling(compiled["waiting"])
    found = validate_asl({"broken": broken})["broken"]
    assert any("MISSING_TRANSITION_TARGET" in problem for problem in found), found
    found = moto_problems(broken)
    assert any("'Nowhere'" in problem for problem in found), found
    with pytest.raises(AssertionError, match="Nowhere"):
        assert_valid_asl(broken)


def test_both_validators_reject_a_dangling_catch_inside_a_parallel_branch(
    compiled: dict[str, Any],
) -> None:
    definition = copy.deepcopy(compiled["retrying"].definition)
    task = definition["States"]["Fetch"]
    task["Catch"][0]["Next"] = "Nowhere"
    assert validate_asl({"broken": definition})["broken"]
    assert any("'Nowhere'" in problem for problem in moto_problems(definition))


def test_moto_rejects_unparseable_asl() -> None:
    definition = {"QueryLanguage": "JSONata", "StartAt": "A",
                  "States": {"A": {"Type": "Teleport", "End": True}}}
    assert moto_problems(definition)
    assert validate_asl({"bad": definition})["bad"]


def test_asl_validator_rejects_bad_jsonata(compiled: dict[str, Any]) -> None:
    definition = copy.deepcopy(compiled["waiting"].definition)
    definition["States"]["Pause"]["Assign"]["Pause"] = "{% $count( %}"
    assert validate_asl({"bad": definition})["bad"]


def test_missing_node_modules_fails_loudly(monkeypatch: pytest.MonkeyPatch, tmp_path: Any,
                                           compiled: dict[str, Any]) -> None:
    monkeypatch.setattr(asl_validator, "NODE_MODULES", tmp_path / "node_modules")
    with pytest.raises(AslValidatorUnavailable, match=r"make test.*npm ci"):
        validate_asl({"waiting": compiled["waiting"]})


def test_aws_rules_reject_an_inner_scope_assigning_an_outer_variable() -> None:
    """AWS refuses this at CreateStateMachine; asl-validator and moto's parser accept it."""
    branch = {"StartAt": "Inner", "States": {"Inner": {
        "Type": "Pass", "Assign": {"x": 2}, "End": True}}}
    definition = {"QueryLanguage": "JSONata", "StartAt": "Outer", "States": {
        "Outer": {"Type": "Parallel", "Branches": [branch], "Assign": {"x": 1}, "End": True}}}
    assert moto_problems(definition) == []
    (problem,) = validate_asl({"bad": definition})["bad"]
    assert problem.startswith("aws-rules: ") and "$x" in problem and "'Inner'" in problem
