"""Typed errors of n8n's core node semantics.

Both derive from ``functions.errors`` (and so from the one root ``SfnflowError``), so the
runner's Retry/Catch mapping treats them like every other node error. They carry the node
name (and the parameter or item when known) because n8n's messages do: a workflow author
must be able to find the field to fix.
"""

from __future__ import annotations

from functions.errors import NodeError, ParameterError


class NodeParameterError(ParameterError):
    """A parameter is missing, has an unknown value, or its expression cannot be evaluated."""

    error_type = "N8n.NodeParameterError"

    def __init__(
        self, node: str, parameter: str, message: str, *, item_index: int | None = None
    ) -> None:
        super().__init__(f"{node}: parameter '{parameter}': {message}")
        self.node = node
        self.parameter = parameter
        self.item_index = item_index
        self.reason = message


class NodeOperationError(NodeError):
    """The node ran but the data does not allow the operation (n8n's NodeOperationError).

    ``message`` is n8n's own text where n8n's tests compare it; ``description`` is n8n's hint.
    """

    error_type = "N8n.NodeOperationError"

    def __init__(
        self,
        node: str,
        message: str,
        *,
        item_index: int | None = None,
        description: str = "",
    ) -> None:
        super().__init__(message)
        self.node = node
        self.message = message
        self.item_index = item_index
        self.description = description
