"""The node runner's metrics: every recorded run counts by node type, a failure and an
output sent through S3 too (``functions.metrics``)."""

from __future__ import annotations

import pytest

from functions.errors import CodeError
from functions.runner import NodeRunner
from local.cloud import LocalCloud
from tests.functions.conftest import Collected
from tests.functions.test_runner import event


def test_a_run_a_failure_and_an_offloaded_output_are_counted(cloud: LocalCloud,
                                                              collected: Collected) -> None:
    runner = NodeRunner(cloud.repository)
    big = "return [{'text': 'x' * 1000, 'n': n} for n in range(100)]"
    result = runner.run(event("code", params={"code": big}, items=[{}], outputRefs=True))
    assert "ref" in result["ports"][0]
    with pytest.raises(CodeError):
        runner.run(event("code", "Boom", params={"code": "raise ValueError('x')"},
                         items=[{}], attempt=2))
    code = {"nodeType": "code"}
    assert collected.names == [
        ("NodeRuns", code), ("NodeDuration", code), ("PayloadOffloads", code),
        ("NodeRuns", code), ("NodeDuration", code), ("NodeFailures", code), ("Retries", code),
    ]
