"""The database nodes' typed errors (``error_type`` is what Retry/Catch match on).

Retryable failures reuse the platform's retryable types, so a node retries by default
(``compiler.lowering.task.RETRYABLE_ERRORS``): an unreachable database is
``Sfnflow.ConnectionError``, DynamoDB throttling ``Sfnflow.RateLimited``. The rest are
mistakes a retry does not mend: bad SQL, a failed condition, a missing table.
"""

from __future__ import annotations

from functions.errors import NodeError


class SqlError(NodeError):
    """A statement failed: syntax, a missing column, a constraint, a memory limit."""

    error_type = "Sfnflow.SqlError"


class ConditionalCheckFailed(NodeError):
    """A DynamoDB write's conditionExpression did not hold."""

    error_type = "Sfnflow.ConditionalCheckFailed"


class TableNotFound(NodeError):
    error_type = "Sfnflow.TableNotFound"


class DatabaseError(NodeError):
    """Any other error the database answered (validation, access denied, limits)."""

    error_type = "Sfnflow.DatabaseError"
