"""``$('Node').item`` lineage over pairedItem (functions.n8n.lineage)."""

from __future__ import annotations

import pytest

from functions.n8n.lineage import PairedItemError, Source, trace_item


def _item(json: dict, pairing: object) -> dict:
    return {"json": json, "pairedItem": pairing}


# A and B feed Merge (inputs 0 and 1); Merge feeds Set.
OUTPUTS = {
    "A": [[_item({"a": 0}, {"item": 0}), _item({"a": 1}, {"item": 0})]],
    "B": [[_item({"b": 0}, {"item": 0})]],
    "Merge": [[
        _item({"m": 0}, [{"item": 1}, {"item": 0, "input": 1}]),
        _item({"m": 1}, {"item": 0, "input": 1}),
        _item({"m": 2}, [{"item": 0}, {"item": 1}]),
    ]],
}
SOURCES = {"Merge": [Source("A"), Source("B")], "Set": [Source("Merge")]}


def test_walks_back_through_a_merge_on_either_input() -> None:
    assert trace_item(OUTPUTS, SOURCES, "Set", 0, "A")["json"] == {"a": 1}
    assert trace_item(OUTPUTS, SOURCES, "Set", 0, "B")["json"] == {"b": 0}
    assert trace_item(OUTPUTS, SOURCES, "Set", 1, "Merge")["json"] == {"m": 1}


def test_no_path_and_ambiguous_paths_are_errors() -> None:
    with pytest.raises(PairedItemError, match="no path"):
        trace_item(OUTPUTS, SOURCES, "Set", 1, "A")  # item 1 came from B only
    with pytest.raises(PairedItemError, match="Multiple matching items"):
        trace_item(OUTPUTS, SOURCES, "Set", 2, "A")


def test_missing_items_are_reported() -> None:
    with pytest.raises(PairedItemError, match="unavailable"):
        trace_item(OUTPUTS, SOURCES, "Set", 7, "A")
