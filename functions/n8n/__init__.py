"""n8n's core nodes, as pure Python functions over items, per typeVersion.

This package reproduces what n8n's own node code does with items, so that n8n workflows
run unchanged on sfnflow. It knows nothing of AWS or Step Functions, and of JavaScript
only where n8n's node *is* a JavaScript library (Date & Time: Luxon on ``functions.js``):
the node runner (and the importer, to validate parameters) call it.

The API
-------
Every node family exposes ``run(call: NodeCall) -> list[list[Item]]``, one list of items per
output port, in n8n's port order (IF: true, false; SplitInBatches v3: done, loop...).

* ``Item`` is n8n's ``{"json": {...}, "pairedItem": ...}``. Output items carry the
  ``pairedItem`` n8n would set (``{"item": i}``, ``{"item": i, "input": n}`` or a list of
  them), which is what ``$('Node').item`` walks later (``items.py``).
* ``NodeCall(node, type_version, parameters, inputs, evaluate)`` (``call.py``): the node's
  name, its typeVersion, its raw ``parameters`` as n8n stores them, the input items per
  input port, and ``evaluate(expression, item_index)`` -- the caller's n8n expression
  engine (the runner injects the JavaScript engine; without one, ``=text`` means ``text``
  and ``{{ }}`` raises). Node code reads ``call.parameter(path, item_index, default)``,
  already evaluated for that item, exactly like n8n's ``getNodeParameter``.
* Defaults are n8n's per typeVersion (each module's docstring lists the shapes it reads).
* Errors are typed (``errors.py``): ``NodeParameterError`` names the node and the parameter;
  ``NodeOperationError`` carries n8n's own message (and ``item_index``) where n8n's tests
  compare it. Both derive from ``functions.errors`` and so from ``SfnflowError``.
* Node-level flags (``executeOnce``, ``alwaysOutputData``, ``continueOnFail``/``onError``)
  wrap any node function: ``flags.run_with_flags(run, call, node_json)``.
* ``lineage.trace_item`` walks ``pairedItem`` back to the item ``$('Node').item`` means.
* Stateful or caller-assisted nodes take one extra argument: ``batches.run(call, state)``
  (SplitInBatches' node context as a ``BatchState``), ``sort.run(call, rng=...,
  comparator=...)`` (random seed; a ``code`` sort's JavaScript comparator).

``NODES`` maps n8n node type names to their ``run``; ``run_node(type, call)`` dispatches.
Code and the other nodes that need the runner's engines or session are dispatched by the
runner (``functions.nodes.n8n_run``); Wait is a Wait state (its entry here passes items, for
a runner that executes a workflow in-process).
"""

from __future__ import annotations

from collections.abc import Callable

from functions.n8n import (
    aggregate,
    branching,
    crypto,
    datetime,
    limit,
    merge,
    noop,
    removeduplicates,
    renamekeys,
    respond,
    sort,
    splitout,
    stopanderror,
    summarize,
    switch,
    testdata,
)

# importing the submodule binds ``set`` in this namespace too: use ``set_node`` here
from functions.n8n import set as set_node
from functions.n8n.batches import BatchState
from functions.n8n.call import NodeCall
from functions.n8n.errors import NodeOperationError, NodeParameterError
from functions.n8n.items import Item

NodeFunction = Callable[[NodeCall], list[list[Item]]]

NODES: dict[str, NodeFunction] = {
    "n8n-nodes-base.set": set_node.run,
    "n8n-nodes-base.if": branching.run_if,
    "n8n-nodes-base.filter": branching.run_filter_node,
    "n8n-nodes-base.switch": switch.run,
    "n8n-nodes-base.merge": merge.run,
    "n8n-nodes-base.splitOut": splitout.run,
    "n8n-nodes-base.sort": sort.run,
    "n8n-nodes-base.limit": limit.run,
    "n8n-nodes-base.removeDuplicates": removeduplicates.run,
    "n8n-nodes-base.aggregate": aggregate.run,
    "n8n-nodes-base.summarize": summarize.run,
    "n8n-nodes-base.renameKeys": renamekeys.run,
    "n8n-nodes-base.noOp": noop.run,
    # a native Wait state when deployed (compiler.n8n.wait); in-process, its items pass
    "n8n-nodes-base.wait": noop.run,
    "n8n-nodes-base.stopAndError": stopanderror.run,
    "n8n-nodes-base.crypto": crypto.run,
    "n8n-nodes-base.dateTime": datetime.run,  # the runner passes the workflow's time zone
    "n8n-nodes-base.respondToWebhook": respond.run,
    "n8n-nodes-testing.testData": testdata.run,
}


def run_node(node_type: str, call: NodeCall) -> list[list[Item]]:
    """Run the node function registered for ``node_type`` (n8n's full type name)."""
    try:
        function = NODES[node_type]
    except KeyError:
        message = f"unsupported node type {node_type!r}"
        raise NodeParameterError(call.node, "type", message) from None
    return function(call)


__all__ = [
    "NODES",
    "BatchState",
    "Item",
    "NodeCall",
    "NodeOperationError",
    "NodeParameterError",
    "run_node",
]
