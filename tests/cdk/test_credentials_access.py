"""Who may touch the stage's credential secrets (``permissions.grant_credentials``): the
node runner reads values, the API writes them and never reads one, nobody else either; and
the ARN patterns follow Secrets Manager's rule that a secret's ARN ends in ``-`` and six
random characters."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Stack
from sfnflow_cdk import permissions

from tests.support.iam_policy import matches

from .conftest import Built, policy_statements
from .test_iam import ROLE_PATHS, _text

PREFIX = "arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:" \
    "sfnflow/dev/credentials/"


def _secret_statements(built: Built, role: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for statement in policy_statements(built, ROLE_PATHS[role]):
        actions = statement["Action"] if isinstance(statement["Action"], list) \
            else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) \
            else [statement["Resource"]]
        for action in actions:
            if action.startswith("secretsmanager:"):
                found.setdefault(action, []).extend(_text(built, r) for r in resources)
    return found


@pytest.fixture(scope="module")
def granted(built: Built) -> dict[str, dict[str, list[str]]]:
    """Function role -> its Secrets Manager actions -> their resources."""
    return {role: _secret_statements(built, role) for role in ROLE_PATHS}


def test_the_runner_reads_the_stages_credentials_and_nothing_else(
        granted: dict[str, Any]) -> None:
    assert granted["node-runner"] == {"secretsmanager:GetSecretValue": [PREFIX + "*"]}


def test_the_api_writes_credentials_and_never_reads_a_value(granted: dict[str, Any]) -> None:
    granted = dict(granted["api"])
    assert "secretsmanager:GetSecretValue" not in granted
    assert granted.pop("secretsmanager:ListSecrets") == ["*"]  # no resource-level scope
    assert granted == {action: [PREFIX + "*"] for action in (
        "secretsmanager:CreateSecret", "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecret", "secretsmanager:DescribeSecret",
        "secretsmanager:DeleteSecret", "secretsmanager:TagResource")}


def test_no_other_function_touches_secrets(granted: dict[str, Any]) -> None:
    assert {role: found for role, found in granted.items()
            if role not in ("node-runner", "api") and found} == {}


def _rendered(stack: Any, value: Any) -> str:
    from sfnflow_cdk.nag import _render

    return str(_render(stack.resolve(value)))


def _arn(stack: Any, secret: str) -> str:
    return _rendered(stack, stack.format_arn(
        service="secretsmanager", resource="secret", resource_name=secret,
        arn_format=permissions.ArnFormat.COLON_RESOURCE_NAME))


def test_one_credentials_pattern_is_its_name_and_six_characters() -> None:
    stack = Stack(App(), "s", env={"account": "123456789012", "region": "eu-west-1"})
    pattern = _rendered(stack, permissions.credential_secrets_arn(stack, "dev",
                                                                  "partner-header"))
    assert pattern.endswith(":secret:sfnflow/dev/credentials/partner-header-??????")
    assert matches(pattern, _arn(stack, "sfnflow/dev/credentials/partner-header-a1B2c3"))
    assert not matches(pattern, _arn(stack, "sfnflow/dev/credentials/partner-header"))
    assert not matches(pattern, _arn(stack, "sfnflow/dev/credentials/partner-header-x-a1B2c3"))
    assert not matches(pattern, _arn(stack, "sfnflow/prod/credentials/partner-header-a1B2c3"))
    every = _rendered(stack, permissions.credential_secrets_arn(stack, "dev"))
    assert matches(every, _arn(stack, "sfnflow/dev/credentials/partner-header-a1B2c3"))
    assert not matches(every, _arn(stack, "sfnflow/devx/credentials/any-a1B2c3"))
