"""The stage-wide concurrency limit (stack context ``globalConcurrency``) reaches the
functions that admit executions as ``SFNFLOW_GLOBAL_CONCURRENCY`` (``Config``), and no
other function; without it no function has the variable (no stage-wide limit)."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template
from sfnflow_cdk import build_app
from sfnflow_cdk.stack import ADMITTERS, Settings

from .conftest import SKIP_BUNDLING, Built

VARIABLE = "SFNFLOW_GLOBAL_CONCURRENCY"


def _limits(template: Any) -> dict[str, str | None]:
    """Function (its service name, or its logical id for CDK's own) -> the variable."""
    limits = {}
    for logical_id, function in template.find_resources("AWS::Lambda::Function").items():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        name = variables.get("POWERTOOLS_SERVICE_NAME", logical_id)
        limits[name] = variables.get(VARIABLE)
    return limits


def test_without_the_context_no_function_has_a_stage_limit(built: Built) -> None:
    assert set(_limits(built.template).values()) == {None}


def test_the_context_sets_it_on_the_admitting_functions_only() -> None:
    _, stack = build_app({**SKIP_BUNDLING, "globalConcurrency": "7"})
    limits = _limits(Template.from_stack(stack))
    admitting = {f"sfnflow-{spec.role}" for spec in ADMITTERS}
    assert admitting <= set(limits)
    assert {limits[name] for name in admitting} == {"7"}
    assert {v for name, v in limits.items() if name not in admitting} == {None}


@pytest.mark.parametrize("value", [0, -1, "many", True])
def test_a_limit_that_is_no_positive_count_is_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="globalConcurrency"):
        Settings.from_context(App(context={"globalConcurrency": value}))
