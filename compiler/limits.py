"""Step Functions quotas a compiled workflow must fit, checked before it is deployed.

Kept out of ``compile_workflow`` so tooling (benchmarks, ``sfnflow plan``) can still look at
plans that are too big to deploy; every deploy path and ``sfnflow validate`` call
``enforce_limits``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from compiler.errors import Problem, WorkflowInvalid

if TYPE_CHECKING:  # (the pipeline's passes read the limits below: no import cycle)
    from compiler.pipeline import CompiledWorkflow

MAX_DEFINITION_BYTES = 1_048_576  # a state machine definition is at most 1 MiB
# An error's (or a Fail state's) cause keeps at most 32,768 characters; what sfnflow puts
# in one stays under this, leaving room for JSON escaping and the runner's wrapping.
ERROR_CAUSE_LIMIT = 32_768
CAUSE_BUDGET = 32_000
# A Lambda function runs at most 900 s (15 minutes): the node runner's timeout, so a
# runner node's ``timeoutSeconds`` above it never takes effect.
LAMBDA_MAX_SECONDS = 900


def definition_bytes(definition: dict[str, Any]) -> int:
    """The definition's size as Step Functions counts it (compact JSON, UTF-8)."""
    text = json.dumps(definition, separators=(",", ":"), ensure_ascii=False)
    return len(text.encode())


def limit_problems(compiled: CompiledWorkflow) -> list[Problem]:
    size = definition_bytes(compiled.definition)
    if size <= MAX_DEFINITION_BYTES:
        return []
    nodes = len(compiled.graph)
    per_node = size / max(nodes, 1)
    fit = int(MAX_DEFINITION_BYTES * 0.9 / per_node)
    return [Problem(
        None, "nodes",
        f"the compiled state machine is {size / 1024:,.0f} KiB, over Step Functions' "
        f"1 MiB definition limit ({nodes} nodes, ~{per_node:,.0f} bytes each). Split the "
        f"workflow: move groups of nodes into their own workflows and call them with "
        f"executeWorkflow nodes (about {fit} nodes fit in one workflow).",
        "too_large",
    )]


def enforce_limits(compiled: CompiledWorkflow) -> CompiledWorkflow:
    problems = limit_problems(compiled)
    if problems:
        raise WorkflowInvalid(problems)
    return compiled
