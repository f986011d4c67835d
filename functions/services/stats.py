"""Per-workflow statistics (issue 13, analytics): kept as executions end, read by day range.

``count_finished`` is the observer of ended executions (``functions.services.finished``):
it adds the execution to its workflow's day in ``functions.store.stats`` — by status, its
duration in a log-scale histogram (``duration_histogram``: p50/p95 within 9.05 % above the
true value, the maximum exact), and the nodes that failed in it. An execution belongs to
the UTC day it ended on, the day its cost is added to (``functions.costs.observer``), so a
day's statistics and its cost describe the same executions. Counting is idempotent per
execution (the store's marker), so a repeated event adds nothing.

``StatsService`` answers ``GET /workflows/{id}/stats`` and ``GET /stats`` from Queries of
the day aggregates only (no Scan, no execution read): totals, per-day rows, failure rate
(FAILED and TIMED_OUT over all ended executions; ABORTED is a person's decision, counted
but not a failure), the nodes that fail most, and the cost per day the cost observer
recorded (``RecordedCosts``), read only for the days that had executions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from compiler.errors import SfnflowError
from functions.costs.store import CostStore
from functions.services import duration_histogram
from functions.store.stats import Counted, DayStats, StatsStore

if TYPE_CHECKING:
    from functions.services.finished import Finished
    from functions.store.repository import RunRepository

DEFAULT_DAYS = 30
MAX_DAYS = 366  # a range is at most a year of days: one Query per month (GET /stats)
TOP_NODES = 5
COST_READERS = 8  # GET /stats reads workflows' day costs in parallel (GetItem each)
FAILURES = ("FAILED", "TIMED_OUT")


class StatsRangeInvalid(SfnflowError, ValueError):
    """A ``from``/``to`` day range that cannot be read: not a day, reversed or too long."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# ------------------------------------------------------------------ counting


def _moment(value: Any) -> datetime | None:
    """A time from a status-change detail (epoch milliseconds) or the run data (ISO)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def counted_of(finished: Finished, repository: RunRepository) -> Counted | None:
    """What ``finished`` adds to its workflow's statistics; None when it names no workflow
    or no start time."""
    if finished.workflow_id is None:
        return None
    recorded = repository.get_execution(finished.execution_id)
    started = _moment(finished.detail.get("startDate")) or _moment(
        recorded.started_at if recorded else None)
    stopped = _moment(finished.detail.get("stopDate")) or _moment(
        recorded.stopped_at if recorded else None) or started
    if started is None or stopped is None:
        return None
    duration_ms = max(0, round((stopped - started).total_seconds() * 1000))
    failed = {run.node for run in finished.runs if run.status == "error"}
    node = (recorded.error or {}).get("node") if recorded is not None else None
    if isinstance(node, str) and finished.status != "SUCCEEDED":
        failed.add(node)
    return Counted(
        workflow_id=finished.workflow_id, day=stopped.astimezone(UTC).date(),
        execution_id=finished.execution_id, status=finished.status,
        duration_ms=duration_ms, duration_bucket=duration_histogram.bucket_of(duration_ms),
        failed_nodes=frozenset(failed))


def count_finished(repository: RunRepository,
                   store: StatsStore | None = None) -> Callable[[Finished], None]:
    """The observer that counts each ended execution once."""
    stats = store or StatsStore()

    def count_in_stats(finished: Finished) -> None:
        counted = counted_of(finished, repository)
        if counted is not None:
            stats.count(counted)

    return count_in_stats


# ------------------------------------------------------------------ reading


class CostSource(Protocol):
    """Where the cost observer keeps each workflow's cost per day (USD)."""

    def daily_costs(self, workflow_id: str, days: Iterable[date]) -> Mapping[date, float]:
        ...


class RecordedCosts:
    """The cost observer's per-workflow-day totals (``functions.costs.store``): one GetItem
    per day asked for. A day it has no total for is left out (a null cost, never 0)."""

    def __init__(self, store: CostStore | None = None) -> None:
        self.store = store or CostStore()

    def daily_costs(self, workflow_id: str, days: Iterable[date]) -> Mapping[date, float]:
        return {date.fromisoformat(cost.day): cost.total for day in days
                for cost in self.store.days(workflow_id, day, day)}


def day_range(first: str | None, last: str | None, *, today: date | None = None,
              ) -> tuple[date, date]:
    """The inclusive day range of a request: ``to`` defaults to today (UTC), ``from`` to
    ``DEFAULT_DAYS`` days ending at ``to``; at most ``MAX_DAYS`` days."""
    end = _day("to", last) if last else (today or datetime.now(UTC).date())
    start = _day("from", first) if first else end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise StatsRangeInvalid("from", f"from ({start}) is after to ({end})")
    if (end - start).days + 1 > MAX_DAYS:
        raise StatsRangeInvalid("from", f"a range holds at most {MAX_DAYS} days, "
                                        f"{start}..{end} holds {(end - start).days + 1}")
    return start, end


def _day(field: str, text: str) -> date:
    try:
        return date.fromisoformat(text) if len(text) == 10 else _not_a_day(field, text)
    except ValueError:
        return _not_a_day(field, text)


def _not_a_day(field: str, text: str) -> date:
    raise StatsRangeInvalid(field, f"{field} must be a day as YYYY-MM-DD, not {text[:40]!r}")


@dataclass
class _Totals:
    """Day aggregates added together."""

    statuses: dict[str, int]
    durations: dict[int, int]
    total_ms: int
    max_ms: int | None
    node_failures: dict[str, int]

    @classmethod
    def of(cls, days: Iterable[DayStats]) -> _Totals:
        days = list(days)
        maxima = [day.max_ms for day in days if day.max_ms is not None]
        return cls(
            statuses=_added(day.statuses for day in days),
            durations=duration_histogram.merge(day.durations for day in days),
            total_ms=sum(day.total_ms for day in days),
            max_ms=max(maxima) if maxima else None,
            node_failures=_added(day.node_failures for day in days),
        )

    def view(self) -> dict[str, Any]:
        executions = sum(self.statuses.values())
        failures = sum(self.statuses.get(status, 0) for status in FAILURES)
        return {
            "executions": executions,
            "byStatus": dict(sorted(self.statuses.items())),
            "failureRate": round(failures / executions, 4) if executions else None,
            "durationMs": {
                "p50": duration_histogram.percentile(self.durations, 0.50, self.max_ms),
                "p95": duration_histogram.percentile(self.durations, 0.95, self.max_ms),
                "max": self.max_ms,
                "mean": round(self.total_ms / executions) if executions else None,
            },
            "topFailingNodes": [
                {"node": node, "failures": count} for node, count in
                sorted(self.node_failures.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_NODES]],
        }


def _added(maps: Iterable[Mapping[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for counts in maps:
        for key, count in counts.items():
            total[key] = total.get(key, 0) + count
    return total


def _cost(costs: Mapping[date, float], days: Iterable[date]) -> float | None:
    known = [costs[day] for day in days if day in costs]
    return round(sum(known), 10) if known else None  # USD; executions cost fractions of a cent


PERCENTILE_NOTE = (f"p50/p95 are read from a log-scale histogram: never below the true "
                   f"value, at most {duration_histogram.RELATIVE_ERROR:.2%} + 1 ms above it; "
                   f"max and mean are exact")


class StatsService:
    def __init__(self, store: StatsStore | None = None,
                 costs: CostSource | None = None) -> None:
        self.store = store or StatsStore()
        self.costs = costs or RecordedCosts()

    def workflow(self, workflow_id: str, first: date, last: date) -> dict[str, Any]:
        """One workflow's statistics over the range, in total and day by day."""
        days = self.store.workflow_days(workflow_id, first, last)
        costs = self.costs.daily_costs(workflow_id, [day.day for day in days])
        rows = []
        for day in days:
            row = _Totals.of([day]).view()
            rows.append({"day": day.day.isoformat(), **row, "cost": _cost(costs, [day.day])})
        return {
            "workflowId": workflow_id, "from": first.isoformat(), "to": last.isoformat(),
            **_Totals.of(days).view(), "cost": _cost(costs, costs.keys()),
            "days": rows, "note": PERCENTILE_NOTE,
        }

    def summary(self, first: date, last: date) -> dict[str, Any]:
        """Every workflow with executions in the range, busiest first, and the total."""
        by_workflow: dict[str, list[DayStats]] = {}
        for day in self.store.all_days(first, last):
            by_workflow.setdefault(day.workflow_id, []).append(day)
        with ThreadPoolExecutor(max_workers=COST_READERS) as pool:  # a read per day each
            costs = dict(zip(by_workflow, pool.map(
                lambda item: self.costs.daily_costs(item[0], [d.day for d in item[1]]),
                by_workflow.items()), strict=True))
        workflows = [{"workflowId": workflow_id, **_Totals.of(days).view(),
                      "cost": _cost(costs[workflow_id], costs[workflow_id].keys())}
                     for workflow_id, days in by_workflow.items()]
        workflows.sort(key=lambda view: (-view["executions"], view["workflowId"]))
        total = _Totals.of(day for days in by_workflow.values() for day in days).view()
        del total["topFailingNodes"]  # node names mean something within one workflow only
        return {"from": first.isoformat(), "to": last.isoformat(),
                "total": total, "workflows": workflows,
                "note": PERCENTILE_NOTE}
