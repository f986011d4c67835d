"""Large item lists travel between states as S3 references (runner to runner)."""

from __future__ import annotations

from typing import Any

from compiler import compile_workflow
from local.cloud import LocalCloud
from tests.examples.test_examples import run_compiled

ITEMS = 50_000
BLOB = 1_000  # bytes per item: ~50 MB in all


def big_workflow(consumer: dict[str, Any], items: int = ITEMS) -> dict[str, Any]:
    return {
        "name": "big-data",
        "nodes": [
            {"name": "Start", "type": "manualTrigger"},
            {"name": "Generate", "type": "code", "parameters": {"code": (
                f"return [{{'i': i, 'blob': 'x' * {BLOB}}} for i in range({items})]")}},
            {"name": "Sort", "type": "sort",
             "parameters": {"fields": [{"field": "i", "order": "descending"}]}},
            consumer,
        ],
        "connections": [{"from": "Start", "to": "Generate"}, {"from": "Generate", "to": "Sort"},
                        {"from": "Sort", "to": consumer["name"]}],
    }


def test_fifty_megabytes_of_items_flow_through_references(cloud: LocalCloud) -> None:
    summarise = {"name": "Summarise", "type": "code", "parameters": {"code": (
        "return [{'count': len(items), 'first': items[0]['i'], "
        "'bytes': sum(len(item['blob']) for item in items)}]")}}
    compiled = compile_workflow(big_workflow(summarise))
    assert compiled.definition["States"]["Generate"]["Arguments"]["outputRefs"] is True
    report = run_compiled(cloud, compiled)
    assert report["status"] == "SUCCEEDED", report["error"]
    assert report["output"]["Summarise"] == [
        {"count": ITEMS, "first": ITEMS - 1, "bytes": ITEMS * BLOB}]
    assert report["nodes"]["Sort"]["items"] == ITEMS  # the run data keeps the items


def test_too_large_for_an_inline_consumer_fails_clearly(cloud: LocalCloud) -> None:
    compiled = compile_workflow(big_workflow(
        {"name": "Pause", "type": "wait", "parameters": {"seconds": 1}}, items=500))
    report = run_compiled(cloud, compiled)
    assert report["status"] == "FAILED"
    assert report["error"]["type"] == "Sfnflow.PayloadTooLarge"
    assert report["error"]["node"] == "Sort"
    assert "Put a runner node" in report["error"]["message"]
