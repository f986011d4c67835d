"""The executor contract: ``run(inputs, ctx) -> outputs``, one executor per node type.

``inputs`` has one list of items per input port; the returned list has one list of items
per output port named by the node type (``compiler.nodetypes``), *without* the ``error``
port of ``onError: continueErrorOutput`` — the runner adds that one.

Executors read parameters through ``ctx``: ``ctx.params(item, index)`` resolves every
expression against that item and validates the result with the node type's model (what
n8n does for per-item parameters); ``ctx.node_params()`` resolves once, against the first
input item, for parameters that shape the whole node (a mode, a key, a limit).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import ValidationError

from compiler.nodetypes import NODE_TYPES, Params
from functions.errors import ParameterError
from functions.expressions import Item, Scope, evaluate

Ports = list[list[Item]]


@dataclass
class NodeContext:
    node_name: str
    node_type: str
    raw_params: Mapping[str, Any]
    scope: Scope
    http: Any = None  # a requests.Session, given by the runner
    extras: dict[str, Any] = field(default_factory=dict)
    # Seconds until the node must have answered (the invocation's end, less a margin to
    # record and answer; zero once no one waits for the answer); None: no bound known.
    time_left: Callable[[], float] | None = None

    def seconds_left(self) -> float | None:
        """``time_left()``, never below zero; None without a bound."""
        return None if self.time_left is None else max(0.0, self.time_left())

    @property
    def params_model(self) -> type[Params]:
        return NODE_TYPES[self.node_type].params

    def params(self, item: Item | None = None, index: int = 0) -> Any:
        model = self.params_model
        bindings = self.scope.bindings(item, index)
        resolved = {
            key: value if key in model.raw_fields else evaluate(value, bindings)
            for key, value in self.raw_params.items()
        }
        try:
            return model.model_validate(resolved)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise ParameterError(
                f"node {self.node_name!r}, item {index}: parameters invalid after "
                f"evaluating expressions: {problems}"
            ) from None

    def node_params(self) -> Any:
        items = self.scope.items
        return self.params(items[0] if items else None, 0)


class Executor(ABC):
    type_name: ClassVar[str]

    @abstractmethod
    def run(self, inputs: Ports, ctx: NodeContext) -> Ports: ...


EXECUTORS: dict[str, Executor] = {}


def register(cls: type[Executor]) -> type[Executor]:
    """Class decorator: make ``cls`` the executor of ``cls.type_name``."""
    EXECUTORS[cls.type_name] = cls()
    return cls


def all_items(inputs: Sequence[Sequence[Item]]) -> list[Item]:
    return [item for port in inputs for item in port]


Factory = Callable[[], Executor]
