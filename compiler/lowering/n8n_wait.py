"""The Wait state of an n8n Wait node (``compiler.n8n.wait`` decides what it waits for).

sfnflow's wait lowering (``compiler.lowering.wait``) builds the state; this module gives it
what differs for n8n: the ``Seconds`` or ``Timestamp`` (fixed, or JSONata over the first
input item's ``json``), and the output items. n8n's Wait outputs its input items, each
paired to its own position (n8n renumbers ``pairedItem`` before a node runs), so
``$('Wait').item`` walks back through it as through any n8n node.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.jsonata_text import jsonata
from compiler.n8n.wait import seconds_jsonata, timestamp_jsonata, utc_timestamp
from compiler.n8n.wait_params import N8nWaitParams

if TYPE_CHECKING:
    from compiler.passes.emit import Emitter


def wait_time(emitter: Emitter, node: int,
              params: N8nWaitParams) -> tuple[int | str | None, str | None]:
    """``(Seconds, Timestamp)`` of the Wait state: one of them is set."""
    wait = params.wait
    items = emitter.input_items(node)
    first = f"({items})[0]"  # bound alone: JSONata reads `[...][0].x` as a filter of x
    name = emitter.graph.nodes[node].name
    timezone = emitter.graph.workflow.settings.timezone or "UTC"
    if wait.seconds is not None:
        return wait.seconds, None
    if wait.moment is not None:
        return None, utc_timestamp(wait.moment, timezone)
    if wait.amount is not None:
        return jsonata(seconds_jsonata(wait, first, name)), None
    return None, jsonata(timestamp_jsonata(wait, first, name, timezone))


def output_items(items: str) -> str:
    """JSONata of the output items: the input items, each paired to its position. The
    ``[...]`` around ``$map`` keeps one item a list (JSONata unwraps one-element results)."""
    return (f'[$map({items}, function($v, $k) {{ $merge([$v, {{"pairedItem": '
            f'{{"item": $k}}}}]) }})]')
