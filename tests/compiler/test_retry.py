"""The Retry of every Task that invokes a runner Lambda (compiler.lowering.task).

Rules encoded here (Step Functions developer guide, "Error handling" and "Handle Lambda
service exceptions"): retriers are scanned in order and the first whose ErrorEquals names
the error applies; ``States.ALL`` must stand alone in the last retrier; a Lambda throttle
reaches a Task as ``Lambda.TooManyRequestsException``, the service's transient 500s as
``Lambda.ClientExecutionTimeoutException``, ``Lambda.ServiceException``,
``Lambda.AWSLambdaException`` and ``Lambda.SdkClientException`` (recommended retrier: 2 s,
backoff 2, 6 attempts); ``JitterStrategy: FULL`` draws each delay from [0, backoff].
"""

from __future__ import annotations

from typing import Any

import pytest

from compiler import compile_workflow
from tests.compiler.test_emit import chain, states_of

THROTTLE = "Lambda.TooManyRequestsException"
TRANSIENT = ["Lambda.ClientExecutionTimeoutException", "Lambda.ServiceException",
             "Lambda.AWSLambdaException", "Lambda.SdkClientException"]
CODE = {"name": "Call", "type": "code", "parameters": {"code": "return items"}}


def task_retry(node: dict[str, Any]) -> list[dict[str, Any]]:
    compiled = compile_workflow(chain(node))
    retry: list[dict[str, Any]] = states_of(compiled)[node["name"]]["Retry"]
    return retry


def first_match(retry: list[dict[str, Any]], error: str) -> int:
    """The index of the retrier Step Functions applies to ``error``."""
    return next(i for i, retrier in enumerate(retry)
                if error in retrier["ErrorEquals"] or retrier["ErrorEquals"] == ["States.ALL"])


def backoff_ceilings(retrier: dict[str, Any]) -> list[float]:
    """The delay before each retry (the upper bound of the draw with full jitter)."""
    cap = retrier.get("MaxDelaySeconds", float("inf"))
    return [min(retrier["IntervalSeconds"] * retrier["BackoffRate"] ** n, cap)
            for n in range(retrier["MaxAttempts"])]


def test_throttles_have_their_own_long_jittered_retrier() -> None:
    retry = task_retry(CODE)
    throttle = retry[first_match(retry, THROTTLE)]
    assert throttle["ErrorEquals"] == [THROTTLE]
    assert throttle["JitterStrategy"] == "FULL"  # throttled iterations do not return in lockstep
    assert throttle["MaxAttempts"] >= 8
    assert 0 < throttle["MaxDelaySeconds"] <= 120
    assert sum(backoff_ceilings(throttle)) >= 300  # rides out minutes of a saturated function


def test_transient_service_errors_get_the_retrier_aws_recommends() -> None:
    retry = task_retry(CODE)
    (index,) = {first_match(retry, error) for error in TRANSIENT}
    assert retry[index] == {"ErrorEquals": TRANSIENT, "IntervalSeconds": 2, "MaxAttempts": 6,
                            "BackoffRate": 2.0}
    assert index != first_match(retry, THROTTLE)


@pytest.mark.parametrize("errors", [["States.ALL"], ["States.TaskFailed"], [THROTTLE]])
def test_the_nodes_policy_comes_after_the_service_retriers(errors: list[str]) -> None:
    """A node retrying States.ALL (which must be last) or States.TaskFailed (which also
    matches Lambda's errors) must not swallow throttles into its few short retries."""
    retry = task_retry({**CODE, "retry": {"maxAttempts": 3, "errors": errors}})
    assert retry[-1]["ErrorEquals"] == errors and retry[-1]["MaxAttempts"] == 2
    assert retry[first_match(retry, THROTTLE)].get("JitterStrategy") == "FULL"
    for error in TRANSIENT:
        assert retry[first_match(retry, error)]["MaxAttempts"] == 6
    assert all("States.ALL" not in r["ErrorEquals"] for r in retry[:-1])


def test_every_runner_task_in_a_loop_and_a_flow_gets_the_throttle_retrier() -> None:
    """#stage/#collect (staged Distributed Map) and rendezvous helpers invoke the runner
    too; a Distributed Map child runs the body's Tasks with the same Retry."""
    body = {**CODE, "name": "Work"}
    workflow = {
        "name": "wide",
        "nodes": [{"name": "Start", "type": "manualTrigger"},
                  {"name": "Make", "type": "code", "parameters": {"code": "return items"}},
                  {"name": "Each", "type": "forEach", "parameters": {"maxConcurrency": 500}},
                  body],
        "connections": [{"from": "Start", "to": "Make"}, {"from": "Make", "to": "Each"},
                        {"from": "Each", "to": "Work", "output": "loop"},
                        {"from": "Work", "to": "Each"}],
    }
    states = states_of(compile_workflow(workflow))
    runner_tasks = {name: state for name, state in states.items() if state["Type"] == "Task"
                    and state["Resource"] == "${NodeRunnerArn}"}
    assert {"Make", "Work"} <= set(runner_tasks)
    assert any(name.startswith("#") for name in runner_tasks)  # the staging helpers
    for name, state in runner_tasks.items():
        assert state["Retry"][first_match(state["Retry"], THROTTLE)]["ErrorEquals"] == \
            [THROTTLE], name
