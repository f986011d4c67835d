"""Large item lists travel between states as S3 references (runner to runner)."""

from __future__ import annotations

from typing import Any

from compiler import compile_workflow
from local.cloud import LocalCloud
from tests.examples.test_examples import run_compiled

# ~5 MB in all: twenty times a state's 256 KiB, and under the 6 MB a code node may answer
# (a Lambda response's limit, which the code runner's answer is held to locally too).
ITEMS = 5_000
BLOB = 1_000  # bytes per item


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


def test_megabytes_of_items_flow_through_references(cloud: LocalCloud) -> None:
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


MEASURE = ("return [{'n': len(items), 'first': items[0]['i'], "
           "'bytes': sum(len(item['blob']) for item in items)}]")


def loop_workflow(mode: str, items: int = 2_000, body: str = MEASURE) -> dict[str, Any]:
    """``items`` items of ~1 KB into a forEach over batches of 200, each iteration
    running ``body`` (by default: summarising its batch)."""
    return {
        "name": f"big-loop-{mode}",
        "nodes": [
            {"name": "Start", "type": "manualTrigger"},
            {"name": "Generate", "type": "code", "parameters": {"code": (
                f"return [{{'i': i, 'blob': 'x' * {BLOB}}} for i in range({items})]")}},
            {"name": "Each", "type": "forEach",
             "parameters": {"batchSize": 200, "maxConcurrency": 5, "mode": mode}},
            {"name": "Measure", "type": "code", "parameters": {"code": body}},
            {"name": "Total", "type": "code", "parameters": {"code": (
                "return [{'batches': len(items), 'items': sum(i.get('n', 1) for i in items), "
                "'bytes': sum(i.get('bytes', len(i.get('blob', ''))) for i in items)}]")}},
        ],
        "connections": [
            {"from": "Start", "to": "Generate"}, {"from": "Generate", "to": "Each"},
            {"from": "Each", "output": "loop", "to": "Measure"},
            {"from": "Measure", "to": "Each"},
            {"from": "Each", "output": "done", "to": "Total"},
        ],
    }


def test_a_distributed_loop_reads_a_large_item_list_from_s3(cloud: LocalCloud) -> None:
    """2 MB of items (eight times a state's limit) reach the loop as an S3 reference; the
    runner stages the batches in S3 and the Distributed Map reads them (ItemReader)."""
    compiled = compile_workflow(loop_workflow("distributed"))
    states = compiled.definition["States"]
    assert states["Generate"]["Arguments"]["outputRefs"] is True
    assert states["Generate"]["Next"] == "#stage Each"
    assert states["Each"]["ItemReader"]["ReaderConfig"] == {"InputType": "JSON"}
    report = run_compiled(cloud, compiled)
    assert report["status"] == "SUCCEEDED", report["error"]
    assert report["output"]["Total"] == [{"batches": 10, "items": 2_000, "bytes": 2_000_000}]
    assert report["nodes"]["Measure"]["runs"] == 10


def test_iterations_may_return_more_than_a_state_holds(cloud: LocalCloud) -> None:
    """Each iteration hands its 200 KB batch on (an S3 reference, a runner node's large
    output); #collect joins the ten into the loop's 2 MB done output, a reference again."""
    compiled = compile_workflow(loop_workflow("distributed", body="return items"))
    states = compiled.definition["States"]
    assert states["Each"]["Next"] == "#collect Each"
    assert states["#collect Each"]["Arguments"]["collect"]["outputRefs"] is True
    report = run_compiled(cloud, compiled)
    assert report["status"] == "SUCCEEDED", report["error"]
    assert report["output"]["Total"] == [
        {"batches": 2_000, "items": 2_000, "bytes": 2_000_000}]
    assert report["nodes"]["Total"]["items"] == 1


def test_an_inline_loop_over_too_many_items_says_what_to_do(cloud: LocalCloud) -> None:
    report = run_compiled(cloud, compile_workflow(loop_workflow("inline")))
    assert report["status"] == "FAILED"
    assert report["error"]["type"] == "Sfnflow.PayloadTooLarge"
    assert "mode: distributed" in report["error"]["message"]
