"""compiler.lowering.n8n_native against the runner's node functions (functions/n8n with the
QuickJS expression engine): wherever every item passes the node's guard, the native
JSONata's ports are the runner's, item for item (``json`` and ``pairedItem``); wherever the
runner raises (n8n's type errors), some item fails the guard, so the runner runs the node.

Each case runs on every item alone and on all items that pass together (item indexes and
``pairedItem``); a case counts only if it stays native on some items.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from compiler import compile_workflow
from compiler.explain import node_states
from compiler.jsonata_compat import compile_expression
from compiler.lowering.n8n_native import (
    FILTER,
    IF,
    SET,
    SWITCH,
    TYPES,
    Built,
    build,
    names_read,
)
from compiler.lowering.native import text
from compiler.n8n.catalogue import BASE, N8N_TYPES
from compiler.n8n.jsonata import HELPERS
from compiler.nodetypes import NODE_TYPES
from functions.js import ExpressionEvaluator, NodeRunData
from functions.js.engine import JsEngine
from functions.n8n import NODES, NodeCall, NodeOperationError
from local.cloud import LocalCloud
from tests.conftest import TIME_SCALE

ITEMS: list[dict[str, Any]] = [
    {"a": 5, "s": "Alpha-1", "b": True, "n": None, "e": "", "l": [1], "o": {"k": "v"}},
    {"a": 0, "s": "beta", "b": False, "e": "x", "l": [], "o": {}},
    {"a": "7", "s": 12, "b": "true", "n": 3.5, "e": 0},
    {"a": -2.5, "s": "ALPHA", "b": 1, "n": "", "o": None},
    {"a": 1e21, "s": "é", "b": None, "n": 0.30000000000000004},
    {"a": "-0.25", "s": "true", "b": "FALSE", "n": "12", "e": " "},
    {"a": "1e3", "s": "0", "b": 0, "n": "0x10", "e": "no"},
    {"a": "abc", "s": {"x": 1}, "b": "0", "n": [1, 2]},
    {},
]


def _legacy(data_type: str, operation: str, value2: Any, value1: str = "={{ $json.a }}"
            ) -> dict[str, Any]:
    return {"conditions": {data_type: [{"value1": value1, "operation": operation,
                                        "value2": value2}]}}


def _filter(type_: str, operation: str, right: Any, left: str = "={{ $json.a }}",
            loose: bool = False, case: bool = True, single: bool = False,
            version: int | None = None) -> dict[str, Any]:
    operator = {"type": type_, "operation": operation} | ({"singleValue": True} if single
                                                        else {})
    stored = {"version": version} if version is not None else {}
    return {"conditions": {
        "options": {"caseSensitive": case, "leftValue": "",
                    "typeValidation": "loose" if loose else "strict"} | stored,
        "conditions": [{"leftValue": left, "rightValue": right, "operator": operator}],
        "combinator": "and"}}


CASES: list[tuple[str, str, float, dict[str, Any]]] = [
    ("if v1 number smaller", IF, 1, _legacy("number", "smaller", 2)),
    ("if v1 number largerEqual", IF, 1, _legacy("number", "largerEqual", 0)),
    ("if v1 number equal", IF, 1, _legacy("number", "equal", 5)),
    ("if v1 number isEmpty", IF, 1, _legacy("number", "isEmpty", 0, "={{ $json.n }}")),
    ("if v1 boolean equal", IF, 1, _legacy("boolean", "equal", True, "={{ $json.b }}")),
    ("if v1 boolean notEqual", IF, 1, _legacy("boolean", "notEqual", True, "={{ !$json.e }}")),
    ("if v1 string contains", IF, 1, _legacy("string", "contains", "lph", "={{ $json.s }}")),
    ("if v1 string startsWith", IF, 1, _legacy("string", "startsWith", "Al", "={{ $json.s }}")),
    ("if v1 string endsWith", IF, 1, _legacy("string", "notEndsWith", "a", "={{ $json.s }}")),
    ("if v1 string isNotEmpty", IF, 1, _legacy("string", "isNotEmpty", "", "={{ $json.e }}")),
    ("if v1 any of two", IF, 1, {"conditions": {
        "boolean": [{"value1": "={{ $json.b }}", "value2": True}],
        "number": [{"value1": "={{ $json.a * 2 }}", "operation": "larger", "value2": 5}]},
        "combineOperation": "any"}),
    ("filter v1 OR", FILTER, 1, {"conditions": {
        "string": [{"value1": "={{ $json.s }}", "value2": "beta"}],
        "number": [{"value1": "={{ $itemIndex }}", "operation": "equal", "value2": 0}]},
        "combineConditions": "OR"}),
    ("if v2 number gt strict", IF, 2, _filter("number", "gt", 1)),
    ("if v2.2 number lte loose", IF, 2.2, _filter("number", "lte", "={{ 5 }}", loose=True)),
    ("if v2 string equals", IF, 2, _filter("string", "equals", "beta", "={{ $json.s }}")),
    ("if v2 string ignore case", IF, 2, _filter("string", "startsWith", "al", "={{ $json.s }}",
                                                case=False)),
    ("if v2 string loose", IF, 2, _filter("string", "contains", "1", "={{ $json.s }}",
                                          loose=True)),
    ("if v2 exists", IF, 2, _filter("string", "exists", "", "={{ $json.n }}", single=True)),
    ("if v2.2 boolean true loose", IF, 2.2, _filter("boolean", "true", "", "={{ $json.b }}",
                                                    loose=True, single=True, version=2)),
    ("if v2 boolean loose v1", IF, 2, _filter("boolean", "false", "", "={{ $json.b }}",
                                              loose=True, single=True)),
    ("filter v2 number equals", FILTER, 2, _filter("number", "equals", 5)),
    ("switch v3 rules", SWITCH, 3, {"rules": {"values": [
        _filter("number", "gt", 1), _filter("string", "notEmpty", "", "={{ $json.e }}",
                                            loose=True, single=True)]},
        "options": {"fallbackOutput": "extra"}}),
    ("switch v3 all matching", SWITCH, 3.2, {"rules": {"values": [
        _filter("number", "gte", 0), _filter("number", "lt", 10)]},
        "options": {"allMatchingOutputs": True, "fallbackOutput": 0}}),
    ("switch v1 rules", SWITCH, 1, {"value1": "={{ $json.a }}", "rules": {"rules": [
        {"operation": "equal", "value2": 5}, {"operation": "smaller", "value2": 1,
                                              "output": 2}]}, "fallbackOutput": 3}),
    ("switch v2 string rules", SWITCH, 2, {"dataType": "string", "value1": "={{ $json.s }}",
                                           "rules": {"rules": [
                                               {"operation": "endsWith", "value2": "a"},
                                               {"operation": "contains", "value2": "l",
                                                "output": 1}]},
                                           "fallbackOutput": 1}),
    ("set v1", SET, 1, {"values": {
        "string": [{"name": "greeting", "value": "=Hi {{ $json.s }} #{{ $itemIndex }}"}],
        "number": [{"name": "twice", "value": "={{ $json.a * 2 }}"}],
        "boolean": [{"name": "flag", "value": "={{ $json.e }}"}]}, "options": {}}),
    ("set v1 keepOnlySet", SET, 1, {"keepOnlySet": True, "values": {
        "number": [{"name": "a", "value": "={{ $json.a }}"}, {"name": "c"}],
        "string": [{"name": "a.b", "value": "x"}]}, "options": {"dotNotation": False}}),
    ("set v1 dot notation", SET, 1, {"values": {
        "string": [{"name": "o.k", "value": "={{ $json.s }}"},
                   {"name": "deep.er.est", "value": "x"}, {"name": "s.t", "value": "y"}],
        "number": [{"name": "o.n", "value": 1}]}, "options": {}}),
    ("set v3.3 dot notation", SET, 3.3, {"assignments": {"assignments": [
        {"name": "l.x", "type": "number", "value": 1},
        {"name": "m.a.b", "type": "string", "value": "={{ $itemIndex }}"}]},
        "includeOtherFields": True, "options": {}}),
    ("set v2 number", SET, 2, {"keepOnlySet": True, "values": {
        "number": [{"name": "num", "value": "={{ $json.a }}"}]}, "options": {}}),
    ("set v3 fields", SET, 3, {"fields": {"values": [
        {"name": "str", "stringValue": "={{ $json.a }}"},
        {"name": "num", "type": "numberValue", "numberValue": "={{ $json.n }}"},
        {"name": "yes", "type": "booleanValue", "booleanValue": "={{ $json.b }}"}]},
        "include": "none", "options": {}}),
    ("set v3.3 assignments", SET, 3.3, {"assignments": {"assignments": [
        {"name": "label", "type": "string", "value": "={{ $json.s + '!' }}"},
        {"name": "count", "type": "number", "value": "={{ $itemIndex + 1 }}"}]},
        "includeOtherFields": True, "options": {}}),
    ("set v3.3 conversions", SET, 3.3, {"assignments": {"assignments": [
        {"name": "num", "type": "number", "value": "={{ $json.a }}"},
        {"name": "flag", "type": "boolean", "value": "={{ $json.b }}"}]}, "options": {}}),
    ("set v3.4 only new", SET, 3.4, {"assignments": {"assignments": [
        {"name": "n", "type": "string", "value": "={{ $json.n }}"}]}, "options": {}}),
]

REFUSED: list[tuple[str, float, dict[str, Any], str]] = [
    (IF, 1, _legacy("dateTime", "after", "2020-01-01"), "dateTime"),
    (IF, 1, _legacy("string", "regex", "/a/", "={{ $json.s }}"), "regex"),
    (IF, 1, _legacy("number", "equal", 1, "={{ $json.a.toFixed(1) }}"), "not translatable"),
    (IF, 2, _filter("dateTime", "before", "2020-01-01"), "dateTime"),
    (IF, 2, _filter("string", "regex", "a"), "regex"),
    (IF, 2, {"conditions": {"conditions": []}}, "without options"),
    (FILTER, 2, _filter("array", "contains", "x"), "array"),
    (IF, 2.2, _filter("boolean", "true", "", loose=True, single=True), "no version"),
    (SWITCH, 3, {"mode": "expression", "output": "={{ 1 }}"}, "expression mode"),
    (SET, 1, {"values": {"string": [{"name": "a[0]", "value": "x"}]}}, "dot-notation"),
    (SET, 1, {"values": {"string": [{"name": "a.0", "value": "x"}]}}, "dot-notation"),
    (SET, 3.3, {"mode": "raw", "jsonOutput": "{}"}, "raw mode"),
    (SET, 3.3, {"assignments": {"assignments": [{"name": "x", "type": "array",
                                                 "value": "[1]"}]}}, "array"),
    (SET, 3.2, {"fields": {"values": []}, "include": "selected"}, "include"),
    (SET, 1, {"values": {}, "options": {"includeBinary": True}}, "options"),
    (SWITCH, 2, {"dataType": "string", "value1": "={{ $json.s }}", "rules": {"rules": [
        {"operation": "equal", "value2": "a"}]}, "fallbackOutput": "extra"}, "positions"),
]


# --------------------------------------------------------------------------- evaluation


class _Js:
    """The runner's expression evaluation for one list of items (one engine)."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.engine = JsEngine()
        self.data = NodeRunData(node="N", input_items=[{"json": i} for i in items])

    def __call__(self, expression: str, item_index: int) -> Any:
        evaluator = ExpressionEvaluator(self.data, {"v": expression}, engine=self.engine)
        return evaluator.resolve(item_index)["v"]


def _runner(type_name: str, version: float, parameters: dict[str, Any],
            items: list[dict[str, Any]]) -> list[list[Any]] | None:
    call = NodeCall("N", version, parameters, [[{"json": i} for i in items]], _Js(items))
    try:
        ports = NODES[type_name](call)
    except NodeOperationError:
        return None
    return ports[:_outputs(type_name, version, parameters)]  # as n8n_run keeps them


def _native(built: Built, items: list[dict[str, Any]]) -> list[list[Any]] | None:
    """The ports the Pass computes, or None when some item fails the guard."""
    guard = (f'({HELPERS}$count($$) = $count($filter($$, function($it, $index) {{ ($json := '
             f"$it.json; {built.guard}) }})))")
    if not compile_expression(guard).evaluate([{"json": i} for i in items]):
        return None
    ports = ", ".join(built.ports)
    source = f"($items := $$; {HELPERS}{built.bindings}[{ports}])"
    return compile_expression(source).evaluate([{"json": i} for i in items])


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _outputs(type_name: str, version: float, parameters: dict[str, Any]) -> int:
    return len(N8N_TYPES[type_name].outputs(version, parameters))


@pytest.mark.parametrize(("title", "type_name", "version", "parameters"), CASES,
                         ids=[case[0] for case in CASES])
def test_native_ports_are_the_runners(title: str, type_name: str, version: float,
                                      parameters: dict[str, Any]) -> None:
    built = build(type_name, version, parameters, _outputs(type_name, version, parameters))
    assert isinstance(built, Built), built
    passing = []
    for item in ITEMS:
        native = _native(built, [item])
        expected = _runner(type_name, version, parameters, [item])
        if expected is None:
            assert native is None, (title, item)  # n8n's error: the runner must run it
        elif native is not None:
            assert _same(native, expected), (title, item, native, expected)
            passing.append(item)
    assert passing, f"{title}: no item stays native"
    together = _native(built, passing)
    assert together is not None
    assert _same(together, _runner(type_name, version, parameters, passing))


@pytest.mark.parametrize(("type_name", "version", "parameters", "reason"), REFUSED,
                         ids=[f"{t.split('.')[-1]}-{r}" for t, _v, _p, r in REFUSED])
def test_what_stays_on_the_runner_says_why(type_name: str, version: float,
                                           parameters: dict[str, Any], reason: str) -> None:
    built = build(type_name, version, parameters, _outputs(type_name, version, parameters))
    assert isinstance(built, str) and reason in built, built


def test_reads_by_name_are_found_or_make_the_workflow_computed() -> None:
    assert names_read("={{ $('Orders').item.json.id }}") == {"Orders"}
    assert names_read('={{ $node["Split In Batches"].context["noItemsLeft"] }}') == {
        "Split In Batches"}
    assert names_read("const rows = $items('A'); return $node.B.json;") == {"A", "B"}
    assert names_read("for item in _('Py').all(): pass") == {"Py"}
    assert names_read("={{ $json.a }}") == set()
    assert names_read("={{ $(name).item }}") is None
    assert names_read("={{ $node[name] }}") is None


def test_node_text_literals_are_jsonata_strings() -> None:
    assert compile_expression(text('it\'s "q" {% %}')).evaluate(None) == 'it\'s "q" {% %}'


# --------------------------------------------------------------------------- states


@pytest.fixture
def native_n8n(monkeypatch: pytest.MonkeyPatch) -> None:
    """The four types with lowering "native", as the catalogue will make them once
    compiler/nodetypes.py builds n8n types with the catalogue's lowering."""
    for name in TYPES:
        monkeypatch.setitem(NODE_TYPES, name,
                            dataclasses.replace(NODE_TYPES[name], lowering="native"))


def _workflow(nodes: list[tuple[str, str, float, dict[str, Any]]],
              links: list[tuple[str, str, int]]) -> dict[str, Any]:
    """An n8n document: a manual trigger named Start, then ``nodes``; links are
    (source, target, source output)."""
    document_nodes = [{"name": "Start", "type": BASE + "manualTrigger", "typeVersion": 1,
                       "parameters": {}, "position": [0, 0]}]
    for name, type_name, version, parameters in nodes:
        document_nodes.append({"name": name, "type": type_name, "typeVersion": version,
                               "parameters": parameters, "position": [0, 0]})
    connections: dict[str, Any] = {}
    for source, target, output in links:
        ports = connections.setdefault(source, {"main": []})["main"]
        while len(ports) <= output:
            ports.append([])
        ports[output].append({"node": target, "type": "main", "index": 0})
    return {"name": "native-n8n", "nodes": document_nodes, "connections": connections}


CODE = BASE + "code"


def _if_workflow() -> dict[str, Any]:
    return _workflow(
        [("Rows", CODE, 2, {"jsCode": "return [{json: {a: 1}}, {json: {a: 5}}];"}),
         ("Small?", IF, 1, _legacy("number", "smaller", 2)),
         ("Tag", SET, 1, {"values": {"string": [{"name": "tag", "value": "small"}]}}),
         ("Copy", SET, 3.4, {"assignments": {"assignments": [
             {"name": "b", "type": "string", "value": "={{ $json.a }}"}]}})],
        [("Start", "Rows", 0), ("Rows", "Small?", 0), ("Small?", "Tag", 0),
         ("Small?", "Copy", 1)])


def test_a_guarded_node_is_a_choice_with_its_runner_task_as_default(native_n8n: None) -> None:
    compiled = compile_workflow(_if_workflow())
    kinds = node_states(compiled.definition)
    assert kinds["Small?"] == "Choice" and kinds["#runner Small?"] == "Lambda"
    assert kinds["Tag"] == "Pass"  # a literal after an n8n node: nothing to check
    assert kinds["Copy"] == "Choice"  # its string field is checked per item
    assert kinds["Rows"] == "Lambda"


def test_nodes_read_by_name_and_those_between_stay_on_the_runner(native_n8n: None) -> None:
    compiled = compile_workflow(_workflow(
        [("A", SET, 1, {"values": {"number": [{"name": "x", "value": 1}]}}),
         ("B", SET, 1, {"values": {"number": [{"name": "y", "value": 2}]}}),
         ("C", SET, 1, {"values": {"number": [{"name": "z", "value":
                                               "={{ $('A').item.json.x }}"}]}}),
         ("D", SET, 1, {"values": {"number": [{"name": "w", "value": 3}]}})],
        [("Start", "A", 0), ("A", "B", 0), ("B", "C", 0), ("C", "D", 0)]))
    kinds = node_states(compiled.definition)
    assert [kinds[n] for n in "ABCD"] == ["Lambda", "Lambda", "Lambda", "Pass"]


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(time_scale=TIME_SCALE) as local_cloud:
        yield local_cloud


def _outputs_by_node(cloud: LocalCloud, document: dict[str, Any]) -> dict[str, Any]:
    finished = cloud.wait(cloud.start(compile_workflow(document), None, mode="manual"),
                          timeout_seconds=60)
    assert finished.status == "SUCCEEDED", finished.cause
    entered = [e["stateEnteredEventDetails"]["name"] for e in finished.history
               if e["type"].endswith("StateEntered")]
    runs: dict[str, Any] = {"#entered": entered}
    for run in cloud.repository.node_runs(finished.execution_id):
        assert run.node not in runs, f"{run.node} recorded twice"
        runs[run.node] = run.output
    return runs


def test_native_runs_record_what_the_runner_records(native_n8n: None, cloud: LocalCloud,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    native = _outputs_by_node(cloud, _if_workflow())
    monkeypatch.undo()  # the same workflow, every node on the runner
    expected = _outputs_by_node(cloud, _if_workflow())
    assert "#runner Small?" not in native["#entered"]  # the native path was taken
    assert "Small?" in expected["#entered"]
    for node in ("Small?", "Tag", "Copy"):
        assert native[node] == expected[node], node


def test_an_item_outside_the_exact_domain_runs_the_node_on_the_runner(
        native_n8n: None, cloud: LocalCloud) -> None:
    document = _if_workflow()
    document["nodes"][1]["parameters"]["jsCode"] = \
        "return [{json: {a: 1}}, {json: {a: 'x'}}];"  # 'x' < 2 is JavaScript's coercion
    runs = _outputs_by_node(cloud, document)
    assert "#runner Small?" in runs["#entered"]
    assert [item["json"] for item in runs["Small?"][1]] == [{"a": "x"}]
    assert [item["json"] for item in runs["Tag"][0]] == [{"a": 1, "tag": "small"}]


def test_literals_are_checked_when_compiling() -> None:
    always = build(SET, 3.4, {"assignments": {"assignments": [
        {"name": "n", "type": "number", "value": 5}]}}, 1)
    assert isinstance(always, Built) and always.guard == "true"
    flag = build(SET, 1, {"values": {"boolean": [{"name": "b", "value": True}]}}, 1)
    assert isinstance(flag, Built) and flag.guard == "true"
    never = build(SET, 3.4, {"assignments": {"assignments": [
        {"name": "n", "type": "number", "value": "five"}]}}, 1)
    assert isinstance(never, str) and "converts or rejects" in never


PEER = json.loads(Path(__file__).with_name("peer_n8n_native.json").read_text())


@pytest.mark.parametrize("name", sorted(PEER))
def test_native_ports_are_n8ns(name: str) -> None:
    """n8n 1.123's own outputs (``record_peer_n8n_native.py``) for every case on the items
    that stay native: the same ports, items, json and pairedItem."""
    title = name.rsplit(" / ", 1)[0]
    _title, type_name, version, parameters = next(c for c in CASES if c[0] == title)
    built = build(type_name, version, parameters, _outputs(type_name, version, parameters))
    assert isinstance(built, Built), built
    recorded = PEER[name]
    native = _native(built, [ITEMS[i] for i in recorded["items"]])
    assert native is not None
    expected = recorded["outputs"][:len(native)]
    expected += [[] for _ in range(len(native) - len(expected))]  # unused ports
    assert _same(native, expected), (native, expected)


_VALUES: list[Any] = [None, True, False, 0, 1, -1, 2.5, 1e21, 0.1, "", " ", "0", "1", "true",
                      "False", "abc", "12", "-0.5", "1e3", "Alpha", "é", [], [1], {}, {"k": 1}]


def test_random_items_never_break_a_guard_and_match_the_runner() -> None:
    """Seeded random items per case: the guard always evaluates (a failing check would
    fail the state), and where it holds the ports are the runner's."""
    rng = random.Random(7)
    for title, type_name, version, parameters in CASES:
        built = build(type_name, version, parameters, _outputs(type_name, version, parameters))
        assert isinstance(built, Built)
        for _ in range(3):
            item = {key: rng.choice(_VALUES) for key in "asbnelom" if rng.random() < 0.8}
            native = _native(built, [item])
            if native is not None:
                expected = _runner(type_name, version, parameters, [item])
                assert expected is not None and _same(native, expected), (title, item)
