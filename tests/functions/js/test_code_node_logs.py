"""The JavaScript Code node hands its console lines to the caller's ``logs`` list, also when
the code throws after logging (the failing node's run keeps them)."""

from __future__ import annotations

import pytest

from functions.js.code_node import EACH_ITEM, run_code
from functions.js.engine import Limits
from functions.js.errors import CodeNodeError
from functions.js.run_data import NodeRunData

SMALL = Limits(cpu_seconds=0.1, memory_bytes=16 * 1024 * 1024, stack_bytes=256 * 1024)


def data() -> NodeRunData:
    return NodeRunData(node="Code", input_items=[{"json": {"a": 1}}, {"json": {"a": 2}}])


def test_lines_logged_before_a_throw_reach_the_logs_list() -> None:
    logs: list[str] = []
    with pytest.raises(CodeNodeError, match="boom"):
        run_code(data(), "console.log('before', 1); throw new Error('boom')", logs=logs)
    assert logs == ["before 1"]


def test_each_item_mode_keeps_the_lines_of_the_items_before_the_failing_one() -> None:
    logs: list[str] = []
    code = "console.log('item', $itemIndex); if ($itemIndex === 1) throw new Error('no'); " \
           "return $json"
    with pytest.raises(CodeNodeError):
        run_code(data(), code, EACH_ITEM, logs=logs)
    assert logs == ["item 0", "item 1"]


def test_a_successful_run_gives_the_lines_once() -> None:
    logs: list[str] = []
    result = run_code(data(), "console.log('x'); return []", logs=logs)
    assert logs == ["x"] and result.logs == ["x"]


def test_a_time_limit_after_logging_keeps_the_lines() -> None:
    logs: list[str] = []
    with pytest.raises(CodeNodeError) as caught:
        run_code(data(), "console.log('spinning'); while (true) {}", logs=logs, limits=SMALL)
    assert caught.value.kind == "time"
    assert logs == ["spinning"]
