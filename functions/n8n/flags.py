"""Node-level flags that wrap any node function: ``executeOnce``, ``alwaysOutputData``,
``continueOnFail`` / ``onError: continueRegularOutput``.

n8n applies them around a node's own code, so they live here once instead of in every
node family:

* ``executeOnce``: each input keeps only its first item.
* ``alwaysOutputData``: when output 0 comes back empty, it becomes one ``{json: {}}`` item
  (paired with every input item), so downstream nodes still run.
* ``continueOnFail`` (or ``onError: continueRegularOutput``): when the node fails, n8n
  passes the node's input 0 through unchanged on output 0 instead of failing the run.
  Nodes that handle failure per item (IF, Switch...) read ``call.continue_on_fail``.
``onError: continueErrorOutput`` is the runner's (it adds the error port).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from functions.errors import NodeError
from functions.n8n.call import NodeCall
from functions.n8n.items import Item, paired

NodeFunction = Callable[[NodeCall], list[list[Item]]]


def continues_on_fail(node: Mapping[str, Any]) -> bool:
    return bool(node.get("continueOnFail")) or node.get("onError") == "continueRegularOutput"


def run_with_flags(
    function: NodeFunction, call: NodeCall, node: Mapping[str, Any]
) -> list[list[Item]]:
    """Run ``function`` the way n8n runs a node with these flags (``node`` is n8n's node JSON)."""
    continue_on_fail = continues_on_fail(node)
    if node.get("executeOnce"):
        call = replace(call, inputs=[items[:1] for items in call.inputs])
    call = replace(call, continue_on_fail=continue_on_fail)
    try:
        outputs = function(call)
    except NodeError:
        if not continue_on_fail:
            raise
        items = call.inputs[0] if call.inputs else []
        return [[{"json": it["json"], "pairedItem": paired(i)} for i, it in enumerate(items)]]
    if node.get("alwaysOutputData") and (not outputs or not outputs[0]):
        pairing = [
            {"item": index, "input": input_index}
            for input_index, items in enumerate(call.inputs)
            for index in range(len(items))
        ]
        outputs = [[{"json": {}, "pairedItem": pairing or paired(0)}], *outputs[1:]]
    return outputs
