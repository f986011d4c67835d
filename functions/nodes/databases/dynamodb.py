"""The dynamodb node: get, put, update, delete an item by key, or query by key — one
request (a query: its pages) per input item, parameters evaluated per item.

Items are plain JSON both ways: numbers go to DynamoDB as exact decimals (a float through
its shortest text, so 0.1 stays 0.1) and come back as numbers, sets as lists, binary as
base64 (``values.json_value``).

Every request asks for ``ReturnConsumedCapacity: TOTAL``; the node adds the capacity up
per table and hands it to the runner with the run (``ctx.extras["consumedCapacity"]``, and
one line in the run's logs, which the run data keeps today).

Errors are translated at this boundary: throttling (and DynamoDB's transient 5xx) is
``Sfnflow.RateLimited``, retried by default; a failed condition
``Sfnflow.ConditionalCheckFailed``; a missing table ``Sfnflow.TableNotFound`` naming it;
anything else DynamoDB refuses ``Sfnflow.DatabaseError``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from functions.errors import ConnectionFailed, RateLimited
from functions.expressions import Item
from functions.nodes.base import Executor, NodeContext, Ports, register
from functions.nodes.databases.errors import ConditionalCheckFailed, DatabaseError, TableNotFound
from functions.nodes.databases.values import json_value
from functions.nodes.items import main_input

CLIENT_KEY = "dynamodb"  # ctx.extras: a boto3 DynamoDB client (tests); default: the region's
THROTTLED = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException",
                       "RequestLimitExceeded", "InternalServerError",
                       "ServiceUnavailable", "LimitExceededException"})


def default_client() -> Any:
    """A client for this node run: made on use (a runner without dynamodb nodes makes
    none) and not kept, so it always belongs to the current account and endpoint (the
    embedded cloud starts a new one per test)."""
    import boto3

    from functions.config import Config

    return boto3.client("dynamodb", region_name=Config.from_env().region)


def _decimals(value: Any) -> Any:
    """JSON numbers as DynamoDB's exact numbers (boto3 refuses floats)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, dict):
        return {key: _decimals(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decimals(item) for item in value]
    return value


class Codec:
    """JSON <-> DynamoDB's typed attribute values."""

    def __init__(self) -> None:
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

        self._serializer, self._deserializer = TypeSerializer(), TypeDeserializer()

    def encode(self, item: dict[str, Any]) -> dict[str, Any]:
        return {key: self._serializer.serialize(_decimals(value)) for key, value in item.items()}

    def decode(self, item: dict[str, Any]) -> Item:
        return {key: json_value(_plain(self._deserializer.deserialize(value)))
                for key, value in item.items()}


def _plain(value: Any) -> Any:
    """Sets become sorted lists and Binary its bytes, before ``json_value``."""
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(item) for item in value), key=lambda item: (str(type(item)), item))
    if hasattr(value, "value") and isinstance(value.value, (bytes, bytearray)):
        return bytes(value.value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


class Capacity:
    """Consumed capacity units, added up per table (and per index) over the node's requests."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, float]] = {}
        self.requests = 0

    def add(self, response: dict[str, Any]) -> None:
        self.requests += 1
        consumed = response.get("ConsumedCapacity")
        for entry in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
            totals = self.tables.setdefault(entry.get("TableName", "?"), {})
            for field, name in (("CapacityUnits", "capacityUnits"),
                                ("ReadCapacityUnits", "readCapacityUnits"),
                                ("WriteCapacityUnits", "writeCapacityUnits")):
                if field in entry:
                    totals[name] = totals.get(name, 0.0) + float(entry[field])

    def summary(self) -> dict[str, Any]:
        return {"requests": self.requests, "tables": self.tables}


@contextmanager
def translated(node: str, table: str, operation: str) -> Iterator[None]:
    from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

    where = f"node {node!r}: dynamodb {operation} on table {table!r}"
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", str(exc))
        if code in THROTTLED:
            raise RateLimited(f"{where} was throttled ({code}): {message}") from None
        if code == "ConditionalCheckFailedException":
            raise ConditionalCheckFailed(f"{where}: the condition did not hold") from None
        if code == "ResourceNotFoundException":
            raise TableNotFound(f"{where}: the table (or index) does not exist: {message}") \
                from None
        raise DatabaseError(f"{where} failed ({code}): {message}") from None
    except (ConnectionError, ReadTimeoutError) as exc:
        raise ConnectionFailed(f"{where}: DynamoDB could not be reached: {exc}") from None


def _common(params: Any, codec: Codec) -> dict[str, Any]:
    request: dict[str, Any] = {"TableName": params.table, "ReturnConsumedCapacity": "TOTAL"}
    if params.expressionAttributeNames:
        request["ExpressionAttributeNames"] = dict(params.expressionAttributeNames)
    if params.expressionAttributeValues:
        request["ExpressionAttributeValues"] = codec.encode(params.expressionAttributeValues)
    return request


def _key(params: Any, codec: Codec) -> dict[str, Any]:
    return {"Key": codec.encode(params.key)}


def _get(client: Any, params: Any, codec: Codec, item: Item,
         capacity: Capacity) -> list[Item]:
    request = _common(params, codec) | _key(params, codec)
    request["ConsistentRead"] = params.consistentRead
    if params.projectionExpression:
        request["ProjectionExpression"] = params.projectionExpression
    response = client.get_item(**request)
    capacity.add(response)
    return [codec.decode(response["Item"])] if "Item" in response else []


def _put(client: Any, params: Any, codec: Codec, item: Item,
         capacity: Capacity) -> list[Item]:
    written = params.item if params.item is not None else item
    request = _common(params, codec) | {"Item": codec.encode(written)}
    if params.conditionExpression:
        request["ConditionExpression"] = params.conditionExpression
    if params.returnValues:
        request["ReturnValues"] = params.returnValues
    response = client.put_item(**request)
    capacity.add(response)
    if params.returnValues == "ALL_OLD":
        return [codec.decode(response.get("Attributes") or {})]
    return [dict(written)]


def _update(client: Any, params: Any, codec: Codec, item: Item,
            capacity: Capacity) -> list[Item]:
    request = _common(params, codec) | _key(params, codec)
    request["UpdateExpression"] = params.updateExpression
    request["ReturnValues"] = params.returnValues or "ALL_NEW"
    if params.conditionExpression:
        request["ConditionExpression"] = params.conditionExpression
    response = client.update_item(**request)
    capacity.add(response)
    return [codec.decode(response.get("Attributes") or {})]


def _delete(client: Any, params: Any, codec: Codec, item: Item,
            capacity: Capacity) -> list[Item]:
    request = _common(params, codec) | _key(params, codec)
    request["ReturnValues"] = params.returnValues or "ALL_OLD"
    if params.conditionExpression:
        request["ConditionExpression"] = params.conditionExpression
    response = client.delete_item(**request)
    capacity.add(response)
    return [codec.decode(response["Attributes"])] if response.get("Attributes") else []


def _query(client: Any, params: Any, codec: Codec, item: Item,
           capacity: Capacity) -> list[Item]:
    request = _common(params, codec)
    request.update(KeyConditionExpression=params.keyConditionExpression,
                   ScanIndexForward=params.scanIndexForward,
                   ConsistentRead=params.consistentRead)
    for field, name in (("indexName", "IndexName"), ("filterExpression", "FilterExpression"),
                        ("projectionExpression", "ProjectionExpression")):
        if getattr(params, field):
            request[name] = getattr(params, field)
    out: list[Item] = []
    while len(out) < params.limit:
        response = client.query(**request, Limit=params.limit - len(out))
        capacity.add(response)
        out.extend(codec.decode(found) for found in response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            break
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return out


OPERATIONS: dict[str, Callable[[Any, Any, Codec, Item, Capacity], list[Item]]] = {
    "get": _get, "put": _put, "update": _update, "delete": _delete, "query": _query}


@register
class DynamoDb(Executor):
    type_name = "dynamodb"

    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        client = ctx.extras.get(CLIENT_KEY) or default_client()
        codec, capacity = Codec(), Capacity()
        out: list[Item] = []
        try:
            for index, item in enumerate(main_input(inputs)):
                params: Any = ctx.params(item, index)
                with translated(ctx.node_name, params.table, params.operation):
                    out.extend(OPERATIONS[params.operation](client, params, codec, item,
                                                            capacity))
        finally:  # what ran is recorded, also when a later item failed
            ctx.extras["consumedCapacity"] = capacity.summary()
            logs = ctx.extras.setdefault("logs", [])
            logs.append("dynamodb consumed capacity: "
                        + json.dumps(capacity.summary(), sort_keys=True))
        return [out]
