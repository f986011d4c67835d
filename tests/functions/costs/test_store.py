"""Costs on moto's DynamoDB: recorded once per execution, summed per workflow and day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from functions.costs.store import CostStore
from functions.costs.view import CostNotRecorded, cost_view
from functions.store.repository import Execution
from local.cloud import LocalCloud
from tests.conftest import TIME_SCALE


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(time_scale=TIME_SCALE) as local_cloud:
        yield local_cloud


def started(cloud: LocalCloud, execution_id: str, workflow: str = "wf") -> None:
    cloud.repository.create_execution(Execution(
        execution_id=execution_id, workflow_id=workflow, status="SUCCEEDED",
        started_at="2026-12-03T10:00:00.000Z"))


def cost(total: float, children: tuple[str, ...] = ()) -> dict[str, object]:
    return {"total": total, "components": {"stepFunctions": total, "lambda": 0.0,
                                           "dynamodb": 0.0, "s3": 0.0},
            "usage": {"stateTransitions": 4, "lambdaGbSeconds": 0.5, "seconds": 1.0},
            "express": {"possible": False}, "children": list(children)}


def test_a_second_delivery_records_nothing_and_the_day_counts_the_execution_once(
        cloud: LocalCloud) -> None:
    store = CostStore()
    started(cloud, "once")
    assert store.record("once", "wf-once", "2026-12-03", cost(0.5))
    assert not store.record("once", "wf-once", "2026-12-03", cost(0.5))
    [day] = store.days("wf-once", date(2026, 12, 1), date(2026, 12, 31))
    assert (day.executions, day.total, day.state_transitions) == (1, 0.5, 4)
    assert store.execution_cost("once") == cost(0.5)


def test_days_are_per_workflow_and_within_the_range(cloud: LocalCloud) -> None:
    store = CostStore()
    for n, (workflow, day) in enumerate([("wf-a", "2026-12-01"), ("wf-a", "2026-12-01"),
                                         ("wf-a", "2026-12-02"), ("wf-b", "2026-12-01")]):
        started(cloud, f"d{n}", workflow)
        store.record(f"d{n}", workflow, day, cost(1.0))
    days = store.days("wf-a", date(2026, 11, 30), date(2026, 12, 2))
    assert [(d.day, d.executions, d.total) for d in days] == [
        ("2026-12-01", 2, 2.0), ("2026-12-02", 1, 1.0)]
    assert [d.day for d in store.days("wf-a", date(2026, 12, 2), date(2026, 12, 2))] == [
        "2026-12-02"]


def test_day_items_stay_out_of_the_execution_listings(cloud: LocalCloud) -> None:
    started(cloud, "listed", "wf-listed")
    CostStore().record("listed", "wf-listed", "2026-12-03", cost(1.0))
    page = cloud.repository.query_executions(workflow_id="wf-listed", limit=50)
    assert [e.execution_id for e in page.items] == ["listed"]
    everything = cloud.repository.query_executions(limit=100)
    assert not any(e.execution_id.startswith("costs#") for e in everything.items)


def test_no_cost_is_recorded_for_an_unknown_execution(cloud: LocalCloud) -> None:
    assert not CostStore().execution_cost("nobody")
    with pytest.raises(CostNotRecorded):
        cost_view(CostStore(), "nobody")
    assert CostStore().record("nobody", "wf", "2026-12-03", cost(1.0)) is False


def test_the_view_adds_the_sub_workflows_costs(cloud: LocalCloud) -> None:
    store = CostStore()
    for execution_id in ("parent", "child", "grandchild"):
        started(cloud, execution_id)
    store.record("grandchild", "wf", "2026-12-03", cost(0.25))
    store.record("child", "wf", "2026-12-03", cost(0.5, ("grandchild",)))
    store.record("parent", "wf", "2026-12-03", cost(1.0, ("child",)))
    view = cost_view(store, "parent")
    assert view["total"] == 1.0
    assert view["withChildren"] == {"total": 1.75, "children": 0.75}


def test_millionths_of_a_dollar_add_up_exactly(cloud: LocalCloud) -> None:
    """A run costs millionths of a dollar (``2e-05`` as a float's shortest text): the day
    sums them as whole picodollars, exactly, however many runs it adds."""
    store = CostStore()
    for n in range(3):
        started(cloud, f"tiny{n}", "wf-tiny")
        assert store.record(f"tiny{n}", "wf-tiny", "2026-12-03", cost(2e-05))
    [day] = store.days("wf-tiny", date(2026, 12, 3), date(2026, 12, 3))
    assert day.total == 6e-05 and day.components["stepFunctions"] == 6e-05
