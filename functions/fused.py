"""A fused runner chain: several nodes in one node-runner invocation, in order.

The compiler runs a chain of runner nodes (each the only successor of the one before, no
retry, timeout or onError routing: ``compiler.passes.decide``) in one Task, whose event is
the first node's, plus ``fused``: the events of the others, in order. Each node runs
exactly as it would in a Task of its own (``NodeRunner.run``: its own run record, progress
events, pins, cache, breaker and rate limit, skip and reuse); the outputs of one become the
next one's ``data`` under the name it reads them by, as the state machine's variable
would carry them. The chain's result is its last node's; an error stops the chain where it
happens, recorded as that node's failed run, and goes back to Step Functions as the error
of an unfused Task would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from functions.runner import NodeRunner


def run_chain(runner: NodeRunner, first: dict[str, Any], rest: list[dict[str, Any]], *,
              time_left: Callable[[], float] | None = None) -> dict[str, Any]:
    """Run ``first`` then every event of ``rest``; the last node's outputs."""
    result = runner.run(first, time_left=time_left)
    previous = first["node"]["name"]
    for event in rest:
        event = {**event, "data": {**event.get("data", {}), previous: result}}
        result = runner.run(event, time_left=time_left)
        previous = event["node"]["name"]
    return result
