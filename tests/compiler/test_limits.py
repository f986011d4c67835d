"""The 1 MiB definition limit: rejected before deploy, with a way out in the message."""

from __future__ import annotations

import pytest

from benchmarks.dags import generate
from compiler import WorkflowInvalid, compile_workflow
from compiler.limits import enforce_limits, limit_problems


def test_small_workflow_fits() -> None:
    compiled = compile_workflow(generate("chain", 50, 1))
    assert limit_problems(compiled) == []
    assert enforce_limits(compiled) is compiled


def test_too_large_definition_is_rejected_with_advice() -> None:
    compiled = compile_workflow(generate("chain", 3000, 1))
    with pytest.raises(WorkflowInvalid) as info:
        enforce_limits(compiled)
    (problem,) = info.value.problems
    assert problem.code == "too_large"
    assert "1 MiB" in problem.message and "executeWorkflow" in problem.message
