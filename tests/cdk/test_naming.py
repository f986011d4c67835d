"""Stage names are unambiguous: no name, ARN pattern or IAM wildcard of one stage reaches
another stage's resources (issue 10, item 12)."""

from __future__ import annotations

import fnmatch
import itertools
from typing import Any

import pytest

from . import conftest  # noqa: F401  (puts cdk/ on sys.path)

# Stages a team might pick; those the naming rules refuse are skipped, the rest must not
# reach each other.
CANDIDATES = ["dev", "dev-alice", "dev2", "devalice", "prod", "prod-eu", "d", "de"]
WORKFLOWS = ["orders", "alice-orders", "x"]


def _concrete(stack: Any, value: str) -> str:
    """A token-bearing ARN as a deployed account would see it (partition aws)."""
    resolved = stack.resolve(value)
    if isinstance(resolved, str):
        return resolved
    separator, parts = resolved["Fn::Join"]
    refs = {"AWS::Partition": "aws", "AWS::Region": "us-east-1",
            "AWS::AccountId": "123456789012"}
    return separator.join(part if isinstance(part, str) else refs[part["Ref"]]
                          for part in parts)


def _names(stage: str) -> dict[str, Any]:
    """Everything of one stage: concrete names/ARNs and the patterns that grant on them."""
    from aws_cdk import App, Stack
    from sfnflow_cdk.naming import Naming

    naming = Naming(stage)
    stack = Stack(App(), f"naming-{stage}")
    machines = [_concrete(stack, naming.state_machine_arn(stack, w)) for w in WORKFLOWS]
    return {
        "naming": naming,
        "machines": machines,
        "executions": [m.replace(":stateMachine:", ":execution:") + ":run-1" for m in machines],
        "rules": [f"{naming.state_machine_prefix}{w}-0123abcd" for w in WORKFLOWS],
        "machine_pattern": _concrete(stack, naming.state_machines_arn(stack)),
        "execution_pattern": _concrete(stack, naming.executions_arn(stack)),
        "rule_pattern": naming.state_machine_prefix + "*",
        "status_change_prefix": _concrete(stack, naming.state_machine_arn_prefix(stack)),
        "functions": [naming.function(r) for r in ("api", "node-runner")],
        "tables": [naming.table(s) for s in ("workflows", "executions")],
    }


def _valid(stage: str) -> bool:
    from sfnflow_cdk.naming import Naming

    try:
        Naming(stage)
    except ValueError:
        return False
    return True


def test_a_stage_with_a_dash_is_refused_with_the_reason() -> None:
    from sfnflow_cdk.naming import Naming

    with pytest.raises(ValueError, match="no '-'"):
        Naming("dev-alice")
    for stage in ("dev", "dev2", "prodeu"):
        assert Naming(stage).prefix == f"sfnflow-{stage}"


def test_each_stage_reaches_its_own_names() -> None:
    for stage in filter(_valid, CANDIDATES):
        own = _names(stage)
        assert all(fnmatch.fnmatchcase(m, own["machine_pattern"]) for m in own["machines"])
        assert all(fnmatch.fnmatchcase(e, own["execution_pattern"]) for e in own["executions"])
        assert all(fnmatch.fnmatchcase(r, own["rule_pattern"]) for r in own["rules"])
        assert all(m.startswith(own["status_change_prefix"]) for m in own["machines"])


def test_no_stage_reaches_another_stages_names() -> None:
    """IAM wildcards (``*`` matches anything, ``-`` included), the status-change rule's
    prefix, and the error router's prefix test (``Config.workflow_of``) of one stage never
    match the other's machines, executions, rules, functions or tables."""
    from functions.config import Config

    stages = [s for s in CANDIDATES if _valid(s)]
    assert len(stages) >= 5
    for a, b in itertools.permutations(stages, 2):
        mine, theirs = _names(a), _names(b)
        for machine in theirs["machines"]:
            assert not fnmatch.fnmatchcase(machine, mine["machine_pattern"]), (a, machine)
            assert not machine.startswith(mine["status_change_prefix"]), (a, machine)
            config = Config(state_machine_prefix=mine["naming"].state_machine_prefix)
            assert config.workflow_of(machine) is None, (a, machine)
        for execution in theirs["executions"]:
            assert not fnmatch.fnmatchcase(execution, mine["execution_pattern"]), (a, execution)
        for name in (*theirs["rules"], *theirs["functions"], *theirs["tables"]):
            assert not fnmatch.fnmatchcase(name, mine["rule_pattern"]), (a, name)
            assert not name.startswith(mine["naming"].state_machine_prefix), (a, name)
