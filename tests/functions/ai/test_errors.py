"""The AI nodes' error types as the compiled default Retry sees them."""

from __future__ import annotations

import inspect

from compiler.lowering.task import RETRYABLE_ERRORS
from functions.ai import errors
from functions.errors import NodeError


def _ai_errors() -> list[type[NodeError]]:
    return [cls for _, cls in inspect.getmembers(errors, inspect.isclass)
            if issubclass(cls, NodeError) and cls.__module__ == errors.__name__]


def test_every_retryable_ai_error_is_retried_by_a_nodes_default_retry() -> None:
    """An error that says ``retryable`` must be in the ASL default ``ErrorEquals``, or a
    node with ``retry: {}`` would never retry it (a garbled model reply, for one)."""
    retryable = {cls.error_type for cls in _ai_errors() if cls.retryable}
    assert "Sfnflow.ModelResponseInvalid" in retryable
    assert retryable <= set(RETRYABLE_ERRORS)


def test_no_ai_error_that_the_same_input_repeats_is_retried_by_default() -> None:
    final = {cls.error_type for cls in _ai_errors() if not cls.retryable}
    assert {"Sfnflow.AgentAnswerInvalid", "Sfnflow.ToolInputInvalid"} <= final
    assert not final & set(RETRYABLE_ERRORS)
