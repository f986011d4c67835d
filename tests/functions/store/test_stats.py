"""Per-workflow day aggregates (``functions.store.stats``): an execution counts once, however
often and however concurrently its end is reported; reads are by key and day range."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from functions.store.stats import Counted, StatsStore
from local.cloud import LocalCloud
from tests.conftest import TIME_SCALE


@pytest.fixture(scope="module")
def store() -> Iterator[StatsStore]:
    with LocalCloud(time_scale=TIME_SCALE):
        yield StatsStore()


def ended(workflow: str, execution: str, status: str = "SUCCEEDED", duration: int = 100,
          day: date = date(2026, 12, 3), failed: frozenset[str] = frozenset()) -> Counted:
    return Counted(workflow, day, execution, status, duration, 40 + duration % 7, failed)


def test_an_execution_reported_twice_counts_once(store: StatsStore) -> None:
    first = ended("twice", "e1", "FAILED", 900, failed=frozenset({"Fetch"}))
    assert store.count(first) is True
    assert store.count(first) is False  # the same status change again: nothing added
    assert store.count(ended("twice", "e2", duration=50)) is True
    (day,) = store.workflow_days("twice", date(2026, 12, 1), date(2026, 12, 31))
    assert day.statuses == {"FAILED": 1, "SUCCEEDED": 1}
    assert sum(day.durations.values()) == 2 and day.total_ms == 950 and day.max_ms == 900
    assert day.node_failures == {"Fetch": 1}
    assert store.is_counted("twice", "e1") and not store.is_counted("twice", "e3")


def test_concurrent_reports_of_one_execution_count_it_once(store: StatsStore) -> None:
    same = ended("racing", "only", "FAILED", 321, failed=frozenset({"A", "B"}))
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: store.count(same), range(8)))
    assert results.count(True) == 1
    (day,) = store.workflow_days("racing", date(2026, 12, 3), date(2026, 12, 3))
    assert day.statuses == {"FAILED": 1} and day.node_failures == {"A": 1, "B": 1}
    assert day.total_ms == 321 and sum(day.durations.values()) == 1


def test_node_names_that_look_like_document_paths_are_kept_as_they_are(
        store: StatsStore) -> None:
    names = frozenset({"a.b", "items[0]", "50% off", "naïve #1"})
    store.count(ended("paths", "e", "FAILED", failed=names))
    (day,) = store.workflow_days("paths", date(2026, 12, 3), date(2026, 12, 3))
    assert day.node_failures == dict.fromkeys(names, 1)


def test_the_maximum_only_rises(store: StatsStore) -> None:
    for index, duration in enumerate([500, 2_000, 700]):
        store.count(ended("maximum", f"e{index}", duration=duration))
    (day,) = store.workflow_days("maximum", date(2026, 12, 3), date(2026, 12, 3))
    assert day.max_ms == 2_000 and day.total_ms == 3_200


def test_day_ranges_read_by_key_across_months(store: StatsStore) -> None:
    for index, day in enumerate([date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 30),
                                 date(2026, 12, 1), date(2027, 1, 2)]):
        store.count(ended("months", f"m{index}", day=day))
    store.count(ended("other", "o1", day=date(2026, 11, 15)))
    days = store.workflow_days("months", date(2026, 11, 1), date(2026, 12, 1))
    assert [d.day for d in days] == [date(2026, 11, 1), date(2026, 11, 30), date(2026, 12, 1)]
    every = list(store.all_days(date(2026, 11, 1), date(2027, 1, 1)))
    assert sorted((d.workflow_id, d.day) for d in every
                  if d.workflow_id in ("months", "other")) == [
        ("months", date(2026, 11, 1)), ("months", date(2026, 11, 30)),
        ("months", date(2026, 12, 1)), ("other", date(2026, 11, 15))]
