"""Reserved concurrency of the runners (stack context ``runnerReservedConcurrency``).

Lambda's rules (Lambda developer guide, "Configuring reserved concurrency"; API
``Concurrency``): ReservedConcurrentExecutions is an integer >= 0, 0 throttles every
invoke, and an account keeps at least 100 executions unreserved — so the default leaves it
unset (a new account's quota may be lower than any number we could pick), and a setting
applies to the node runner and the code runner it calls, nothing else.
"""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, RemovalPolicy, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template
from sfnflow_cdk import functions as fns
from sfnflow_cdk.naming import Naming
from sfnflow_cdk.stack import Settings

from .conftest import SKIP_BUNDLING


def reserved(runner_reserved_concurrency: int | None) -> dict[str, Any]:
    stack = Stack(App(context=dict(SKIP_BUNDLING)), "Probe")
    fns.PlatformFunctions(stack, "Functions", naming=Naming("dev"),
                          code=lambda_.Code.from_inline("def handler(e, c): pass"),
                          log_level="INFO", log_retention=logs.RetentionDays.ONE_DAY,
                          removal_policy=RemovalPolicy.DESTROY,
                          runner_reserved_concurrency=runner_reserved_concurrency)
    functions = Template.from_stack(stack).find_resources("AWS::Lambda::Function")
    return {f["Properties"]["FunctionName"]: f["Properties"].get("ReservedConcurrentExecutions")
            for f in functions.values()}


def test_runners_share_the_account_pool_by_default() -> None:
    assert set(reserved(None).values()) == {None}


def test_the_setting_reserves_the_node_and_code_runners_only() -> None:
    by_name = reserved(200)
    assert {name for name, value in by_name.items() if value is not None} == {
        "sfnflow-dev-node-runner", "sfnflow-dev-code-runner"}
    assert by_name["sfnflow-dev-node-runner"] == by_name["sfnflow-dev-code-runner"] == 200


@pytest.mark.parametrize(("context", "expected"), [
    ({}, None), ({"runnerReservedConcurrency": 150}, 150),
    ({"runnerReservedConcurrency": "150"}, 150),  # -c runnerReservedConcurrency=150
])
def test_context_sets_it(context: dict[str, Any], expected: int | None) -> None:
    assert Settings.from_context(App(context=context)).runner_reserved_concurrency == expected


@pytest.mark.parametrize("value", [0, -5, "many", "2.5", True])
def test_a_setting_that_would_throttle_everything_or_is_no_count_is_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="runnerReservedConcurrency"):
        Settings.from_context(App(context={"runnerReservedConcurrency": value}))
