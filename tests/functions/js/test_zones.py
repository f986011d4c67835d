"""Time zones without Intl: offset tables from zoneinfo, used by Luxon in expressions and in the
Code node (which cannot call Python under its time limit). Expected values are Luxon's own
answers under node's full Intl for the same calls."""

from __future__ import annotations

from functions.js.code_node import run_code
from functions.js.expressions import evaluate
from functions.js.run_data import NodeRunData
from functions.js.zones import transitions, zone_names

NOW = 1704164645000  # 2024-01-02T03:04:05Z


def data(zone: str) -> NodeRunData:
    return NodeRunData(node="N", input_items=[{"json": {}}], timezone=zone, now_millis=NOW)


def test_transition_table_has_both_dst_changes_of_a_year() -> None:
    table = transitions("Europe/Berlin")
    assert table is not None
    instants, offsets = table
    in_2024 = [
        o for t, o in zip(instants, offsets, strict=True) if 1704067200000 <= t < 1735689600000
    ]
    assert in_2024 == [120, 60]
    assert transitions("Not/AZone") is None


def test_zone_names_are_found_as_string_literals_only() -> None:
    assert zone_names(["$now.setZone('America/New_York')", "x = 'Not/AZone' + 'Asia/' + y"]) == {
        "America/New_York"
    }


def test_code_node_uses_the_workflow_zone_and_literal_zones() -> None:
    code = (
        "return {t: $now.toISO(), s: $now.set({month: 7}).toISO(),"
        " ny: $now.setZone('America/New_York').toISO()}"
    )
    assert run_code(data("Europe/Berlin"), code).items[0]["json"] == {
        "t": "2024-01-02T04:04:05.000+01:00",
        "s": "2024-07-02T04:04:05.000+02:00",
        "ny": "2024-01-01T22:04:05.000-05:00",
    }


def test_dst_gaps_and_overlaps_match_luxon_with_intl() -> None:
    expression = (
        "={{ DateTime.fromISO('1950-07-01T12:00', {zone: 'America/New_York'}).offset }} "
        "{{ DateTime.fromISO('2024-03-10T02:30', {zone: 'America/New_York'}).toISO() }} "
        "{{ DateTime.fromISO('2024-11-03T01:30', {zone: 'America/New_York'}).toISO() }}"
    )
    assert evaluate(data("UTC"), expression) == (
        "-240 2024-03-10T03:30:00.000-04:00 2024-11-03T01:30:00.000-05:00"
    )


def test_expression_with_a_computed_zone_falls_back_to_python() -> None:
    assert (
        evaluate(data("UTC"), "={{ $now.setZone('Asia/' + 'Tokyo').toISO() }}")
        == "2024-01-02T12:04:05.000+09:00"
    )
