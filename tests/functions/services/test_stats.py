"""Per-workflow statistics (``functions.services.stats``): day ranges, and executions on the
embedded cloud counted once each by the status-change handler, read back as totals."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date
from typing import Any

import pytest

from compiler import compile_workflow
from functions.costs.store import CostStore
from functions.handlers import execution_events
from functions.services import duration_histogram
from functions.services.executions import ExecutionService
from functions.services.reconciler import status_change_detail
from functions.services.stats import MAX_DAYS, StatsRangeInvalid, StatsService, day_range
from functions.store.stats import DayStats
from local.cloud import LocalCloud
from tests.conftest import TIME_SCALE

TODAY = date(2026, 12, 3)


def test_the_default_range_is_the_last_30_days() -> None:
    assert day_range(None, None, today=TODAY) == (date(2026, 11, 4), TODAY)
    assert day_range("2026-01-01", None, today=TODAY) == (date(2026, 1, 1), TODAY)
    assert day_range(None, "2026-02-10", today=TODAY) == (date(2026, 1, 12), date(2026, 2, 10))


@pytest.mark.parametrize(("first", "last", "field"), [
    ("yesterday", None, "from"), ("2026-13-01", None, "from"), ("2026-1-1", None, "from"),
    (None, "2026-12-03T00:00", "to"), ("2026-12-04", "2026-12-03", "from"),
    ("2025-12-02", "2026-12-03", "from")])
def test_bad_ranges_are_refused_naming_the_field(first: str | None, last: str | None,
                                                 field: str) -> None:
    with pytest.raises(StatsRangeInvalid) as caught:
        day_range(first, last, today=TODAY)
    assert caught.value.field == field


def test_a_range_holds_at_most_a_year() -> None:
    first, last = day_range("2025-12-03", "2026-12-03")
    assert (last - first).days + 1 == MAX_DAYS
    with pytest.raises(StatsRangeInvalid):
        day_range("2025-12-02", "2026-12-03")


FLAKY = {"name": "stats-flow", "nodes": [
    {"name": "Start", "type": "manualTrigger"},
    {"name": "Same", "type": "noOp"},
    {"name": "Check", "type": "code", "parameters": {"code": (
        "if items[0].get('fail'):\n    raise ValueError('asked to fail')\nreturn items")}}],
    "connections": [{"from": "Start", "to": "Same"}, {"from": "Same", "to": "Check"}]}


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    execution_events._service.cache_clear()  # its observers write to this cloud
    with LocalCloud(time_scale=TIME_SCALE) as local_cloud:
        yield local_cloud
    execution_events._service.cache_clear()


def test_runs_on_the_embedded_cloud_are_counted_once_each(cloud: LocalCloud) -> None:
    compiled = compile_workflow(FLAKY)
    asks = [False, True, False, False, True]
    ended: list[dict[str, Any]] = []
    for fail in asks:
        finished = cloud.wait(cloud.start(compiled, {"fail": fail}))
        ended.append(cloud.sfn.describe_execution(executionArn=finished.execution_arn))
    replay = ExecutionService(cloud.sfn, cloud.repository)  # every event delivered again
    for described in ended:
        replay.on_status_change(status_change_detail(described))

    durations = sorted(round((d["stopDate"] - d["startDate"]).total_seconds() * 1000)
                       for d in ended)
    day = ended[0]["stopDate"].astimezone(UTC).date()
    stats = StatsService().workflow("stats-flow", day, day)
    assert stats["executions"] == 5
    assert stats["byStatus"] == {"FAILED": 2, "SUCCEEDED": 3}
    assert stats["failureRate"] == 0.4
    assert stats["topFailingNodes"] == [{"node": "Check", "failures": 2}]
    assert stats["durationMs"]["max"] == durations[-1]
    assert stats["durationMs"]["mean"] == round(sum(durations) / 5)
    p50 = stats["durationMs"]["p50"]
    assert durations[2] <= p50 <= durations[2] * (1 + duration_histogram.RELATIVE_ERROR) + 1
    assert [row["day"] for row in stats["days"]] == [day.isoformat()]
    assert stats["days"][0]["byStatus"] == stats["byStatus"]
    costs = CostStore()  # the cost observer's records of the same executions
    recorded = [costs.execution_cost(d["name"]) for d in ended]
    assert all(recorded)
    (day_cost,) = costs.days("stats-flow", day, day)
    assert stats["cost"] == pytest.approx(day_cost.total)  # the cost observer's day total
    assert stats["cost"] == pytest.approx(sum(cost["total"] for cost in recorded if cost),
                                          rel=1e-3)  # its per-execution costs, as rounded
    assert stats["days"][0]["cost"] == stats["cost"]

    summary = StatsService().summary(day, day)
    (mine,) = [w for w in summary["workflows"] if w["workflowId"] == "stats-flow"]
    assert mine["executions"] == 5 and mine["byStatus"] == stats["byStatus"]
    assert summary["total"]["executions"] >= 5


class _Days:
    """A store holding two days of one workflow (the reading side only)."""

    def workflow_days(self, workflow_id: str, first: date, last: date) -> list[DayStats]:
        return [DayStats(workflow_id, date(2026, 12, 1), {"SUCCEEDED": 2}, {80: 1, 81: 1},
                         2100, 1100),
                DayStats(workflow_id, date(2026, 12, 2), {"ABORTED": 1}, {40: 1}, 32, 32)]


class _Costs:
    def daily_costs(self, workflow_id: str, days: Iterable[date]) -> dict[date, float]:
        return {day: 0.25 for day in days if day == date(2026, 12, 1)}


def test_costs_per_day_come_from_the_cost_source() -> None:
    service = StatsService(store=_Days(), costs=_Costs())  # type: ignore[arg-type]
    stats = service.workflow("wf", date(2026, 12, 1), date(2026, 12, 2))
    assert [(row["day"], row["cost"]) for row in stats["days"]] == [
        ("2026-12-01", 0.25), ("2026-12-02", None)]  # a day without a cost is null, not 0
    assert stats["cost"] == 0.25
    assert stats["failureRate"] == 0.0  # an aborted execution is no failure
    assert stats["durationMs"] == {"p50": 1024, "p95": 1100, "max": 1100, "mean": 711}
