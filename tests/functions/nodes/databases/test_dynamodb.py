"""The dynamodb node against moto's DynamoDB (one table per module), and DynamoDB's
throttling answer, which moto never gives, through botocore's Stubber."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from compiler import compile_workflow
from compiler.errors import WorkflowInvalid
from functions.errors import ParameterError, RateLimited
from functions.nodes.base import Ports
from functions.nodes.databases.errors import ConditionalCheckFailed, TableNotFound

from ..support import context, run

ITEMS = [{"pk": "ada", "sk": 1, "amount": 0.1, "tags": ["x"], "address": {"zip": 1.5}},
         {"pk": "ada", "sk": 2, "amount": 30},
         {"pk": "bob", "sk": 1, "amount": 12}]


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="orders", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                       {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "N"}])
        yield dynamodb


def dynamo(client: Any, params: dict[str, Any], items: list[dict],
           extras: dict[str, Any] | None = None) -> Ports:
    extras = {"dynamodb": client} if extras is None else extras | {"dynamodb": client}
    return run("dynamodb", {"table": "orders", **params}, items, extras=extras)


def test_put_then_get_round_trips_json(client: Any) -> None:
    assert dynamo(client, {"operation": "put"}, ITEMS) == [ITEMS]
    key = {"pk": "{% $json.pk %}", "sk": "{% $json.sk %}"}
    [got] = dynamo(client, {"operation": "get", "key": key}, ITEMS[:2])
    assert got == ITEMS[:2]  # 0.1 stays 0.1, nested numbers and lists too


def test_get_of_a_missing_key_outputs_nothing(client: Any) -> None:
    assert dynamo(client, {"operation": "get", "key": {"pk": "zed", "sk": 9}},
                  [{}]) == [[]]


def test_query_by_key_pages_up_to_the_limit(client: Any) -> None:
    dynamo(client, {"operation": "put"}, ITEMS)
    params = {"operation": "query", "keyConditionExpression": "pk = :pk",
              "expressionAttributeValues": {":pk": "{% $json.who %}"},
              "scanIndexForward": False}
    [found] = dynamo(client, params, [{"who": "ada"}, {"who": "bob"}])
    assert [(item["pk"], item["sk"]) for item in found] == [("ada", 2), ("ada", 1),
                                                            ("bob", 1)]
    [limited] = dynamo(client, params | {"limit": 1}, [{"who": "ada"}])
    assert [item["sk"] for item in limited] == [2]


def test_update_returns_the_new_item_and_delete_the_old(client: Any) -> None:
    dynamo(client, {"operation": "put"}, ITEMS[2:])
    [updated] = dynamo(client, {
        "operation": "update", "key": {"pk": "bob", "sk": 1},
        "updateExpression": "SET #a = #a + :d", "expressionAttributeNames": {"#a": "amount"},
        "expressionAttributeValues": {":d": "{% $json.add %}"}}, [{"add": 0.5}])
    assert updated == [{"pk": "bob", "sk": 1, "amount": 12.5}]
    [deleted] = dynamo(client, {"operation": "delete", "key": {"pk": "bob", "sk": 1}}, [{}])
    assert deleted == [{"pk": "bob", "sk": 1, "amount": 12.5}]
    assert dynamo(client, {"operation": "get", "key": {"pk": "bob", "sk": 1}}, [{}]) == [[]]


def test_consumed_capacity_is_handed_to_the_run(client: Any) -> None:
    ctx = context("dynamodb", {"table": "orders", "operation": "put"}, ITEMS[:2],
                  extras={"dynamodb": client})
    from functions.nodes import get_executor

    get_executor("dynamodb").run([ITEMS[:2]], ctx)
    capacity = ctx.extras["consumedCapacity"]
    assert capacity["requests"] == 2
    assert capacity["tables"]["orders"]["capacityUnits"] > 0
    assert ctx.extras["logs"][-1].startswith("dynamodb consumed capacity: ")


def test_a_failed_condition_is_typed_and_not_retryable(client: Any) -> None:
    dynamo(client, {"operation": "put"}, ITEMS[:1])
    with pytest.raises(ConditionalCheckFailed, match="node 'Node'.*'orders'") as caught:
        dynamo(client, {"operation": "put", "conditionExpression":
                        "attribute_not_exists(pk)"}, ITEMS[:1])
    assert caught.value.error_type == "Sfnflow.ConditionalCheckFailed"
    assert not caught.value.retryable


def test_a_missing_table_says_which(client: Any) -> None:
    with pytest.raises(TableNotFound, match="'no-such-table'"):
        dynamo(client, {"operation": "get", "table": "no-such-table",
                        "key": {"pk": "a", "sk": 1}}, [{}])


def test_throttling_is_retryable() -> None:
    throttled = boto3.client("dynamodb", region_name="us-east-1",
                             aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(throttled) as stub:
        stub.add_client_error("get_item", "ProvisionedThroughputExceededException",
                              "Rate of requests exceeds the allowed throughput.")
        with pytest.raises(RateLimited, match="throttled") as caught:
            dynamo(throttled, {"operation": "get", "key": {"pk": "a", "sk": 1}}, [{}])
    assert caught.value.error_type == "Sfnflow.RateLimited" and caught.value.retryable


def test_a_key_expression_that_is_no_object_names_the_node(client: Any) -> None:
    with pytest.raises(ParameterError, match="node 'Node', item 0"):
        dynamo(client, {"operation": "get", "key": "{% $json.pk %}"}, [{"pk": "ada"}])


def test_validation_names_the_node_and_field() -> None:
    with pytest.raises(WorkflowInvalid) as caught:
        compile_workflow({
            "name": "ddb-bad",
            "nodes": [{"name": "Start", "type": "manualTrigger"},
                      {"name": "Save", "type": "dynamodb",
                       "parameters": {"operation": "update", "table": "orders",
                                      "key": {"pk": "a"}}}],
            "connections": [{"from": "Start", "to": "Save"}]})
    assert "Save" in str(caught.value) and "updateExpression" in str(caught.value)
