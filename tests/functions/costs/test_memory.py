"""The Lambda memory the costs use is the memory the stack configures."""

from __future__ import annotations

import ast
from pathlib import Path

from functions.costs.memory import CODE_RUNNER_MB, NODE_RUNNER_MB

FUNCTIONS = Path(__file__).resolve().parents[3] / "cdk" / "sfnflow_cdk" / "functions.py"


def _memory_of(spec: str) -> int:
    """``memory_mb`` of a FunctionSpec in the CDK app, read without importing aws_cdk (the
    spec's own default when it sets none)."""
    tree = ast.parse(FUNCTIONS.read_text())
    default = None
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "memory_mb":
            default = ast.literal_eval(node.value)  # type: ignore[arg-type]
        if (isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == spec
                and isinstance(node.value, ast.Call)):
            for keyword in node.value.keywords:
                if keyword.arg == "memory_mb":
                    return int(ast.literal_eval(keyword.value))
    assert default is not None
    return int(default)


def test_the_node_runner_and_code_runner_memory_agree_with_the_stack() -> None:
    assert _memory_of("NODE_RUNNER") == NODE_RUNNER_MB
    assert _memory_of("CODE_RUNNER") == CODE_RUNNER_MB
