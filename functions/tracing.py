"""Traces and log correlation for the handlers: one Powertools Tracer, the correlation
keys every log line of a node run carries, and one X-Ray subsegment per node run.

The Tracer is a no-op wherever no X-Ray daemon listens: Powertools disables it outside a
Lambda execution environment or with ``POWERTOOLS_TRACE_DISABLED=true`` (the local
cloud's setting), so the same decorators run locally without a daemon.

Correlation keys are appended per invocation with Powertools' thread-safe keys: the local
cloud runs several handlers at once on threads of one process, where keys shared by a
logger's formatter would leak from one node run into another's lines. In Lambda (one
invocation at a time) the two behave alike. ``functions.services.execution_logs`` finds an
execution's lines by the ``execution`` key, in CloudWatch Logs Insights and locally.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Tracer

tracer = Tracer()

# The keys of a node run's log lines, in the order a reader scans them.
WORKFLOW, EXECUTION, NODE, RUN_INDEX, ATTEMPT = (
    "workflow", "execution", "node", "runIndex", "attempt")
CORRELATION_KEYS = (WORKFLOW, EXECUTION, NODE, RUN_INDEX, ATTEMPT)


def node_run_keys(event: Mapping[str, Any]) -> dict[str, Any]:
    """The correlation keys of a node-runner event (those it has): the event is read
    before it is validated, so nothing here may raise."""
    node = event.get("node")
    execution = event.get("execution")
    keys = {
        WORKFLOW: event.get("workflow"),
        EXECUTION: execution.get("id") if isinstance(execution, Mapping) else None,
        NODE: node.get("name") if isinstance(node, Mapping) else None,
        RUN_INDEX: event.get("runIndex", 0) if isinstance(node, Mapping) else None,
        ATTEMPT: event.get("attempt", 1) if isinstance(node, Mapping) else None,
    }
    return {key: value for key, value in keys.items() if value is not None}


@contextmanager
def correlated(logger: Logger, keys: Mapping[str, Any]) -> Iterator[None]:
    """This thread's log lines carry ``keys`` (and no other correlation keys) inside the
    block; the keys before it are back after it. Powertools keeps thread-safe keys in one
    context for every logger, so a handler invoked in-process by another (the local
    cloud) must leave its caller's keys as it found them."""
    before = dict(logger.thread_safe_get_current_keys())
    logger.thread_safe_clear_keys()
    logger.thread_safe_append_keys(**keys)
    try:
        yield
    finally:
        logger.thread_safe_clear_keys()
        logger.thread_safe_append_keys(**before)


@contextmanager
def node_run_segment(event: Mapping[str, Any]) -> Iterator[Any]:
    """An X-Ray subsegment around one node run, annotated (searchable in X-Ray) with the
    workflow, node and node type; ``annotate_run`` adds the status and item counts."""
    node = event.get("node") if isinstance(event.get("node"), Mapping) else {}
    with tracer.provider.in_subsegment("## node run") as subsegment:
        for key, value in ((WORKFLOW, event.get("workflow")), (NODE, node.get("name")),
                           ("nodeType", node.get("type"))):
            if isinstance(value, str):
                subsegment.put_annotation(key, value)
        yield subsegment


def annotate_run(status: str, input_counts: list[int], output_counts: list[int]) -> None:
    """The run's status (annotation) and item counts (metadata) on the current segment."""
    tracer.put_annotation("status", status)
    tracer.put_metadata("items", {"in": input_counts, "out": output_counts})
