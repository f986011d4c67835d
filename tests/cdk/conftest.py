"""The CDK app, built once per test session and worker with bundling skipped (synth of the
whole stack takes seconds); ``test_synth_cli.py`` runs the real bundling once."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
if str(ROOT / "cdk") not in sys.path:
    sys.path.insert(0, str(ROOT / "cdk"))

SKIP_BUNDLING = {"aws:cdk:bundling-stacks": []}


@dataclass
class Built:
    app: Any
    stack: Any
    template: Any  # aws_cdk.assertions.Template

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        return self.template.find_resources(type_)

    def resolve(self, value: Any) -> Any:
        return self.stack.resolve(value)


@pytest.fixture(scope="session")
def built() -> Built:
    from aws_cdk.assertions import Template
    from sfnflow_cdk import build_app

    app, stack = build_app(dict(SKIP_BUNDLING))
    return Built(app, stack, Template.from_stack(stack))


@pytest.fixture(scope="session")
def template(built: Built) -> Any:
    return built.template


def policy_statements(built: Built, role_path: str) -> list[dict[str, Any]]:
    """Every statement of the policies attached to the role at ``role_path`` (a construct
    path under the stack, e.g. ``Functions/CodeRunnerRole``): its inline policies, and the
    managed policies CDK adds when they overflow IAM's inline size limit."""
    role = built.stack.node.find_child(role_path.split("/")[0])
    for part in role_path.split("/")[1:]:
        role = role.node.find_child(part)
    role_id = built.stack.get_logical_id(role.node.default_child)
    statements = []
    policies = built.resources("AWS::IAM::Policy") | built.resources("AWS::IAM::ManagedPolicy")
    for policy in policies.values():
        roles = policy["Properties"].get("Roles", [])
        if {"Ref": role_id} in roles:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    role_props = built.template.to_json()["Resources"][role_id]["Properties"]
    for inline in role_props.get("Policies", []):
        statements += inline["PolicyDocument"]["Statement"]
    return statements


def actions_of(statements: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for statement in statements:
        actions = statement["Action"]
        found.update(actions if isinstance(actions, list) else [actions])
    return found
