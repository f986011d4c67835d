"""Node result caching (``cache: {ttlSeconds}`` on a node): the runner skips a node whose
same version already ran on the same input within the TTL, and records the run as
``cached`` with the stored outputs.

* **Node version**: a SHA-256 over the node's type, parameters (their text: expressions
  included), ``onError`` and output ports. Editing any of them makes a new version, so an
  edited node never sees results of its old self.
* **Input**: a SHA-256 over the input items per port, plus what else the runner evaluates
  expressions with that is known up front: the workflow variables (``$vars``) and, for a
  trigger, the execution input. ``$node("…")``, ``$now``, ``$execution`` and side effects
  are not part of the key: caching is opt-in, for nodes whose result depends on their
  input (HTTP lookups, slow code).
* The key also holds the workflow and node name, so two workflows never share results.
  Only successful runs are stored; outputs over ~350 KB (packed) are not cached.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from functions.store.cache import NodeCacheStore

if TYPE_CHECKING:
    from functions.runner import Invocation

Ports = list[list[dict[str, Any]]]


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def node_version(node_type: str, parameters: Any, on_error: str, outputs: list[str]) -> str:
    return _digest({"type": node_type, "parameters": parameters, "onError": on_error,
                    "outputs": outputs})


def cache_key(workflow: str, node: str, version: str, inputs: Ports,
              context: Any = None) -> str:
    return f"{workflow}#{node}#{version}#{_digest({'inputs': inputs, 'context': context})}"


class NodeResultCache:
    """What the runner asks: the key of an invocation, a lookup, a store."""

    def __init__(self, store: NodeCacheStore | None = None,
                 now: Callable[[], float] = time.time) -> None:
        self.store = store or NodeCacheStore()
        self.now = now

    def key(self, invocation: Invocation, inputs: Ports) -> str:
        node = invocation.node
        version = node_version(node.type, node.parameters, node.onError, node.outputs)
        context = {"vars": invocation.vars, "trigger": invocation.trigger}
        return cache_key(invocation.workflow, node.name, version, inputs, context)

    def lookup(self, key: str) -> Ports | None:
        outputs: Ports | None = self.store.get(key, self.now())
        return outputs

    def store_outputs(self, key: str, invocation: Invocation, outputs: Ports,
                      ttl_seconds: int) -> bool:
        return self.store.put(key, workflow_id=invocation.workflow,
                              node=invocation.node.name,
                              execution_id=invocation.execution.id, outputs=outputs,
                              expires_at=int(self.now()) + ttl_seconds)
