"""The API reads an execution's log lines with Logs Insights: it knows the log groups of
the functions that run executions and may query exactly those."""

from __future__ import annotations

from typing import Any

from sfnflow_cdk import functions as fns

from functions.services.execution_logs import LOG_GROUPS_ENV

from .conftest import Built, policy_statements


def _api_variables(built: Built) -> dict[str, Any]:
    (api,) = [r["Properties"] for r in built.resources("AWS::Lambda::Function").values()
              if r["Properties"].get("FunctionName") == "sfnflow-dev-api"]
    return api["Environment"]["Variables"]


def test_the_api_is_told_the_execution_log_groups(built: Built) -> None:
    groups = _api_variables(built)[LOG_GROUPS_ENV].split(",")
    assert groups == [f"/aws/lambda/sfnflow-dev-{spec.role}" for spec in fns.EXECUTION_LOGS]


def test_the_api_may_query_only_those_log_groups(built: Built) -> None:
    statements = policy_statements(built, "Functions/ApiRole")
    (start,) = [s for s in statements if s["Action"] == "logs:StartQuery"]
    resources = start["Resource"] if isinstance(start["Resource"], list) else [start["Resource"]]
    assert len(resources) == len(fns.EXECUTION_LOGS)
    logical = {str(built.resolve(r)) for r in resources}
    for spec in fns.EXECUTION_LOGS:
        pascal = "".join(part.capitalize() for part in spec.role.split("-"))
        assert any(f"{pascal}Logs" in text for text in logical), spec.role
    (results,) = [s for s in statements if s["Action"] == ["logs:GetQueryResults",
                                                            "logs:StopQuery"]]
    assert results["Resource"] == "*"
