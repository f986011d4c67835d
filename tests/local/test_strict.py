"""One test per rule of the strict layer (local/strict.py): each fails on plain moto and
passes with the rule, so the embedded cloud fails where AWS fails. docs/aws-rules.md lists
the rules and names these tests."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local import moto_patches, strict
from local.cloud import LocalCloud
from tests.local.test_moto_patches import ROLE, jsonata_machine, run_asl

ROOT = Path(__file__).resolve().parents[2]
PASS = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}


def machine(cloud: LocalCloud, definition: dict[str, Any]) -> str:
    return str(cloud.sfn.create_state_machine(
        name=f"strict-{time.monotonic_ns()}", definition=json.dumps(definition),
        roleArn=ROLE)["stateMachineArn"])


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def lambda_arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:123456789012:function:{name}"


# --------------------------------------------------------------------------- the numbers


def test_the_limits_are_aws_limits() -> None:
    assert strict.PAYLOAD_BYTES_MAX == 256 * 1024
    assert strict.CAUSE_CHARS_MAX == 32_768
    assert strict.HISTORY_EVENTS_MAX == 25_000
    assert strict.history_full_cause() == (
        "The execution reached the maximum number of history events (25000).")


# --------------------------------------------------------------------------- 1. api


def test_an_execution_name_over_80_characters_is_a_validation_error(cloud: LocalCloud) -> None:
    arn = machine(cloud, PASS)
    cloud.sfn.start_execution(stateMachineArn=arn, name="n" * 80)  # the limit itself is fine
    with pytest.raises(ClientError) as excinfo:
        cloud.sfn.start_execution(stateMachineArn=arn, name="n" * 81)
    assert error_of(excinfo) == ("ValidationException", (
        f"1 validation error detected: Value '{'n' * 81}' at 'name' failed to satisfy "
        "constraint: Member must have length less than or equal to 80"))


def test_execution_input_over_256_kib_is_a_validation_error(cloud: LocalCloud) -> None:
    arn = machine(cloud, PASS)
    text = json.dumps({"s": "x" * (strict.PAYLOAD_BYTES_MAX - 8)})  # 262,145 characters
    with pytest.raises(ClientError) as excinfo:
        cloud.sfn.start_execution(stateMachineArn=arn, name="big", input=text)
    assert error_of(excinfo) == ("ValidationException", (
        "1 validation error detected: Value at 'input' failed to satisfy constraint: "
        "Member must have length less than or equal to 262144"))  # sensitive: no value


def test_send_task_failure_with_a_cause_over_32768_characters_is_refused(
        cloud: LocalCloud) -> None:
    tokens: list[str] = []
    moto_patches.register_lambda("strict-token", lambda event, _: tokens.append(event["t"]))
    arn = machine(cloud, jsonata_machine({"Wait": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Arguments": {"FunctionName": lambda_arn("strict-token"),
                      "Payload": {"t": "{% $states.context.Task.Token %}"}},
        "End": True}}, "Wait"))
    execution = cloud.sfn.start_execution(stateMachineArn=arn, name="wait")["executionArn"]
    while not tokens:
        time.sleep(0.01)
    with pytest.raises(ClientError) as excinfo:
        cloud.sfn.send_task_failure(taskToken=tokens[0], error="E", cause="c" * 32_769)
    assert error_of(excinfo)[0] == "ValidationException"
    assert "at 'cause'" in error_of(excinfo)[1]
    cloud.sfn.send_task_failure(taskToken=tokens[0], error="E", cause="c" * 32_768)
    while (described := cloud.sfn.describe_execution(executionArn=execution))["status"] == \
            "RUNNING":
        time.sleep(0.01)
    assert (described["error"], len(described["cause"])) == ("E", 32_768)


def test_interpreter_api_errors_answer_with_their_code(cloud: LocalCloud) -> None:
    with pytest.raises(cloud.sfn.exceptions.InvalidDefinition):
        machine(cloud, {"StartAt": "A", "States": {"A": {"Type": "Bogus"}}})
    with pytest.raises(cloud.sfn.exceptions.InvalidToken):
        cloud.sfn.send_task_success(taskToken="no-such-token", output="{}")


# --------------------------------------------------------------------------- 2. names


@pytest.mark.parametrize("name", ["has space", "a/b", "star*", "tab\there"])
def test_execution_names_with_forbidden_characters_are_invalid(cloud: LocalCloud,
                                                               name: str) -> None:
    with pytest.raises(cloud.sfn.exceptions.InvalidName):
        cloud.sfn.start_execution(stateMachineArn=machine(cloud, PASS), name=name)


# --------------------------------------------------------------------------- 3. definition


def test_a_state_name_over_80_characters_is_an_invalid_definition(cloud: LocalCloud) -> None:
    machine(cloud, {"StartAt": "s" * 80, "States": {"s" * 80: {"Type": "Pass", "End": True}}})
    with pytest.raises(cloud.sfn.exceptions.InvalidDefinition) as excinfo:
        machine(cloud, {"StartAt": "s" * 81,
                        "States": {"s" * 81: {"Type": "Pass", "End": True}}})
    assert "81 characters; the limit is 80" in error_of(excinfo)[1]


def test_create_with_an_existing_name_is_idempotent_only_for_the_same_request(
        cloud: LocalCloud) -> None:
    """AWS compares name, definition, type, logging and tracing; roleArn and tags are
    ignored. moto returned the old machine for any request, a silent no-op deploy."""
    name = f"strict-idempotent-{time.monotonic_ns()}"
    create = cloud.sfn.create_state_machine
    arn = create(name=name, definition=json.dumps(PASS), roleArn=ROLE)["stateMachineArn"]
    again = create(name=name, definition=json.dumps(PASS), roleArn=ROLE + "-other",
                   tags=[{"key": "k", "value": "v"}])
    assert again["stateMachineArn"] == arn
    other = {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}
    with pytest.raises(cloud.sfn.exceptions.StateMachineAlreadyExists) as excinfo:
        create(name=name, definition=json.dumps(other), roleArn=ROLE)
    assert "definition" in error_of(excinfo)[1]
    with pytest.raises(cloud.sfn.exceptions.StateMachineAlreadyExists):
        create(name=name, definition=json.dumps(PASS), roleArn=ROLE, type="EXPRESS")
    described = cloud.sfn.describe_state_machine(stateMachineArn=arn)
    assert json.loads(described["definition"]) == PASS


SCOPE_BREAK = jsonata_machine({
    "Set": {"Type": "Pass", "Assign": {"total": 0}, "Next": "Both"},
    "Both": {"Type": "Parallel", "End": True, "Branches": [{"StartAt": "Inner", "States": {
        "Inner": {"Type": "Pass", "Assign": {"total": 1}, "End": True}}}]},
}, "Set")


def test_create_and_update_reject_a_branch_assigning_an_outer_variable(
        cloud: LocalCloud) -> None:
    with pytest.raises(cloud.sfn.exceptions.InvalidDefinition) as excinfo:
        machine(cloud, SCOPE_BREAK)
    assert "$total" in error_of(excinfo)[1]
    arn = machine(cloud, PASS)
    with pytest.raises(cloud.sfn.exceptions.InvalidDefinition):
        cloud.sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(SCOPE_BREAK))


# --------------------------------------------------------------------------- 4. payload


def _pad_output(characters: int) -> dict[str, Any]:
    """A Pass whose output is ``{"s": "é…é"}``: 8 + 2 * ``characters`` bytes."""
    return jsonata_machine({"A": {"Type": "Pass", "End": True, "Output": {
        "s": f"{{% $pad('', {characters}, 'é') %}}"}}}, "A")


def test_state_output_is_measured_as_compact_utf8_up_to_256_kib(cloud: LocalCloud) -> None:
    fits = run_asl(cloud, _pad_output(131_068))  # 262,144 bytes (moto counted 786,424)
    assert fits["status"] == "SUCCEEDED", fits.get("cause")
    over = run_asl(cloud, _pad_output(131_069))  # 262,146 bytes
    assert (over["status"], over["error"]) == ("FAILED", "States.DataLimitExceeded")


def test_task_input_over_256_kib_after_arguments_fails_before_the_call(
        cloud: LocalCloud) -> None:
    calls: list[Any] = []
    moto_patches.register_lambda("strict-echo", lambda event, _: calls.append(1) or {})
    described = run_asl(cloud, jsonata_machine({"Call": {
        "Type": "Task", "Resource": lambda_arn("strict-echo"), "End": True,
        "Arguments": {"blob": "{% $pad('', 300000, 'x') %}"}}}, "Call"))
    assert (described["status"], described["error"]) == ("FAILED", "States.DataLimitExceeded")
    assert calls == []


# --------------------------------------------------------------------------- 5. catch


def _caught(error_equals: list[str], branch_state: dict[str, Any]) -> dict[str, Any]:
    return jsonata_machine({
        "Try": {"Type": "Parallel", "Next": "Done",
                "Branches": [{"StartAt": "B", "States": {"B": branch_state}}],
                "Catch": [{"ErrorEquals": error_equals, "Next": "Caught"}]},
        "Caught": {"Type": "Pass", "Output": {"caught": True}, "End": True},
        "Done": {"Type": "Pass", "End": True},
    }, "Try")


TOO_LARGE = {"Type": "Pass", "Output": "{% $pad('', 300000, 'x') %}", "End": True}


def test_states_all_does_not_catch_data_limit_exceeded(cloud: LocalCloud) -> None:
    described = run_asl(cloud, _caught(["States.ALL"], TOO_LARGE))
    assert (described["status"], described["error"]) == ("FAILED", "States.DataLimitExceeded")
    named = run_asl(cloud, _caught(["States.DataLimitExceeded"], TOO_LARGE))
    assert json.loads(named["output"]) == {"caught": True}  # naming it catches it


def test_nothing_catches_or_retries_states_runtime(cloud: LocalCloud) -> None:
    for error_equals in (["States.ALL"], ["States.Runtime"]):
        described = run_asl(cloud, {"StartAt": "Try", "States": {  # JSONPath
            "Try": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
                    "Parameters": {"FunctionName": lambda_arn("strict-none"),
                                   "Payload.$": "$.missing"},  # a path not in the input
                    "Retry": [{"ErrorEquals": error_equals, "MaxAttempts": 3}],
                    "Catch": [{"ErrorEquals": error_equals, "Next": "Caught"}]},
            "Caught": {"Type": "Pass", "End": True}}})
        assert (described["status"], described["error"]) == ("FAILED", "States.Runtime")
        assert "'$.missing' could not be found" in described["cause"]


# --------------------------------------------------------------------------- 6. causes


def test_a_fail_state_cause_is_cut_to_32768_characters(cloud: LocalCloud) -> None:
    described = run_asl(cloud, jsonata_machine({"F": {
        "Type": "Fail", "Error": "Big", "Cause": "{% $pad('', 40000, 'c') %}"}}, "F"))
    assert (described["error"], described["cause"]) == ("Big", "c" * 32_768)


def test_a_lambda_error_cause_is_cut_to_32768_characters(cloud: LocalCloud) -> None:
    def fails(event: dict[str, Any], context: Any) -> None:
        raise ValueError("m" * 40_000)

    moto_patches.register_lambda("strict-fails", fails)
    described = run_asl(cloud, jsonata_machine({
        "Call": {"Type": "Task", "Resource": lambda_arn("strict-fails"), "End": True,
                 "Catch": [{"ErrorEquals": ["ValueError"], "Next": "Caught",
                            "Output": "{% $states.errorOutput %}"}]},
        "Caught": {"Type": "Pass", "End": True},
    }, "Call"))
    caught = json.loads(described["output"])
    assert caught["Error"] == "ValueError"
    assert len(caught["Cause"]) == 32_768  # no longer JSON: AWS cuts it the same way


# --------------------------------------------------------------------------- 7. history


def _chain(passes: int) -> dict[str, Any]:
    """ExecutionStarted, two events per Pass, ExecutionSucceeded: 2 * passes + 2 events."""
    names = [f"P{i}" for i in range(passes)]
    states = {name: {"Type": "Pass", **({"Next": names[i + 1]} if i + 1 < passes
                                        else {"End": True})} for i, name in enumerate(names)}
    return {"StartAt": names[0], "States": states}


def test_the_history_limit_event_fails_the_execution_unless_it_ends_it(
        cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    """Event N (25,000 on AWS; lowered here to keep the test fast) is the last: an
    ExecutionSucceeded there succeeds, anything else becomes ExecutionFailed."""
    monkeypatch.setattr(strict, "HISTORY_EVENTS_MAX", 22)
    exact = run_asl(cloud, _chain(10))  # 22 events, the last one ExecutionSucceeded
    assert exact["status"] == "SUCCEEDED"
    monkeypatch.setattr(strict, "HISTORY_EVENTS_MAX", 21)
    arn = machine(cloud, _chain(10))
    execution = cloud.sfn.start_execution(stateMachineArn=arn, name="long")["executionArn"]
    while (described := cloud.sfn.describe_execution(executionArn=execution))["status"] == \
            "RUNNING":
        time.sleep(0.01)
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED", "States.Runtime",
        "The execution reached the maximum number of history events (21).")
    history = cloud.history(execution)
    assert [event["id"] for event in history] == list(range(1, 22))
    assert history[-2]["type"] == "PassStateEntered"
    assert history[-1]["type"] == "ExecutionFailed"


def test_a_long_loop_stops_at_the_history_limit(
        cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(strict, "HISTORY_EVENTS_MAX", 300)
    described = run_asl(cloud, jsonata_machine({  # 200 rounds: about 800 events
        "Init": {"Type": "Pass", "Assign": {"i": 0}, "Next": "Loop"},
        "Loop": {"Type": "Choice", "Default": "Done",
                 "Choices": [{"Condition": "{% $i < 200 %}", "Next": "Spin"}]},
        "Spin": {"Type": "Pass", "Assign": {"i": "{% $i + 1 %}"}, "Next": "Loop"},
        "Done": {"Type": "Succeed"},
    }, "Init"))
    assert (described["status"], described["error"]) == ("FAILED", "States.Runtime")
    assert len(cloud.history(described["executionArn"])) == 300


# --------------------------------------------------------------------------- on, always


def test_every_rule_is_in_place_and_verify_notices_a_missing_one(
        cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    strict.verify()
    assert strict.rules() == ["api", "execution-names", "definition", "payload", "catch",
                              "causes", "history", "create-idempotency"]
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

    monkeypatch.setattr(EventManager, "add_event", EventManager.add_event.__wrapped__)
    with pytest.raises(strict.StrictLayerOff, match="history"):
        strict.verify()


def test_a_fresh_local_cloud_is_strict_with_no_switch_to_turn_it_off() -> None:
    """A new interpreter that only enters LocalCloud (as the CLI, serve and tests do) gets
    the strict layer: apply_all installs it, there is no setting that skips it."""
    probe = (
        "import json\n"
        "from local.cloud import LocalCloud\n"
        "from local import strict\n"
        "with LocalCloud() as cloud:\n"
        "    strict.verify()\n"
        "    try:\n"
        "        cloud.sfn.create_state_machine(\n"
        "            name='x', roleArn='arn:aws:iam::123456789012:role/r',\n"
        "            definition=json.dumps({'StartAt': 'a' * 81,\n"
        "                'States': {'a' * 81: {'Type': 'Pass', 'End': True}}}))\n"
        "    except cloud.sfn.exceptions.InvalidDefinition:\n"
        "        print('strict')\n")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.stdout.strip() == "strict", result.stderr[-2000:]
