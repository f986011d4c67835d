"""The deployed roles, as an IAM check of recorded calls sees them; and ``-p
tests.support.iam_audit``: an opt-in pytest plugin that checks, at each test's end, every
AWS call the local cloud attributed during it (``local.call_recorder``) against the
synthesized stack's roles. ``tests/cdk/test_iam_calls.py`` runs a fixed set of flows
through the same check; the plugin extends it to whatever a test run exercises::

    .venv/bin/python -m pytest -p tests.support.iam_audit tests/local/test_serve.py

A refused call errors the test in teardown, naming function, action and resource.

The local cloud names things without the stage (tables ``sfnflow-<suffix>``, machines by
workflow name, schedules in the ``default`` group); ``StageNames`` maps each recorded ARN
onto the stage's names through ``sfnflow_cdk.naming``, the rules the stack uses.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local.call_recorder import STATE_MACHINE, Call, CallRecorder, Request
from local.cloud import UNDELIVERED
from tests.support import iam_policy

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENT = iam_policy.Environment()
STREAM_API = "abc123"  # the WebSocket API id of tests.functions.services.test_streams
TOKEN_KEY = "stream-token-key"  # the local cloud's token key, whatever its random id
HANDLED_REFUSALS = (
    # /admin/prune sweeps expired items with a Scan only where the role allows one; the
    # API's does not (TTL deletes them), and prune reports the tables it skipped. Locally
    # the Scan succeeds, so the sweep's delete of the node cache (a table prune touches
    # only there) follows it; in AWS it never runs.
    ("sfnflow-api", "dynamodb:Scan", "*"),
    ("sfnflow-api", "dynamodb:BatchWriteItem", "*:table/*-node-cache"),
)
"""(principal, action, resource pattern) whose AccessDenied the code handles by design."""


@dataclass
class DeployedRoles:
    """Each principal's statements in the template, resolved for the local account."""

    statements: dict[str, list[iam_policy.Statement]]  # principal -> statements
    names: StageNames

    def refused(self, calls: Iterable[Call]) -> list[str]:
        problems: set[str] = set()
        for call in calls:
            request = self.names.request(call.request)
            statements = self.statements.get(call.principal)
            if any(call.principal == principal and request.action == action
                   and all(iam_policy.matches(pattern, r) for r in request.resources)
                   for principal, action, pattern in HANDLED_REFUSALS):
                continue
            if statements is None:
                problems.add(f"{call.principal}: no deployed role ({call.operation})")
            elif not iam_policy.allowed(statements, request.action, request.resources,
                                        dict(request.conditions)):
                conditions = "".join(f" [{k}={v}]" for k, v in request.conditions)
                problems.add(f"{call.principal}: {request.action} on "
                             f"{', '.join(request.resources)}{conditions}")
        return sorted(problems)


class StageNames:
    """Local names -> the stage's (``sfnflow_cdk.naming.Naming``)."""

    def __init__(self, naming: Any) -> None:
        from sfnflow_cdk import functions as fns

        from functions.config import Config
        from functions.store.models import TABLE_SUFFIXES

        self.naming = naming
        self.local = Config.from_env()
        self.suffixes = set(TABLE_SUFFIXES.values())
        self.functions = {spec.role for spec in fns.ALL_FUNCTIONS}

    def machine(self, local: str) -> str:
        return self.naming.state_machine(local.removeprefix(self.local.state_machine_prefix))

    def arn(self, arn: str) -> str:
        parts = arn.split(":", 5)
        if len(parts) < 6:
            return arn
        service, resource = parts[2], parts[5]
        if service == "dynamodb" and resource.startswith("table/"):
            table, _, rest = resource.removeprefix("table/").partition("/")
            suffix = table.removeprefix(f"{self.local.table_prefix}-")
            if suffix in self.suffixes:
                resource = "table/" + self.naming.table(suffix) + (f"/{rest}" if rest else "")
        elif service == "states" and resource.startswith(("stateMachine:", "execution:")):
            kind, machine, *rest = resource.split(":")
            base, slash, label = machine.partition("/")  # Distributed Map runs: <sm>/<label>
            resource = ":".join([kind, self.machine(base) + slash + label, *rest])
        elif service == "lambda" and resource.startswith("function:"):
            role = resource.removeprefix("function:sfnflow-")
            if role in self.functions:
                resource = "function:" + self.naming.function(role)
        elif service == "events" and resource.startswith("rule/"):
            *bus, name = resource.removeprefix("rule/").split("/")
            resource = "rule/" + "".join(f"{b}/" for b in bus) + self.machine(name)
        elif service == "kms" and arn == os.environ.get("SFNFLOW_STREAM_TOKEN_KEY_ARN"):
            resource = f"key/{TOKEN_KEY}"
        elif service == "sqs" and resource == UNDELIVERED:  # the stage's dead letters
            resource = self.naming.queue(UNDELIVERED.removeprefix("sfnflow-"))
        elif service == "scheduler" and resource.startswith("schedule/"):
            group, name = resource.removeprefix("schedule/").split("/", 1)
            if group == self.local.schedule_group:
                group = self.naming.prefix
            resource = f"schedule/{group}/{self.machine(name)}"
        return ":".join([*parts[:5], resource])

    def request(self, request: Request) -> Request:
        return Request(request.action, tuple(self.arn(r) for r in request.resources),
                       request.conditions)


def deployed_roles(stack: Any, template: dict[str, Any]) -> DeployedRoles:
    """Statements per principal: the functions by name, the state machine, and the roles
    the API hands to AWS services by the ARNs the local cloud uses (``_LOCAL_ENV``)."""
    from sfnflow_cdk import functions as fns

    from local.cloud import _LOCAL_ENV

    def logical(construct: Any) -> str:
        return str(stack.get_logical_id(construct.node.default_child))

    local_roles = {
        _LOCAL_ENV["SFNFLOW_STATE_MACHINE_ROLE_ARN"]: stack.state_machine_role,
        _LOCAL_ENV["SFNFLOW_EVENTS_ROLE_ARN"]: stack.events.events_role,
        _LOCAL_ENV["SFNFLOW_SCHEDULER_ROLE_ARN"]: stack.events.scheduler_role,
    }
    physical = {logical(role): arn.rsplit("/", 1)[-1] for arn, role in local_roles.items()}
    physical[logical(stack.storage.bucket)] = _LOCAL_ENV["SFNFLOW_PAYLOAD_BUCKET"]
    physical[logical(stack.streams.api)] = STREAM_API
    if getattr(stack.streams, "token_key", None) is not None:
        physical[logical(stack.streams.token_key)] = TOKEN_KEY
    resolver = iam_policy.Resolver(template, ENVIRONMENT, physical)

    def of(role: Any) -> list[iam_policy.Statement]:
        return iam_policy.role_statements(template, logical(role), resolver)

    statements = {f"sfnflow-{spec.role}": of(stack.functions.roles[spec.role])
                  for spec in fns.ALL_FUNCTIONS}
    statements[STATE_MACHINE] = of(stack.state_machine_role)
    statements.update({arn: of(role) for arn, role in local_roles.items()})
    return DeployedRoles(statements, StageNames(stack.naming))


# --------------------------------------------------------------------------- the plugin


def build_stack() -> tuple[Any, dict[str, Any]]:
    """The stack and its template, bundling and cdk-nag skipped (as tests/cdk does)."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    if str(ROOT / "cdk") not in sys.path:
        sys.path.insert(0, str(ROOT / "cdk"))
    from aws_cdk.assertions import Template
    from sfnflow_cdk import build_app

    _, stack = build_app({"aws:cdk:bundling-stacks": []}, with_nag=False)
    return stack, Template.from_stack(stack).to_json()


@pytest.fixture(scope="session")
def sfnflow_deployed_roles() -> DeployedRoles:
    return deployed_roles(*build_stack())


@pytest.fixture(autouse=True)
def sfnflow_iam_audit(sfnflow_deployed_roles: DeployedRoles) -> Iterator[None]:
    with CallRecorder() as recorder:
        yield
    if recorder.calls:
        refused = sfnflow_deployed_roles.refused(recorder.calls)
        if refused:
            pytest.fail("the deployed roles would refuse:\n" + "\n".join(refused),
                        pytrace=False)
