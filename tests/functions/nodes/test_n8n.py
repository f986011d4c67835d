"""n8n node types on the node runner: n8n items, expressions, lineage, Code, flags."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.errors import CodeError
from functions.runner import NodeRunner
from local.cloud import LocalCloud

BASE = "n8n-nodes-base."


def connections(*chain: str) -> dict[str, Any]:
    return {source: {"main": [[{"node": target, "type": "main", "index": 0}]]}
            for source, target in zip(chain, chain[1:], strict=False)}


def event(node_type: str, name: str, parameters: dict[str, Any], items: list[Any], *,
          source: str = "Up", version: float = 1, chain: tuple[str, ...] = (),
          **node: Any) -> dict[str, Any]:
    outputs = node.pop("outputs", ["main"])
    context = {"connections": connections(*(chain or (source, name))), "timezone": "UTC"}
    return {
        "workflow": "wf",
        "execution": {"id": "exec-1", "startTime": "2026-01-01T00:00:00Z"},
        "node": {"name": name, "type": node_type, "parameters": json.dumps(parameters),
                 "outputs": outputs, "typeVersion": version, "n8n": json.dumps(context),
                 **node},
        "inputs": [[{"from": source, "output": 0}]],
        "data": {source: {"ports": [{"count": len(items), "items": items}]}},
    }


def assignment(name: str, value: Any, kind: str = "number") -> dict[str, Any]:
    return {"assignments": {"assignments": [{"name": name, "type": kind, "value": value}]}}


@pytest.fixture
def runner(cloud: LocalCloud) -> NodeRunner:
    return NodeRunner(cloud.repository)


def items_of(result: dict[str, Any], port: int = 0) -> list[Any]:
    return list(result["ports"][port]["items"])


def test_plain_items_in_n8n_items_out_with_lineage(runner: NodeRunner) -> None:
    result = runner.run(event(BASE + "set", "Set", assignment("b", "={{ $json.a * 2 }}"),
                              [{"a": 1}, {"a": 2}], version=3.4))
    assert items_of(result) == [{"json": {"b": 2}, "pairedItem": {"item": 0}},
                                {"json": {"b": 4}, "pairedItem": {"item": 1}}]


def test_an_expression_reads_an_earlier_node_through_paired_items(
        runner: NodeRunner) -> None:
    chain = ("Up", "Data", "Pick", "Use")
    data = runner.run(event(BASE + "set", "Data", assignment("x", "={{ $json.a * 10 }}"),
                            [{"a": 1}, {"a": 2}], version=3.4, chain=chain))
    kept = runner.run(event(BASE + "limit", "Pick", {"keep": "lastItems"}, items_of(data),
                            source="Data", chain=chain))
    result = runner.run(event(BASE + "set", "Use",
                              assignment("fromData", "={{ $('Data').item.json.x }}"),
                              items_of(kept), source="Pick", version=3.4, chain=chain))
    assert [item["json"]["fromData"] for item in items_of(result)] == [20]


def test_the_code_node_runs_javascript(runner: NodeRunner) -> None:
    code = "return $input.all().map(item => ({json: {n: item.json.a + 1}}))"
    result = runner.run(event(BASE + "code", "Code", {"jsCode": code}, [{"a": 1}],
                              version=2))
    assert [item["json"] for item in items_of(result)] == [{"n": 2}]


def python_code(code: str, items: list[Any], **parameters: Any) -> dict[str, Any]:
    return event(BASE + "code", "Py", {"language": "python", "pythonCode": code,
                                       **parameters}, items, version=2)


def test_the_code_node_runs_python_on_all_items(runner: NodeRunner) -> None:
    code = ("for item in _input.all():\n"
            "    item.json.n = item['json']['a'] + _input.first().json.a\n"
            "return _input.all()")
    result = runner.run(python_code(code, [{"a": 1}, {"a": 2}]))
    assert items_of(result) == [{"json": {"a": 1, "n": 2}, "pairedItem": {"item": 0}},
                                {"json": {"a": 2, "n": 3}, "pairedItem": {"item": 1}}]


def test_the_code_node_runs_python_once_for_each_item(runner: NodeRunner) -> None:
    code = "return {'b': _json.a * 10, 'c': _input.item['json']['a']}"
    result = runner.run(python_code(code, [{"a": 1}, {"a": 2}], mode="runOnceForEachItem"))
    assert items_of(result) == [{"json": {"b": 10, "c": 1}, "pairedItem": {"item": 0}},
                                {"json": {"b": 20, "c": 2}, "pairedItem": {"item": 1}}]


def test_a_python_syntax_error_is_a_code_error_naming_the_node(runner: NodeRunner) -> None:
    with pytest.raises(CodeError, match="code node 'Py': SyntaxError"):
        runner.run(python_code("return _input.all(", [{"a": 1}]))


def test_sort_by_code_uses_a_javascript_comparator(runner: NodeRunner) -> None:
    parameters = {"type": "code", "code": "return b.json.n - a.json.n"}
    result = runner.run(event(BASE + "sort", "Sort", parameters,
                              [{"n": 1}, {"n": 3}, {"n": 2}]))
    assert [item["json"]["n"] for item in items_of(result)] == [3, 2, 1]


def test_always_output_data_turns_no_items_into_one_empty_item(runner: NodeRunner) -> None:
    limit = event(BASE + "limit", "Limit", {"maxItems": 0}, [{"a": 1}], alwaysOutputData=True)
    assert [item["json"] for item in items_of(runner.run(limit))] == [{}]


def test_execute_once_takes_the_first_item(runner: NodeRunner) -> None:
    noop = event(BASE + "noOp", "Once", {}, [{"a": 1}, {"a": 2}], executeOnce=True)
    assert [item["json"] for item in items_of(runner.run(noop))] == [{"a": 1}]


def test_ports_are_the_compiled_ones(runner: NodeRunner) -> None:
    """Filter v2 may have one port in the editor: the runner gives what the compiler drew."""
    parameters = {"conditions": {"options": {}, "conditions": [], "combinator": "and"}}
    result = runner.run(event(BASE + "filter", "Filter", parameters, [{"a": 1}],
                              version=2, outputs=["kept"]))
    assert len(result["ports"]) == 1


def test_the_registry_does_not_load_the_javascript_engine() -> None:
    """Workflows without n8n nodes keep the node runner's cold start as it was."""
    import subprocess
    import sys

    code = "import sys, functions.nodes; print('functions.js' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "False"
