"""The DAG shapes of the peer benchmark, each written once and emitted twice: as an sfnflow
workflow document and as an n8n workflow document that does the same work.

A shape is a list of steps and links. Its kinds of step:

``call``
    An HTTP GET to the loopback server, which sleeps ``ms`` and answers ``{"value": V}``
    (sfnflow ``httpRequest``; n8n HTTP Request v4.2), once per item it receives. Every call
    carries the execution's ``value`` so the items after it still hold it for the IF nodes.
``merge``
    A join of ``inputs`` inputs (``merge`` append; n8n Merge v3 append). A step with more
    than one parent always gets one in front of it, in both engines: n8n runs a node once
    per parent otherwise.
``if``
    ``value % modulus = 0`` routes the item to output 0 (true) or 1 (false).
``items``
    Code that emits ``count`` items ``{"i": 0..count-1}`` (Python in sfnflow, JavaScript in n8n).
``transform``
    Sets ``field`` to ``i * factor`` on every item (sfnflow ``set`` with JSONata; n8n Edit
    Fields v3.4).

Every shape starts at ``Start``: sfnflow's ``manualTrigger`` with the execution input
``{"value": VALUE}``, n8n's Execute Workflow Trigger fed that item by the harness.
The topologies of the layered and IF-heavy shapes come from ``benchmarks.dags`` (seeded).
"""

from __future__ import annotations

import math
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from benchmarks.dags import generate

VALUE = 6  # divisible by 2, 3 and 6, not by 4 or 5: IF nodes go both ways
START = "Start"


@dataclass(frozen=True)
class Step:
    name: str
    kind: str  # start | call | merge | if | items | transform
    ms: int = 0
    inputs: int = 1
    modulus: int = 2
    count: int = 0
    factor: int = 1
    choose: bool = False  # merge: pass input 0's items only (a join in front of a call)
    items: int = 1  # call: the items it receives, one request each
    concurrency: int = 1  # call: sfnflow's httpRequest concurrency (n8n: all at once)

    @property
    def seconds(self) -> float:
        """A call's time as sfnflow runs it: its items' requests, ``concurrency`` at once."""
        return math.ceil(self.items / self.concurrency) * self.ms / 1000


@dataclass(frozen=True)
class Link:
    source: str
    target: str
    output: int = 0  # an IF's 0 = true, 1 = false
    input: int = 0


@dataclass
class Shape:
    name: str
    steps: list[Step] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)

    def add(self, step: Step, *parents: str | Link) -> str:
        self.steps.append(step)
        for parent in parents:
            self.links.append(parent if isinstance(parent, Link) else Link(parent, step.name))
        return step.name

    @property
    def calls(self) -> int:
        """HTTP requests per run: one per item a call step receives."""
        return sum(step.items for step in self.steps if step.kind == "call")

    def live_seconds(self) -> dict[str, float]:
        """Seconds per step as this execution runs it: a step no item reaches (the other
        side of an IF) takes none, so the critical path is the live one."""
        by_name = {step.name: step for step in self.steps}
        incoming: dict[str, list[Link]] = defaultdict(list)
        for link in self.links:
            incoming[link.target].append(link)
        live: dict[str, bool] = {}

        def reached(name: str) -> bool:
            if name not in live:
                live[name] = name == START or any(
                    reached(link.source) and _routes(by_name[link.source], link.output)
                    for link in incoming[name])
            return live[name]

        return {step.name: step.seconds if reached(step.name) else 0.0
                for step in self.steps}


def _routes(step: Step, output: int) -> bool:
    if step.kind != "if":
        return True
    return (VALUE % step.modulus == 0) == (output == 0)


# ---------------------------------------------------------------------------- shapes


def fan_out(width: int = 10, ms: int = 1000) -> Shape:
    shape = Shape(f"{width} parallel calls of {ms} ms")
    shape.add(Step(START, "start"))
    calls = [shape.add(Step(f"Call {k + 1}", "call", ms=ms), START) for k in range(width)]
    shape.add(Step("Join", "merge", inputs=width),
              *(Link(call, "Join", input=k) for k, call in enumerate(calls)))
    return shape


def chain(length: int = 5, ms: int = 300) -> Shape:
    shape = Shape(f"chain of {length} x {ms} ms")
    previous = shape.add(Step(START, "start"))
    for k in range(length):
        previous = shape.add(Step(f"Call {k + 1}", "call", ms=ms), previous)
    return shape


def n_shape() -> Shape:
    """Two chains A -> B and C -> D with a cross link A -> D (the letter N)."""
    shape = Shape('"N": 4 calls, 2 chains')
    shape.add(Step(START, "start"))
    a = shape.add(Step("A", "call", ms=1000), START)
    shape.add(Step("B", "call", ms=2000), a)
    c = shape.add(Step("C", "call", ms=500), START)
    join = shape.add(Step("Join D", "merge", inputs=2, choose=True), Link(a, "Join D"),
                     Link(c, "Join D", input=1))
    shape.add(Step("D", "call", ms=2500), join)
    return shape


def _joined(shape: Shape, name: str, parents: list[str]) -> str:
    """The parent to link ``name`` from: the one parent, or a Merge of all of them."""
    if len(parents) == 1:
        return parents[0]
    join = f"Join {name}"
    shape.add(Step(join, "merge", inputs=len(parents), choose=True),
              *(Link(parent, join, input=k) for k, parent in enumerate(parents)))
    return join


def _call_ms(rng: random.Random) -> int:
    """Lognormal around 650 ms, rounded to 50 ms, between 100 ms and 2 s."""
    return int(min(2000, max(100, round(650 * rng.lognormvariate(0, 0.5) / 50) * 50)))


def layered(calls: int = 16, seed: int = 1) -> Shape:
    """``dags.generate("layered")``'s random layered DAG, every node a call."""
    document = generate("layered", calls + 1, seed)
    rng = random.Random(f"peer-layered:{calls}:{seed}")
    shape = Shape(f"layered, {calls} calls")
    names = {node["name"]: (START if node["type"] == "manualTrigger" else f"Call {k}")
             for k, node in enumerate(document["nodes"])}
    parents: dict[str, list[str]] = defaultdict(list)
    for connection in document["connections"]:
        parents[names[connection["to"]]].append(names[connection["from"]])
    for node in document["nodes"]:
        name = names[node["name"]]
        if name == START:
            shape.add(Step(START, "start"))
        else:
            shape.add(Step(name, "call", ms=_call_ms(rng)), _joined(shape, name,
                                                                      parents[name]))
    return shape


def transform_chain(count: int = 1000, transforms: int = 5) -> Shape:
    shape = Shape(f"{count:,}-item transform chain")
    shape.add(Step(START, "start"))
    previous = shape.add(Step("Items", "items", count=count), START)
    for k in range(transforms):
        previous = shape.add(Step(f"Transform {k + 1}", "transform", factor=k + 2), previous)
    return shape


def if_heavy(size: int = 24, seed: int = 6) -> Shape:
    """``dags.generate("if-heavy")``'s nested IF diamonds; its plain nodes are calls."""
    document = generate("if-heavy", size, seed)
    rng = random.Random(f"peer-if:{size}:{seed}")
    shape = Shape(f"IF-heavy ({size} nodes)")
    names = {}
    for node in document["nodes"]:
        kind = node["type"]
        number = node["name"].split()[-1]
        if kind == "manualTrigger":
            names[node["name"]] = shape.add(Step(START, "start"))
        elif kind == "if":
            modulus = int(re.findall(r"% (\d+) =", node["parameters"]["condition"])[0])
            names[node["name"]] = shape.add(Step(f"If {number}", "if", modulus=modulus))
        elif kind == "merge":
            names[node["name"]] = shape.add(Step(f"Merge {number}", "merge", inputs=2))
        else:
            names[node["name"]] = shape.add(Step(f"Call {number}", "call",
                                                 ms=_call_ms(rng) // 2))
    for connection in document["connections"]:
        output = {"true": 0, "false": 1}.get(connection.get("output", 0), 0)
        shape.links.append(Link(names[connection["from"]], names[connection["to"]],
                                output=output, input=connection.get("input", 0)))
    return shape


def item_calls(count: int = 10, ms: int = 300, concurrency: int = 1) -> Shape:
    """One HTTP node over ``count`` items: n8n sends them all at once (n8n 1.123's HTTP
    Request starts every item's request before awaiting any), sfnflow ``concurrency`` at
    a time."""
    shape = Shape(f"{count} items x {ms} ms, concurrency {concurrency}")
    shape.add(Step(START, "start"))
    items = shape.add(Step("Items", "items", count=count), START)
    shape.add(Step("Call", "call", ms=ms, items=count, concurrency=concurrency), items)
    return shape


SHAPES = {
    "fan-out": fan_out,
    "chain": chain,
    "n": n_shape,
    "layered": layered,
    "transform": transform_chain,
    "if-heavy": if_heavy,
    "items-1": item_calls,
    "items-10": lambda: item_calls(concurrency=10),
}


# ---------------------------------------------------------------------------- documents


def _url(base_url: str, ms: int) -> str:
    return f"{base_url}/sleep?ms={ms}&value={VALUE}"


def sfnflow_document(shape: Shape, base_url: str) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = []
    for step in shape.steps:
        node: dict[str, Any] = {"name": step.name}
        if step.kind == "start":
            node["type"] = "manualTrigger"
        elif step.kind == "call":
            node |= {"type": "httpRequest", "parameters": {"url": _url(base_url, step.ms)}}
            if step.concurrency > 1:
                node["parameters"]["concurrency"] = step.concurrency
        elif step.kind == "merge":
            node |= {"type": "merge", "parameters": {
                "mode": "chooseBranch" if step.choose else "append",
                "numberInputs": step.inputs}}
        elif step.kind == "if":
            node |= {"type": "if", "parameters": {
                "condition": "{% $json.value % " + str(step.modulus) + " = 0 %}"}}
        elif step.kind == "items":
            node |= {"type": "code", "parameters": {
                "code": f"return [{{'i': i}} for i in range({step.count})]"}}
        else:
            node |= {"type": "set", "parameters": {"values": {
                f"x{step.factor}": "{% $json.i * " + str(step.factor) + " %}"}}}
        nodes.append(node)
    connections = []
    for link in shape.links:
        connection: dict[str, Any] = {"from": link.source, "to": link.target}
        source = next(step for step in shape.steps if step.name == link.source)
        if source.kind == "if":
            connection["output"] = "true" if link.output == 0 else "false"
        if link.input:
            connection["input"] = link.input
        connections.append(connection)
    return {"name": "peer-" + "".join(c if c.isalnum() else "-" for c in shape.name)[:50],
            "nodes": nodes, "connections": connections}


def _n8n_node(step: Step, base_url: str, position: int) -> dict[str, Any]:
    node: dict[str, Any] = {"name": step.name, "id": f"n{position}",
                            "position": [position * 200, 0]}
    if step.kind == "start":
        return node | {"type": "n8n-nodes-base.executeWorkflowTrigger", "typeVersion": 1.1,
                       "parameters": {"inputSource": "passthrough"}}
    if step.kind == "call":
        return node | {"type": "n8n-nodes-base.httpRequest", "typeVersion": 4.2,
                       "parameters": {"url": _url(base_url, step.ms), "options": {}}}
    if step.kind == "merge":
        choose = {"mode": "chooseBranch", "useDataOfInput": 1} if step.choose else {}
        return node | {"type": "n8n-nodes-base.merge", "typeVersion": 3,
                       "parameters": {"numberInputs": step.inputs, **choose}}
    if step.kind == "if":
        return node | {"type": "n8n-nodes-base.if", "typeVersion": 1, "parameters": {
            "conditions": {"boolean": [{
                "value1": "={{ $json.value % " + str(step.modulus) + " === 0 }}",
                "value2": True}]}}}
    if step.kind == "items":
        return node | {"type": "n8n-nodes-base.code", "typeVersion": 2, "parameters": {
            "jsCode": f"return Array.from({{length: {step.count}}}, (_, i) => "
                      "({json: {i}}));"}}
    return node | {"type": "n8n-nodes-base.set", "typeVersion": 3.4, "parameters": {
        "assignments": {"assignments": [{
            "id": f"a{position}", "name": f"x{step.factor}", "type": "number",
            "value": "={{ $json.i * " + str(step.factor) + " }}"}]},
        "includeOtherFields": True, "options": {}}}


def n8n_document(shape: Shape, base_url: str) -> dict[str, Any]:
    connections: dict[str, Any] = {}
    for link in shape.links:
        outputs = connections.setdefault(link.source, {"main": []})["main"]
        while len(outputs) <= link.output:
            outputs.append([])
        outputs[link.output].append({"node": link.target, "type": "main",
                                     "index": link.input})
    return {"name": shape.name, "nodes": [_n8n_node(step, base_url, k)
                                          for k, step in enumerate(shape.steps)],
            "connections": connections, "settings": {"executionOrder": "v1"}}
