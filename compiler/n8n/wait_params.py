"""n8n's Wait node as a compiler node type: its parameters read into sfnflow's ``WaitParams``.

Validation gives an n8n node ``{"typeVersion", "parameters"}``; ``N8nWaitParams`` keeps
them (the runner and ``export`` read n8n's own shape) and fills ``WaitParams``' fields
from them (``compiler.n8n.wait.read``), so every pass that knows sfnflow's wait (its
lowering, the pausing ``resume`` lowering, rendezvous, history counts) treats an n8n Wait
as one. What depends on the workflow (a ``dateTime`` read in its time zone, a field of the
first item) is turned into a Wait state by ``compiler.lowering.n8n_wait``.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from compiler.n8n.catalogue import N8nType
from compiler.n8n.wait import N8nWait, WaitRefused, read
from compiler.nodetypes import NodeType, WaitParams

#: ``seconds`` of a wait whose length is known only at run time, so that every pass that
#: bounds a node's time (``compiler.lowering.rendezvous``) sees no fixed bound; the Wait
#: state's own Seconds/Timestamp come from ``compiler.lowering.n8n_wait``.
COMPUTED = "{% /* n8n: compiler.lowering.n8n_wait */ null %}"


class N8nWaitParams(WaitParams):
    """An n8n Wait's parameters, verbatim, read as sfnflow's wait."""

    typeVersion: float = 1
    parameters: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _from_n8n(cls, raw: Any) -> Any:
        if not isinstance(raw, dict) or "parameters" not in raw:
            return raw
        version = float(raw.get("typeVersion") or 1)
        parameters = raw.get("parameters") or {}
        fields: dict[str, Any] = {"typeVersion": version, "parameters": parameters}
        try:
            wait = read(version, parameters)
        except WaitRefused:
            return fields  # the catalogue's refusal names the field (validate reports it)
        fields["resume"] = wait.resume
        if wait.seconds is not None:
            fields["seconds"] = wait.seconds
        elif wait.resume == "time":  # a moment or an expression: no fixed length
            fields["seconds"] = COMPUTED
        return fields

    @property
    def wait(self) -> N8nWait:
        """What the n8n parameters ask for (validation refused what ``read`` cannot do)."""
        return read(self.typeVersion, self.parameters)


def node_type(spec: N8nType) -> NodeType:
    """The compiler's node type of n8n's Wait: sfnflow's ``wait`` lowering, n8n's ports.
    ``compiler.nodetypes`` builds it for the catalogue entry whose lowering is "wait"."""
    return NodeType(spec.name, N8nWaitParams, spec.description, lowering="wait",
                    versions=spec.versions)
