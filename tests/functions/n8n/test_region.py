"""n8n's execution order over a loop region (``functions.n8n.region``), with stand-in nodes.

The stand-ins log which node ran with which run index and answer from a script, so each
test states n8n's rule it checks: which child runs first, what a node with no items does,
when an exit counts, and how a loop that never ends is stopped.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from functions.n8n.region import (
    SPLIT_IN_BATCHES,
    ExitFiredTwice,
    Link,
    Member,
    Region,
    RegionRunaway,
    Step,
    run_region,
)

Item = dict


def _item(value: object) -> Item:
    return {"json": {"v": value}}


def _fan_out(order: str) -> Region:
    """A sends to Low (y=300) and High (y=-100), both back to nothing; B at the same y
    as High but further right."""
    members = {"A": Member("A", "noOp", 1), "Low": Member("Low", "noOp", 1, (0, 300)),
               "High": Member("High", "noOp", 1, (0, -100)),
               "B": Member("B", "noOp", 1, (500, -100))}
    links = [Link("A", 0, "Low"), Link("A", 0, "B"), Link("A", 0, "High")]
    return Region(members, links, [("A", 0)], [], order)


def _echo(log: list[tuple[str, int]]) -> Callable[[Step], list[list[Item]]]:
    def run(step: Step) -> list[list[Item]]:
        log.append((step.node, step.run_index))
        return [step.inputs[0]]
    return run


@pytest.mark.parametrize(("order", "expected"), [
    ("v0", ["A", "Low", "B", "High"]),  # connection order, appended
    ("v1", ["A", "High", "B", "Low"]),  # top first, then left first
])
def test_children_run_in_connection_order_or_by_position(order: str,
                                                         expected: list[str]) -> None:
    log: list[tuple[str, int]] = []
    run_region(_fan_out(order), [[_item(1)]], _echo(log))
    assert [node for node, _ in log] == expected


def test_v1_runs_a_branch_to_its_end_before_the_next() -> None:
    members = {name: Member(name, "noOp", 1, (0, y))
               for name, y in [("A", 0), ("Top", 0), ("Top2", 0), ("Bottom", 100)]}
    links = [Link("A", 0, "Top"), Link("A", 0, "Bottom"), Link("Top", 0, "Top2")]
    log: list[tuple[str, int]] = []
    run_region(Region(members, links, [("A", 0)], [], "v1"), [[_item(1)]], _echo(log))
    assert [node for node, _ in log] == ["A", "Top", "Top2", "Bottom"]


def _counter_loop(limit: int, exits: list[tuple[str, int]], max_runs: int = 100) -> Region:
    members = {"Loop": Member("Loop", "if", 1), "Body": Member("Body", "noOp", 1)}
    return Region(members, [Link("Loop", 0, "Body"), Link("Body", 0, "Loop")],
                  [("Loop", 0)], exits, "v0", max_runs)


def _counting(limit: int, log: list[tuple[str, int]]) -> Callable[[Step], list[list[Item]]]:
    """Loop sends items to output 0 (the body) until its ``limit``-th run, then output 1."""
    def run(step: Step) -> list[list[Item]]:
        log.append((step.node, step.run_index))
        if step.node == "Loop":
            return [step.inputs[0], []] if step.run_index < limit else [[], step.inputs[0]]
        return [[_item(step.run_index)]]
    return run


def test_run_indexes_count_each_nodes_runs_from_the_base() -> None:
    log: list[tuple[str, int]] = []
    result = run_region(_counter_loop(2, [("Loop", 1)]), [[_item(0)]], _counting(2, log),
                        base_runs={"Body": 5})
    assert log == [("Loop", 0), ("Body", 5), ("Loop", 1), ("Body", 6), ("Loop", 2)]
    assert result.exits == [[_item(6)]] and result.runs == 5


def test_an_exit_that_never_fires_hands_out_no_items() -> None:
    result = run_region(_counter_loop(1, [("Body", 1)]), [[_item(0)]], _counting(1, []))
    assert result.exits == [[]]


def test_an_exit_firing_twice_is_a_typed_error_naming_the_node() -> None:
    with pytest.raises(ExitFiredTwice, match="'Body'") as caught:
        run_region(_counter_loop(3, [("Body", 0)]), [[_item(0)]], _counting(3, []))
    assert caught.value.error_type == "Sfnflow.LoopExitRepeated"


def test_a_loop_that_never_ends_stops_at_max_runs() -> None:
    log: list[tuple[str, int]] = []
    with pytest.raises(RegionRunaway, match="10 node runs") as caught:
        run_region(_counter_loop(10**9, [], max_runs=10), [[_item(0)]], _counting(10**9, log))
    assert len(log) == 10 and caught.value.error_type == "Sfnflow.LoopRunaway"


def test_a_loop_that_never_ends_stops_when_the_time_is_up() -> None:
    budget = iter([1.0, 1.0, 0.0])
    with pytest.raises(RegionRunaway, match="time ran out"):
        run_region(_counter_loop(10**9, []), [[_item(0)]], _counting(10**9, []),
                   time_left=lambda: next(budget))


def test_no_data_from_a_node_uses_no_run_index_and_starts_nothing() -> None:
    members = {"Loop": Member("Loop", SPLIT_IN_BATCHES, 1), "Body": Member("Body", "noOp", 1)}
    region = Region(members, [Link("Loop", 0, "Body"), Link("Body", 0, "Loop")],
                    [("Loop", 0)], [])
    log: list[tuple[str, int]] = []

    def run(step: Step) -> list[list[Item]] | None:
        log.append((step.node, step.run_index))
        assert step.state is not None or step.node == "Body"
        if step.node == "Loop" and len(log) > 1:
            return None
        return [step.inputs[0]]

    result = run_region(region, [[_item(0)]], run)
    assert log == [("Loop", 0), ("Body", 0), ("Loop", 1)] and result.runs == 3
    assert set(result.states) == {"Loop"}


def test_the_region_as_the_compiler_sends_it() -> None:
    region = Region.from_dict({
        "nodes": [{"name": "L", "type": SPLIT_IN_BATCHES, "typeVersion": 2,
                   "position": [10, 20]}],
        "links": [{"from": "L", "output": 0, "to": "L", "input": 0}],
        "entries": [{"node": "L", "input": 0}], "exits": [{"node": "L", "output": 1}],
        "executionOrder": "v1"})
    assert region.members["L"] == Member("L", SPLIT_IN_BATCHES, 2.0, (10, 20))
    assert region.links == [Link("L", 0, "L", 0)] and region.exits == [("L", 1)]
    assert region.entries == [("L", 0)] and region.execution_order == "v1"
