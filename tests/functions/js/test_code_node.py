"""The JavaScript Code node: both modes, async code, console capture, limits, no host access.
Result shapes and error messages are n8n 1.123's for the same code (peer harness)."""

from __future__ import annotations

import time

import pytest

from functions.js.code_node import EACH_ITEM, run_code
from functions.js.engine import Limits
from functions.js.errors import CodeNodeError
from functions.js.run_data import NodeRunData, Source, TaskData

SMALL = Limits(cpu_seconds=0.1, memory_bytes=16 * 1024 * 1024, stack_bytes=256 * 1024)


def data() -> NodeRunData:
    src = [{"json": {"a": 1}}, {"json": {"a": 2}}]
    return NodeRunData(
        node="Code",
        input_items=src,
        sources=[Source("Src")],
        run_data={"Src": [TaskData(outputs=[src])]},
        connections={"Src": {"main": [[{"node": "Code", "type": "main", "index": 0}]]}},
    )


def test_all_items_mode_with_input_all_and_items() -> None:
    result = run_code(
        data(), "return $input.all().map((i, n) => ({json: {b: i.json.a * 2, n: items[n].json.a}}))"
    )
    assert result.items == [
        {"json": {"b": 2, "n": 1}, "pairedItem": {"item": 0}},
        {"json": {"b": 4, "n": 2}, "pairedItem": {"item": 1}},
    ]


def test_plain_objects_and_single_object_are_wrapped() -> None:
    assert run_code(data(), "return [{x: 1}]").items == [{"json": {"x": 1}}]
    assert run_code(data(), "return {x: 1}").items == [{"json": {"x": 1}}]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("return 5", "Code doesn't return items properly"),
        ("return", "Code doesn't return items properly"),
        ("return [1]", "Code doesn't return items properly"),
        ("return [{json: {}}, {x: 1}]", "Unknown top-level item key: x [item 1]"),
        ("return [{json: {a: 1}, extra: 1}]", "Invalid output format [item 0]"),
        ("throw new Error('nope')", "Error: nope"),
    ],
)
def test_bad_results_and_throws_are_typed_errors(code: str, message: str) -> None:
    with pytest.raises(CodeNodeError) as caught:
        run_code(data(), code)
    assert message in caught.value.reason
    assert caught.value.node == "Code"
    assert caught.value.error_type == "Sfnflow.CodeError"


def test_each_item_mode_sees_json_and_input_item_and_null_drops_the_item() -> None:
    code = "if ($json.a === 1) return null; return {c: $json.a + $itemIndex, d: $input.item.json.a}"
    assert run_code(data(), code, EACH_ITEM).items == [
        {"json": {"c": 3, "d": 2}, "pairedItem": {"item": 1}}
    ]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("return", "Code doesn't return an object"),
        ("return [{b: 1}]", "Code doesn't return a single object"),
    ],
)
def test_each_item_mode_refuses_undefined_and_lists(code: str, message: str) -> None:
    with pytest.raises(CodeNodeError) as caught:
        run_code(data(), code, EACH_ITEM)
    assert (caught.value.reason, caught.value.item_index, caught.value.kind) == (
        message,
        0,
        "output",
    )


def test_returning_input_items_keeps_their_lineage() -> None:
    result = run_code(data(), "console.log('hi', {x: 1}); return [$input.all()[1]]")
    assert result.items == [{"json": {"a": 2}, "pairedItem": {"item": 1}}]
    assert result.logs == ['hi {"x":1}']


def test_fewer_outputs_than_inputs_get_no_default_lineage() -> None:
    assert run_code(data(), "return [{a: 1}]").items == [{"json": {"a": 1}}]


def test_each_item_mode_error_names_the_item() -> None:
    with pytest.raises(CodeNodeError) as caught:
        run_code(data(), "if ($itemIndex === 1) throw new Error('bad'); return $json", EACH_ITEM)
    assert caught.value.item_index == 1


def test_async_code_and_promises_run_to_completion() -> None:
    code = (
        "const v = await new Promise(r => r(5)); const w = await Promise.all([1, 2]); return {v, w}"
    )
    assert run_code(data(), code).items == [{"json": {"v": 5, "w": [1, 2]}}]


def test_console_log_is_captured() -> None:
    result = run_code(data(), "console.log('hi', {x: 1}); console.warn(3); return []")
    assert result.logs == ['hi {"x":1}', "3"]


def test_node_references_work_in_code() -> None:
    code = (
        "return [{json: {first: $('Src').first().json.a, paired: $('Src').itemMatching(1).json.a}}]"
    )
    assert run_code(data(), code).items[0]["json"] == {"first": 1, "paired": 2}


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("while (true) {}", "time"),
        ("const a = []; while (true) a.push(new Array(100000).fill(1))", "memory"),
        ("function f(n) { return f(n + 1) + 1 } return [{json: {v: f(0)}}]", "stack"),
        ("await new Promise(() => {}); return []", "error"),
        ("await null; while (true) {}", "time"),
        ("return {r: /(a+)+$/.test('a'.repeat(40) + '!')}", "time"),
    ],
)
def test_limits_end_runaway_code_as_typed_errors(code: str, kind: str) -> None:
    started = time.process_time()
    with pytest.raises(CodeNodeError) as caught:
        run_code(data(), code, limits=SMALL)
    assert caught.value.kind == kind
    assert time.process_time() - started < 3


def test_no_host_access() -> None:
    probe = (
        "return [{json: {r: [typeof require, typeof process, typeof fetch, typeof XMLHttpRequest,"
        " typeof std, typeof os, typeof setTimeout, typeof module, typeof Deno]}}]"
    )
    assert run_code(data(), probe).items[0]["json"]["r"] == ["undefined"] * 9
    with pytest.raises(CodeNodeError, match="access to env vars denied"):
        run_code(data(), "return [{json: {h: $env.HOME}}]")
    with pytest.raises(CodeNodeError):
        run_code(data(), "await import('os'); return []")


def test_memory_budget_is_on_top_of_the_input_items() -> None:
    big = [{"json": {"text": "x" * 1000, "n": i}} for i in range(20000)]  # ~20 MB of input
    many = NodeRunData(node="Code", input_items=big)
    result = run_code(many, "return [{json: {count: $input.all().length}}]", limits=SMALL)
    assert result.items == [{"json": {"count": 20000}}]


def test_all_items_mode_sees_the_first_item_as_json() -> None:
    code = "return {j: $json.a, i: $input.item.json.a, x: $itemIndex, m: $mode}"
    assert run_code(data(), code).items[0]["json"] == {"j": 1, "i": 1, "x": 0, "m": "integrated"}


def test_each_item_mode_refuses_whole_input_accessors() -> None:
    with pytest.raises(CodeNodeError, match=r"Can't use \.first\(\) here") as caught:
        run_code(data(), "return {f: $input.first().json.a}", EACH_ITEM)
    assert caught.value.item_index == 0
