"""Configuration: ARNs carry the partition (issue 10, item 19), never a literal ``arn:aws:``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from functions.config import Config, partition_of

ROOT = Path(__file__).resolve().parents[2]
# ``arn:aws:`` followed by a service: a hard-coded partition. (Docstrings may show one as
# an example; code may not.)
LITERAL_ARN = re.compile(r"""["']arn:aws:[a-z]""")


@pytest.mark.parametrize(("region", "partition"), [
    ("us-east-1", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"),
    ("xx-new-1", "aws")])
def test_the_partition_follows_the_region(region: str, partition: str) -> None:
    assert partition_of(region) == partition


def test_arns_carry_the_partition(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "cn-northwest-1")
    monkeypatch.setenv("SFNFLOW_ACCOUNT_ID", "111122223333")
    monkeypatch.setenv("SFNFLOW_STATE_MACHINE_PREFIX", "sfnflow-dev-")
    config = Config.from_env()
    assert config.state_machine_arn("orders") == \
        "arn:aws-cn:states:cn-northwest-1:111122223333:stateMachine:sfnflow-dev-orders"
    assert config.workflow_of(config.state_machine_arn("orders")) == "orders"
    # a published version's ARN (executions start on one) names the same workflow
    assert config.workflow_of(config.state_machine_arn("orders") + ":7") == "orders"
    assert config.workflow_of(config.state_machine_arn("orders").replace(
        "sfnflow-dev-", "other-")) is None
    # The stack says which partition it is in; that wins over the region's guess.
    monkeypatch.setenv("SFNFLOW_PARTITION", "aws-iso")
    assert Config.from_env().arn("iam", "role/r", region="") == \
        "arn:aws-iso:iam::111122223333:role/r"


def test_no_code_in_functions_or_local_hard_codes_the_aws_partition() -> None:
    offenders = [f"{path.relative_to(ROOT)}:{number}"
                 for folder in ("functions", "local")
                 for path in sorted((ROOT / folder).rglob("*.py"))
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if LITERAL_ARN.search(line)]
    assert offenders == []
