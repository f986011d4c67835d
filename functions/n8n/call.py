"""``NodeCall``: everything a node family needs to run once, and nothing about AWS.

A node function is ``run(call) -> list[list[Item]]`` (one list per output port). The call
holds the node's name and typeVersion, the raw parameters as n8n stores them, the input
items per input port, and an injected expression evaluator. ``call.parameter(path, i)``
returns the parameter at a dotted ``path`` with every string that starts with ``=``
evaluated for item ``i`` — what n8n's ``getNodeParameter(path, itemIndex)`` does. The
evaluator is the caller's (the node runner passes the embedded JavaScript engine); this
package never evaluates JavaScript itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from functions.n8n.errors import NodeParameterError
from functions.n8n.items import Item

#: ``evaluate(expression, item_index)``: ``expression`` is the whole parameter string,
#: including its leading ``=``; the result keeps the type the expression produced.
Evaluator = Callable[[str, int], Any]

MISSING: Any = object()


class UnsupportedExpression(Exception):
    """Raised by the default evaluator: a ``{{ }}`` expression needs the caller's engine."""


def prefix_only_evaluator(expression: str, item_index: int) -> Any:
    """The evaluator used when the caller gives none: ``=text`` is ``text``; ``{{ }}`` fails."""
    if "{{" in expression:
        raise UnsupportedExpression(expression)
    return expression[1:]


def _split_path(path: str) -> list[str]:
    return [p for p in path.split(".") if p]


@dataclass
class NodeCall:
    node: str
    type_version: float
    parameters: Mapping[str, Any]
    inputs: list[list[Item]] = field(default_factory=lambda: [[]])
    evaluate: Evaluator = prefix_only_evaluator
    #: Set by flags.apply / the runner: n8n's ``continueOnFail`` for nodes that honour it.
    continue_on_fail: bool = False

    @property
    def items(self) -> list[Item]:
        """The items of input 0 (most nodes have one input)."""
        return self.inputs[0] if self.inputs else []

    def raw(self, path: str, default: Any = MISSING) -> Any:
        """The parameter as stored, expressions unevaluated."""
        value: Any = self.parameters
        for part in _split_path(path):
            if isinstance(value, Mapping) and part in value:
                value = value[part]
            else:
                if default is MISSING:
                    raise NodeParameterError(self.node, path, "is required but missing")
                return default
        return value

    def parameter(self, path: str, item_index: int = 0, default: Any = MISSING) -> Any:
        """The parameter at ``path`` evaluated for item ``item_index`` (n8n's getNodeParameter)."""
        return self.resolve(self.raw(path, default), item_index, path)

    def resolve(self, value: Any, item_index: int, path: str = "") -> Any:
        """Evaluate every ``=``-string inside ``value`` for one item, keeping the shape."""
        if isinstance(value, str):
            if not value.startswith("="):
                return value
            try:
                return self.evaluate(value, item_index)
            except NodeParameterError:
                raise
            except Exception as exc:  # the engine's own errors become typed here
                raise NodeParameterError(
                    self.node, path, f"cannot evaluate {value!r}: {exc}", item_index=item_index
                ) from exc
        if isinstance(value, Mapping):
            return {k: self.resolve(v, item_index, f"{path}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, item_index, f"{path}[{i}]") for i, v in enumerate(value)]
        return value

    def invalid(self, path: str, message: str, item_index: int | None = None) -> NodeParameterError:
        """A NodeParameterError for this node (to ``raise``)."""
        return NodeParameterError(self.node, path, message, item_index=item_index)
