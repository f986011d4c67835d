import pytest

from compiler.nodetypes import NODE_TYPES
from functions.errors import ParameterError
from functions.nodes import EXECUTORS, get_executor

from .support import context, run

# Lowered to states of their own; the node runner never runs them.
STRUCTURAL = {name for name, spec in NODE_TYPES.items()
              if spec.lowering in ("loop", "subworkflow", "while", "jump")}


def test_every_runnable_node_type_has_an_executor() -> None:
    assert set(EXECUTORS) == set(NODE_TYPES) - STRUCTURAL


def test_unknown_type_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError, match="no executor for node type 'nope'"):
        get_executor("nope")


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        (None, [{}]),
        ({"items": [{"a": 1}, 2]}, [{"a": 1}, {"value": 2}]),
        ({"a": 1, "pinned": True, "mode": "manual"}, [{"a": 1}]),
        ({"items": "not a list"}, [{"items": "not a list"}]),
        ([{"a": 1}, "x"], [{"a": 1}, {"value": "x"}]),
        ([], []),
        ("hello", [{"value": "hello"}]),
    ],
)
def test_manual_trigger_items(trigger: object, expected: list[dict]) -> None:
    assert run("manualTrigger", {}, extras={"trigger": trigger}) == [expected]


def test_manual_trigger_without_extras() -> None:
    ctx = context("manualTrigger")
    assert get_executor("manualTrigger").run([], ctx) == [[{}]]


def test_manual_trigger_copies_its_input() -> None:
    trigger = {"items": [{"a": {"b": 1}}]}
    [[item]] = run("manualTrigger", {}, extras={"trigger": trigger})
    item["a"]["b"] = 2
    assert trigger["items"][0]["a"]["b"] == 1
