"""cdk-nag AwsSolutions finds nothing unacknowledged, every acknowledgement says why, and
cfn-lint passes on the synthesized template."""

from __future__ import annotations

import json
from typing import Any

from .conftest import Built

IGNORED_LINT_RULES = {"W3005"}  # CDK's explicit DependsOn next to a GetAtt: harmless


def _acknowledgements(built: Built) -> list[dict[str, Any]]:
    from aws_cdk import Validations

    key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    found = []
    for construct in built.stack.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == key:
                data = entry.data
                found += data if isinstance(data, list) else [data]
    return found


def test_no_unacknowledged_nag_findings(built: Built) -> None:
    from sfnflow_cdk.nag import nag_checks

    report = nag_checks(built.app).validate_scope(built.app)
    findings = [(v.rule_name, [r.construct_path for r in v.violating_resources])
                for v in report.violations]
    assert findings == []
    assert report.success


def test_every_acknowledgement_has_a_reason(built: Built) -> None:
    acknowledgements = _acknowledgements(built)
    assert acknowledgements, "expected the stack's acknowledgements in construct metadata"
    for ack in acknowledgements:
        items = ack.items() if isinstance(ack, dict) else []
        for rule, reason in items:
            text = reason.get("reason") if isinstance(reason, dict) else reason
            assert isinstance(text, str) and len(text) > 40, rule


def test_a_new_wildcard_is_not_acknowledged(built: Built) -> None:
    """Only reviewed wildcard scopes are acknowledged: one nobody reviewed is a finding."""
    from aws_cdk import App, Stack
    from aws_cdk import aws_iam as iam
    from sfnflow_cdk.nag import nag_checks

    app = App()
    stack = Stack(app, "Probe")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"],
                                           resources=["arn:aws:s3:::other/*"]))
    report = nag_checks(app).validate_scope(app)
    assert any(v.rule_name.startswith("AwsSolutions-IAM5") for v in report.violations)


def test_cfn_lint_passes(built: Built) -> None:
    from cfnlint.api import lint_all

    template = json.dumps(built.template.to_json())
    # errors and warnings, as the cfn-lint command reports by default (not informational)
    problems = [str(m) for m in lint_all(template)
                if m.rule.id[0] in "EW" and m.rule.id not in IGNORED_LINT_RULES]
    assert problems == []
