"""$('Node').item through n8n's item lineage across Set-, Merge-, Aggregate- and loop-like run
data (positions are (run, output, index) in the referenced node's run data)."""

from __future__ import annotations

import pytest

from functions.js.expressions import evaluate
from functions.js.paired_items import PairedItemError, resolve
from functions.js.run_data import NodeRunData, Source, TaskData


def items(*values: object, paired: list[object] | None = None) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for index, value in enumerate(values):
        item: dict[str, object] = {"json": {"v": value}}
        if paired is not None:
            item["pairedItem"] = paired[index]
        out.append(item)
    return out


def link(*targets: str) -> dict[str, object]:
    return {"main": [[{"node": t, "type": "main", "index": 0} for t in targets]]}


def test_set_like_chain_resolves_through_intermediate_node() -> None:
    run_data = {
        "A": [TaskData(outputs=[items("a0", "a1", "a2")])],
        "Set": [
            TaskData(
                outputs=[items("s0", "s1", "s2", paired=[{"item": 0}, 1, {"item": 2}])],
                source=[Source("A")],
            )
        ],
    }
    data = NodeRunData(
        node="Probe",
        input_items=items("s0", "s1", "s2"),
        sources=[Source("Set")],
        run_data=run_data,
        connections={"A": link("Set"), "Set": link("Probe")},
    )
    assert resolve(data, "A", 2) == (0, 0, 2)
    assert resolve(data, "Set", 1) == (0, 0, 1)
    assert evaluate(data, "={{ $('A').item.json.v }}", 1) == "a1"


def merge_data(merged: list[dict[str, object]]) -> NodeRunData:
    run_data = {
        "A": [TaskData(outputs=[items("a0", "a1")])],
        "B": [TaskData(outputs=[items("b0", "b1")])],
        "Merge": [TaskData(outputs=[merged], source=[Source("A"), Source("B")])],
    }
    return NodeRunData(
        node="Probe",
        input_items=[{"json": i["json"]} for i in merged],
        sources=[Source("Merge")],
        run_data=run_data,
        connections={"A": link("Merge"), "B": link("Merge"), "Merge": link("Probe")},
    )


def test_merge_append_follows_the_input_each_item_came_from() -> None:
    appended = items(
        "a0", "a1", "b0", "b1", paired=[0, 1, {"item": 0, "input": 1}, {"item": 1, "input": 1}]
    )
    data = merge_data(appended)
    assert resolve(data, "B", 3) == (0, 0, 1)
    assert resolve(data, "A", 1) == (0, 0, 1)
    with pytest.raises(PairedItemError, match="from node 'B' is unavailable"):
        resolve(data, "A", 3)  # B's items carry no lineage further back, as n8n reports


def test_merge_combine_reaches_both_inputs() -> None:
    combined = items("a1+b0", paired=[[{"item": 1, "input": 0}, {"item": 0, "input": 1}]])
    data = merge_data(combined)
    assert resolve(data, "A", 0) == (0, 0, 1)
    assert resolve(data, "B", 0) == (0, 0, 0)
    assert evaluate(data, "={{ $('A').item.json.v }}+{{ $('B').item.json.v }}") == "a1+b0"


def test_aggregate_like_item_with_several_ancestors_is_ambiguous() -> None:
    run_data = {
        "A": [TaskData(outputs=[items("a0", "a1")])],
        "Agg": [TaskData(outputs=[items("all", paired=[[0, 1]])], source=[Source("A")])],
    }
    data = NodeRunData(
        node="Probe",
        input_items=items("all"),
        sources=[Source("Agg")],
        run_data=run_data,
        connections={"A": link("Agg"), "Agg": link("Probe")},
    )
    with pytest.raises(PairedItemError, match="Multiple matches"):
        resolve(data, "A", 0)


def test_missing_paired_item_names_the_node() -> None:
    run_data = {
        "A": [TaskData(outputs=[items("a0")])],
        "Code": [TaskData(outputs=[items("c0")], source=[Source("A")])],
    }
    data = NodeRunData(
        node="Probe",
        input_items=items("c0"),
        sources=[Source("Code")],
        run_data=run_data,
        connections={"A": link("Code"), "Code": link("Probe")},
    )
    with pytest.raises(PairedItemError, match="from node 'Code' is unavailable"):
        resolve(data, "A", 0)


def test_loop_like_second_run_resolves_into_the_second_batch() -> None:
    src = items("x0", "x1", "x2", "x3")
    loop_runs = [
        TaskData(outputs=[[], items("x0", "x1", paired=[0, 1])], source=[Source("Src")]),
        TaskData(outputs=[[], items("x2", "x3", paired=[2, 3])], source=[Source("Src")]),
    ]
    data = NodeRunData(
        node="Body",
        input_items=items("x2", "x3"),
        run_index=1,
        sources=[Source("Loop", previous_node_output=1, previous_node_run=1)],
        run_data={"Src": [TaskData(outputs=[src])], "Loop": loop_runs},
        connections={
            "Src": link("Loop"),
            "Loop": {"main": [[], [{"node": "Body", "type": "main", "index": 0}]]},
            "Body": link("Loop"),
        },
    )
    assert resolve(data, "Src", 1) == (0, 0, 3)
    assert resolve(data, "Loop", 0) == (1, 1, 0)
    assert evaluate(data, "={{ $('Src').item.json.v }}", 0) == "x2"
    assert evaluate(data, "={{ $runIndex }}") == 1


def test_item_of_a_node_not_upstream_is_refused_but_its_output_is_readable() -> None:
    data = NodeRunData(
        node="P",
        input_items=items("x"),
        sources=[Source("A")],
        run_data={"A": [TaskData(outputs=[items("a0")])], "B": [TaskData(outputs=[items("b0")])]},
        connections={"A": link("P")},
    )
    with pytest.raises(PairedItemError, match="no path back"):
        resolve(data, "B", 0)
    assert evaluate(data, "={{ $('B').first().json.v }}") == "b0"
