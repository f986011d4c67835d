"""The bound on a node run's recorded console output (``functions.store.node_logs``)."""

from __future__ import annotations

from functions.store.node_logs import (
    MAX_LOG_BYTES,
    MAX_LOG_LINES,
    bounded_logs,
    truncation_marker,
)


def size(lines: list[str]) -> int:
    return sum(len(line.encode("utf-8")) for line in lines)


def test_nothing_logged_is_none_not_an_empty_list() -> None:
    assert bounded_logs([]) is None
    assert bounded_logs(None) is None


def test_lines_within_the_bounds_are_kept_as_they_are() -> None:
    lines = [f"line {i}" for i in range(MAX_LOG_LINES)]
    assert bounded_logs(lines) == lines


def test_too_many_lines_keep_the_first_and_say_how_many_were_dropped() -> None:
    kept = bounded_logs([str(i) for i in range(MAX_LOG_LINES + 7)])
    assert kept == [str(i) for i in range(MAX_LOG_LINES)] + [truncation_marker(7)]


def test_too_many_bytes_cut_the_crossing_line_at_a_character_and_stay_in_bound() -> None:
    lines = ["é" * 3000 for _ in range(5)]  # 6,000 bytes each
    kept = bounded_logs(lines)
    assert kept is not None
    assert kept[:2] == lines[:2]
    assert kept[2].startswith("é") and kept[2].endswith(" ...") and len(kept[2]) < 3000
    assert kept[-1] == truncation_marker(3)
    assert size(kept) <= MAX_LOG_BYTES


def test_one_huge_line_is_cut_not_dropped() -> None:
    kept = bounded_logs(["y" * (10 * MAX_LOG_BYTES)])
    assert kept is not None and kept[0].startswith("yyy")
    assert kept[-1] == truncation_marker(1) and size(kept) <= MAX_LOG_BYTES
