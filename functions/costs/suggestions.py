"""Cheaper shapes the numbers of a recorded cost point at, as sentences with their numbers.

Computed when a cost is read, never stored: the prices and the rules may change, the
recorded usage does not. Each rule fires only when the breakdown shows its saving:

* **Express**: the run was short (at most 5 minutes) and waited for nothing, and its Step
  Functions part as an Express execution (``bill``'s ``express``) is cheaper.
* **Native nodes on Lambda**: a node whose type can run as a native state (no Lambda call)
  ran on the node runner; the compiler says why (``compiler.lowering.native.fallback_reason``,
  given the workflow's graph), so the user can lift that reason.
* **Stored outputs**: outputs went through S3 (a PUT and GETs each).
"""

from __future__ import annotations

from typing import Any

# A node type with a native lowering has its reason to run on Lambda explained; the others
# always run there and are not worth a sentence.
NO_NATIVE_LOWERING = "has no native lowering"


def _times(a: float, b: float) -> str:
    return f"{a / b:.1f}" if b > 0 else "∞"


def suggestions(cost: dict[str, Any], graph: Any = None) -> list[dict[str, Any]]:
    """What would make runs like this one cheaper (``graph``: the workflow's, if known)."""
    found: list[dict[str, Any]] = []
    express = cost.get("express") or {}
    standard = float((cost.get("components") or {}).get("stepFunctions", 0))
    if express.get("possible") and 0 < float(express.get("stepFunctions", 0)) < standard:
        ratio = _times(standard, float(express["stepFunctions"]))
        found.append({
            "kind": "express",
            "message": (f"runs are short ({cost['usage']['seconds']} s) and have no waits: as "
                        f"an Express workflow, Step Functions would cost {ratio}x less "
                        f"(${express['stepFunctions']:.8f} instead of ${standard:.8f} a run)"),
            "saving": float(f"{standard - float(express['stepFunctions']):.9g}"),
        })
    if graph is not None:
        found.extend(_native_on_lambda(cost, graph))
    puts = int((cost.get("usage") or {}).get("s3Puts", 0))
    if puts:
        found.append({"kind": "storedOutputs",
                      "message": f"{puts} node outputs were stored in S3 (too large to travel "
                                 "inline): smaller items, or fewer fields, keep them inline"})
    return found


def _native_on_lambda(cost: dict[str, Any], graph: Any) -> list[dict[str, Any]]:
    from compiler.lowering.native import fallback_reason

    found = []
    for name, node in (cost.get("nodes") or {}).items():
        index = graph.index.get(name)
        if index is None or not node.get("lambdaRequests"):
            continue
        reason = fallback_reason(graph, index)
        if reason is None or NO_NATIVE_LOWERING in reason:
            continue
        found.append({
            "kind": "nativeOnLambda", "node": name, "reason": reason,
            "message": (f"{name} ({graph.type_of(index)}) could be a native state but runs "
                        f"on Lambda because of: {reason} ({node['lambdaRequests']} Lambda "
                        f"requests, ${node['cost']:.8f})"),
        })
    return found
