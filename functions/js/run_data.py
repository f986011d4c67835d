"""What the caller (the node runner) must provide for one node run: the data n8n's expression
globals read. Shapes follow n8n's run data so an n8n document's semantics carry over:

- an item is ``{"json": {...}, "binary"?: {...}, "pairedItem"?: {"item": i, "input"?: k} |
  int | [..]}`` (``pairedItem`` names the item of the node's input ``k`` it came from);
- a node's run (:class:`TaskData`) holds its output ports (``outputs[port] = [items]``) and, per
  input, where that input came from (:class:`Source`: previous node, its output port, its run).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Item = dict[str, Any]


@dataclass(frozen=True)
class Source:
    """Where one input of a node run came from (n8n's ``ISourceData``)."""

    previous_node: str
    previous_node_output: int = 0
    previous_node_run: int = 0


@dataclass(frozen=True)
class TaskData:
    """One run of one node: items per output port and the source of each of its inputs."""

    outputs: Sequence[Sequence[Item]]
    source: Sequence[Source | None] = ()


@dataclass(frozen=True)
class NodeInfo:
    """A workflow node as expressions see it: ``$node[..].parameter``, ``.context``."""

    name: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NodeRunData:
    """Everything one node run's expressions and Code may read.

    ``input_items``: the items of the current input (index = ``$itemIndex``); their own
    ``pairedItem`` is ignored (n8n rewrites it to the item's position before a node runs).
    ``sources``: per input of the current node, where it came from (``$prevNode`` is input 0).
    ``run_data``: per executed node, its runs in order. ``nodes``: every node of the workflow.
    ``connections``: n8n's ``{Node: {"main": [[{"node", "type", "index"}]]}}``, used to find
    which output of a referenced node leads here and whether it is an ancestor.
    ``execution``: ``{"id", "mode" (n8n's: manual, trigger, webhook, ...), "resumeUrl",
    "resumeFormUrl"}``. ``now_millis``: freeze ``$now`` (tests); None means the clock.
    """

    node: str
    input_items: Sequence[Item]
    run_index: int = 0
    input_index: int = 0
    sources: Sequence[Source | None] = ()
    run_data: Mapping[str, Sequence[TaskData]] = field(default_factory=dict)
    nodes: Mapping[str, NodeInfo] = field(default_factory=dict)
    connections: Mapping[str, Any] = field(default_factory=dict)
    workflow: Mapping[str, Any] = field(default_factory=dict)
    execution: Mapping[str, Any] = field(default_factory=dict)
    variables: Mapping[str, Any] = field(default_factory=dict)
    timezone: str = "UTC"
    now_millis: int | None = None
