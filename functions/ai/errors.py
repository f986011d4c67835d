"""Typed errors of the agent and tool nodes, each with the ``error_type`` Step Functions'
Retry/Catch match on (``functions.errors``).

Retryable where the same call may succeed later: a tool or model that timed out reuses
``Sfnflow.Timeout`` and a rate limit ``Sfnflow.RateLimited``, so the default Retry of every
node (``compiler.lowering.task.RETRYABLE_ERRORS``) covers them with no new names; a model
answer that was no JSON at all is ``Sfnflow.ModelResponseInvalid`` (retryable: a proxy or
an overloaded server garbled it). Never retried: input a tool refuses, output that breaks
its schema, an answer still invalid after being sent back, a conversation out of turns —
the same input would fail the same way.
"""

from __future__ import annotations

from functions.errors import NodeError, NodeTimeout


class ModelResponseInvalid(NodeError):
    """The model server answered 2xx with a body that is not a Chat Completions reply."""

    error_type = "Sfnflow.ModelResponseInvalid"
    retryable = True


class ModelRequestRefused(NodeError):
    """The model refused the request itself (unknown model, bad key, bad parameters)."""

    error_type = "Sfnflow.ModelRequestRefused"


class AgentAnswerInvalid(NodeError):
    """The answer did not match ``answerSchema`` after every retry."""

    error_type = "Sfnflow.AgentAnswerInvalid"


class AgentTurnsExhausted(NodeError):
    """The model was still calling tools when ``maxTurns`` model calls were used."""

    error_type = "Sfnflow.AgentTurnsExhausted"


class ToolInputInvalid(NodeError):
    error_type = "Sfnflow.ToolInputInvalid"


class ToolOutputInvalid(NodeError):
    error_type = "Sfnflow.ToolOutputInvalid"


class ToolFailed(NodeError):
    """A sub-workflow tool's child execution failed, timed out or was aborted."""

    error_type = "Sfnflow.ToolFailed"


class ToolTimeout(NodeTimeout):
    """A tool that did not answer in its ``timeoutSeconds`` (``Sfnflow.Timeout``)."""
