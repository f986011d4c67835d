"""The WebSocket route handler and the progress-stream publisher, as Lambda sees them: route
events shaped like API Gateway's, stream records read from moto's DynamoDB stream of the
progress table."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from functions.handlers import stream
from functions.services.streams import TOKEN_TTL_SECONDS
from functions.store.models import ProgressEventModel
from functions.store.repository import Execution
from local.cloud import REGION, LocalCloud
from local.moto_patches import InvokeContext

from ..services.test_streams import ENDPOINT, FailingFor, posted


@pytest.fixture
def handlers(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalCloud]:
    monkeypatch.setenv("SFNFLOW_STREAM_ENDPOINT", ENDPOINT)
    stream._service.cache_clear()
    stream._tokens.cache_clear()
    cloud.repository.create_execution(
        Execution("e1", "wf", "RUNNING", "2026-01-01T00:00:00.000Z"))
    yield cloud
    stream._service.cache_clear()


def route(route_key: str, connection_id: str,
          query: dict[str, str] | None = None) -> dict[str, Any]:
    event_type = route_key.removeprefix("$").upper()
    return {
        "headers": {"Host": "abc123.execute-api.us-east-1.amazonaws.com"} if query else None,
        "queryStringParameters": query,
        "requestContext": {
            "routeKey": route_key, "eventType": event_type, "connectionId": connection_id,
            "stage": "dev", "apiId": "abc123", "requestId": "r1",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "connectedAt": 1767225600000, "requestTimeEpoch": 1767225600000,
            "identity": {"sourceIp": "192.0.2.1"},
        },
        "isBase64Encoded": False,
    }


def connect(connection_id: str, query: dict[str, str] | None) -> dict[str, Any]:
    return stream.connections_handler(route("$connect", connection_id, query),
                                      InvokeContext("sfnflow-stream-connections"))


def stream_records() -> list[dict[str, Any]]:
    """Every record of the progress table's stream, as the Lambda event source gets them."""
    table = boto3.client("dynamodb", region_name=REGION).describe_table(
        TableName=ProgressEventModel.Meta.table_name)["Table"]
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"
    # botocore routes stream ARNs to an account endpoint moto does not serve: name its own
    streams = boto3.client("dynamodbstreams", region_name=REGION,
                           endpoint_url=f"https://streams.dynamodb.{REGION}.amazonaws.com")
    arn = table["LatestStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")
        for record in streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]:
            record["dynamodb"].pop("ApproximateCreationDateTime", None)
            records.append({**record, "eventSourceARN": arn, "awsRegion": REGION})
    return records


def token(execution_id: str, **kwargs: Any) -> str:
    """What ``POST /stream-tokens`` hands a client (signed with the cloud's KMS HMAC key)."""
    tokens = stream._tokens()
    assert tokens is not None
    return tokens.issue(execution_id, **kwargs).token


def test_connect_without_a_token_is_a_401(handlers: LocalCloud) -> None:
    """Browsers cannot send x-api-key on a WebSocket: the route needs no key, the token
    is the credential (the old ``?executionId=`` alone no longer opens a stream)."""
    for query in (None, {"executionId": "e1"}):
        response = connect("c1", query)
        assert response["statusCode"] == 401
        assert "token" in response["body"]
    assert stream._service().connections.connections_of("e1") == []


def test_a_forged_expired_or_other_executions_token_is_a_403(handlers: LocalCloud) -> None:
    handlers.repository.create_execution(
        Execution("e2", "wf", "RUNNING", "2026-01-01T00:00:00.000Z"))
    good = token("e1")
    claims, mac = good.split(".")
    other_claims = token("e2").split(".")[0]
    refused = {
        "forged": {"token": f"{other_claims}.{mac}"},  # e2's claims under e1's MAC
        "tampered": {"token": f"{claims}.{mac[:-2]}AA"},
        "garbage": {"token": "not-a-token"},
        "expired": {"token": token("e1", now=time.time() - TOKEN_TTL_SECONDS - 1)},
        "other execution": {"token": good, "executionId": "e2"},
    }
    for case, query in refused.items():
        response = connect("c1", query)
        assert response["statusCode"] == 403, case
        assert json.loads(response["body"])["error"]["type"] == "Forbidden", case
    assert stream._service().connections.connections_of("e1") == []
    assert connect("c1", {"token": good, "executionId": "e1"})["statusCode"] == 200


def test_a_hostile_token_is_a_403_not_a_500(handlers: LocalCloud) -> None:
    """Deeply nested claims (a RecursionError in the parser) and claims longer than KMS's
    4,096-byte message (a ValidationException from VerifyMac) were 500s."""
    mac = token("e1").split(".")[1]
    deep = base64.urlsafe_b64encode(b"[" * 50_000).decode().rstrip("=")
    long_claims = base64.urlsafe_b64encode(json.dumps(
        {"e": "e1", "x": int(time.time()) + 60, "pad": "x" * 5_000}).encode()).decode()
    for case, value in {"deep": f"{deep}.{mac}", "long": f"{long_claims.rstrip('=')}.{mac}",
                        "huge": "a" * 100_000}.items():
        response = connect("c1", {"token": value})
        assert response["statusCode"] == 403, case
        assert json.loads(response["body"])["error"]["type"] == "Forbidden", case


def test_connect_to_an_unknown_execution_is_a_404(handlers: LocalCloud) -> None:
    assert connect("c1", {"token": token("nope")})["statusCode"] == 404


def test_connect_then_disconnect(handlers: LocalCloud) -> None:
    assert connect("c1", {"token": token("e1")})["statusCode"] == 200
    service = stream._service()
    assert [c.connection_id for c in service.connections.connections_of("e1")] == ["c1"]
    response = stream.connections_handler(route("$disconnect", "c1"),
                                          InvokeContext("sfnflow-stream-connections"))
    assert response["statusCode"] == 200
    assert service.connections.connections_of("e1") == []


def test_publisher_posts_what_the_progress_stream_carries(handlers: LocalCloud) -> None:
    connect("c1", {"token": token("e1")})
    handlers.repository.append_progress("e1", "nodeStarted", node="A")
    handlers.repository.append_progress("e1", "nodeFinished", node="A", status="success")
    records = stream_records()
    assert [r["eventName"] for r in records] == ["INSERT", "INSERT"]
    response = stream.publisher_handler({"Records": records},
                                        InvokeContext("sfnflow-stream-publisher"))
    assert response == {"batchItemFailures": []}
    assert [(m["type"], m["node"]) for m in posted("c1")] == [("nodeStarted", "A"),
                                                              ("nodeFinished", "A")]


def test_publisher_reports_the_failed_records_only(handlers: LocalCloud,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    connect("c1", {"token": token("e1")})
    connect("c2", {"token": token("e2-missing")})  # refused: nothing recorded
    handlers.repository.create_execution(
        Execution("e2", "wf", "RUNNING", "2026-01-01T00:00:00.000Z"))
    connect("c2", {"token": token("e2")})
    handlers.repository.append_progress("e1", "nodeStarted", node="A")
    handlers.repository.append_progress("e2", "nodeStarted", node="B")
    service = stream._service()
    monkeypatch.setattr(service, "management",
                        FailingFor(service.management, {"c1"}, "InternalServerError"))
    records = stream_records()
    response = stream.publisher_handler({"Records": records},
                                        InvokeContext("sfnflow-stream-publisher"))
    failed = next(r for r in records if r["dynamodb"]["Keys"]["executionId"]["S"] == "e1")
    assert response == {"batchItemFailures": [
        {"itemIdentifier": failed["dynamodb"]["SequenceNumber"]}]}
    assert [m["node"] for m in posted("c2")] == ["B"]
