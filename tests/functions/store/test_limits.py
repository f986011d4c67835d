"""DynamoDB's 400 KB item limit (``functions.store.limits``), measured before a write."""

from __future__ import annotations

import pytest

from functions.store.limits import ITEM_MAX_BYTES, ItemTooLarge, item_bytes, value_bytes
from functions.store.repository import Execution, NodeRun
from functions.store.workflows import WorkflowRecord, WorkflowRepository
from local.cloud import LocalCloud


@pytest.mark.parametrize(("value", "size"), [
    ({"S": "héllo"}, 6),
    ({"N": "123"}, 3),
    ({"N": "-0.000123"}, 3),
    ({"BOOL": True}, 1),
    ({"NULL": True}, 1),
    ({"L": [{"S": "ab"}, {"N": "1"}]}, 3 + (1 + 2) + (1 + 2)),
    ({"M": {"k": {"S": "v"}}}, 3 + 1 + 1 + 1),
])
def test_value_sizes_follow_dynamodb_rules(value: dict[str, object], size: int) -> None:
    assert value_bytes(value) == size


def test_an_item_counts_its_attribute_names() -> None:
    assert item_bytes({"name": {"S": "abc"}, "n": {"N": "1"}}) == 4 + 3 + 1 + 2


def test_an_execution_record_over_the_limit_is_refused_before_the_write(
        cloud: LocalCloud) -> None:
    """Without a payload bucket nothing stages a large input: the record would be over
    400 KB, which DynamoDB refuses with a ValidationException (a 500 at the API)."""
    execution = Execution("big", "wf", "RUNNING", "2026-01-01T00:00:00.000Z",
                          input={"items": [{"x": "a" * ITEM_MAX_BYTES}]})
    with pytest.raises(ItemTooLarge) as raised:
        cloud.repository.create_execution(execution)
    assert raised.value.what == "execution record" and raised.value.size > ITEM_MAX_BYTES
    assert cloud.repository.get_execution("big") is None


def test_a_node_run_with_a_huge_error_is_refused(cloud: LocalCloud) -> None:
    run = NodeRun("e", "N", "code", "error", "t", "t", 1,
                  error={"type": "X", "message": "m" * ITEM_MAX_BYTES})
    with pytest.raises(ItemTooLarge, match="node run record"):
        cloud.repository.record_node_run(run)


def test_a_workflow_too_large_for_an_item_is_refused_on_create_and_update(
        cloud: LocalCloud) -> None:
    workflows = WorkflowRepository()
    small = WorkflowRecord("wf", 1, True, {"name": "wf"}, {}, "arn", "t", "t")
    big = WorkflowRecord("wf", 2, True, {"name": "wf", "description": "d" * 450_000}, {},
                         "arn", "t", "t")
    with pytest.raises(ItemTooLarge, match="workflow record"):
        workflows.check_fits(big)
    with pytest.raises(ItemTooLarge):
        workflows.create(big)
    workflows.create(small)
    with pytest.raises(ItemTooLarge):
        workflows.update(big)
    stored = workflows.get("wf")
    assert stored is not None and stored.version == 1
