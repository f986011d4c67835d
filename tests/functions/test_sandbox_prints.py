"""What code in the sandbox prints travels back with its answer (``child.Prints``), bounded,
also when the code fails; it still reaches stderr, the process's log."""

from __future__ import annotations

import pytest

from functions.errors import CodeError
from functions.sandbox import child, printed, run_isolated


def test_prints_come_back_one_line_per_call_also_on_failure() -> None:
    logs: list[str] = []
    with pytest.raises(CodeError, match="nope"):
        run_isolated("print('a', 1, sep='-')\nprint()\nraise ValueError('nope')", [], "N",
                     logs=logs)
    assert logs == ["a-1", ""]


def test_print_to_a_file_object_is_not_a_log_line() -> None:
    prints = child.Prints()
    prints.print("x", file=__import__("io").StringIO())
    assert prints.answer({}) == {}


def test_a_flood_is_cut_at_the_bound_and_the_rest_counted() -> None:
    logs: list[str] = []
    run_isolated(f"for i in range({child.PRINT_LINES_MAX + 5}):\n    print(i)\nreturn []", [],
                 "N", logs=logs)
    assert logs[:2] == ["0", "1"] and len(logs) == child.PRINT_LINES_MAX + 1
    assert logs[-1] == "[sfnflow: 5 more printed lines not kept]"


def test_printed_reads_an_answer_without_logs() -> None:
    assert printed({"items": []}) == []
