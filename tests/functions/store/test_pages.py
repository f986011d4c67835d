"""Pagination cursors (``functions.store.pages``): a cursor comes back from the client, so
anything but a key this API produced for this listing is ``BadCursor`` — never a key
handed to DynamoDB (a forged one made moto, and would make DynamoDB, fail: a 500)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from functions.store.models import ExecutionModel, WorkflowModel
from functions.store.pages import (
    BadCursor,
    decode_cursor,
    encode_cursor,
    key_schema,
    partition_key,
)
from functions.store.repository import Execution
from functions.store.workflows import WorkflowRecord, WorkflowRepository
from local.cloud import LocalCloud

SCHEMA = key_schema(ExecutionModel, ExecutionModel.by_workflow)
KEY = {"executionId": {"S": "e1"}, "workflowId": {"S": "wf"},
       "startedAt": {"S": "2026-01-01T00:00:00.000Z"}}


def _encoded(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_key_schema_names_the_table_and_index_keys() -> None:
    assert SCHEMA == {"executionId": "S", "workflowId": "S", "startedAt": "S"}
    assert partition_key(ExecutionModel.by_status) == "status"
    assert key_schema(WorkflowModel, WorkflowModel.by_kind) == {"workflowId": "S",
                                                                "kind": "S"}


def test_a_cursor_round_trips() -> None:
    assert decode_cursor(encode_cursor(KEY), SCHEMA, {"workflowId": "wf"}) == KEY


@pytest.mark.parametrize("cursor", [
    "eyJhIjoxfQ",  # {"a":1}: the forged cursor of the issue
    _encoded([1, 2]),
    _encoded(KEY | {"extra": {"S": "x"}}),
    _encoded({k: v for k, v in KEY.items() if k != "startedAt"}),
    _encoded(KEY | {"startedAt": {"N": "1"}}),  # wrong type
    _encoded(KEY | {"startedAt": {"S": ""}}),
    _encoded(KEY | {"startedAt": {"S": "x" * 2049}}),  # over DynamoDB's key size
    _encoded(KEY | {"startedAt": {"S": "\ud800"}}),  # a lone surrogate
    _encoded(KEY | {"startedAt": {"S": 5}}),
    _encoded(KEY | {"startedAt": {"S": "a", "N": "1"}}),
    "!!!", "é", "\x00", "a" * 9000, _encoded("[" * 3000),
])
def test_forged_and_garbled_cursors_are_bad_cursors(cursor: str) -> None:
    with pytest.raises(BadCursor) as raised:
        decode_cursor(cursor, SCHEMA, {"workflowId": "wf"})
    assert raised.value.field == "query.cursor"


def test_a_cursor_of_another_listing_is_a_bad_cursor() -> None:
    with pytest.raises(BadCursor, match="another listing"):
        decode_cursor(encode_cursor(KEY), SCHEMA, {"workflowId": "other"})


def test_listings_refuse_a_forged_cursor_before_querying(cloud: LocalCloud) -> None:
    repo = cloud.repository
    for i in range(3):
        repo.create_execution(Execution(f"e{i}", "wf", "RUNNING",
                                        f"2026-01-0{i + 1}T00:00:00.000Z"))
    page = repo.query_executions(workflow_id="wf", limit=2)
    assert page.cursor is not None
    assert [e.execution_id for e in repo.query_executions(
        workflow_id="wf", limit=2, cursor=page.cursor).items] == ["e0"]
    for forged in ("eyJhIjoxfQ", page.cursor[:-3]):
        with pytest.raises(BadCursor):
            repo.query_executions(workflow_id="wf", limit=2, cursor=forged)
    with pytest.raises(BadCursor):  # a cursor of one workflow's listing for another's
        repo.query_executions(workflow_id="other", limit=2, cursor=page.cursor)
    with pytest.raises(BadCursor):  # ... or of the unfiltered listing
        repo.query_executions(limit=2, cursor=page.cursor)


def test_the_workflow_listing_refuses_a_forged_cursor(cloud: LocalCloud) -> None:
    WorkflowRepository().create(WorkflowRecord("wf", 1, True, {}, {}, "arn", "t", "t"))
    with pytest.raises(BadCursor):
        WorkflowRepository().list(10, "eyJhIjoxfQ")
