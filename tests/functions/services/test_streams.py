"""StreamService: WebSocket connections per execution and the progress posted to them, on
moto (its apigatewaymanagementapi backend keeps what was posted to each connection)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from functions.services.execution_control import ExecutionNotFound
from functions.services.progress import ProgressService
from functions.services.streams import PublishFailed, StreamService
from functions.store.repository import Execution
from functions.store.streams import StreamConnectionRepository
from functions.store.workflows import WorkflowRepository
from local.cloud import ACCOUNT, REGION, LocalCloud

ENDPOINT = f"https://abc123.execute-api.{REGION}.amazonaws.com/dev"


class FailingFor:
    """An apigatewaymanagementapi client whose posts to some connections fail with
    ``code`` (moto never answers GoneException); everything else goes to moto."""

    def __init__(self, client: Any, connection_ids: set[str], code: str = "GoneException"):
        self.client = client
        self.connection_ids = connection_ids
        self.code = code

    def post_to_connection(self, *, ConnectionId: str, Data: bytes) -> Any:  # noqa: N803
        if ConnectionId in self.connection_ids:
            raise ClientError({"Error": {"Code": self.code, "Message": "no"}},
                              "PostToConnection")
        return self.client.post_to_connection(ConnectionId=ConnectionId, Data=Data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def posted(connection_id: str) -> list[dict[str, Any]]:
    """Every message moto received for a connection (it concatenates their bytes)."""
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    connection = apigatewaymanagementapi_backends[ACCOUNT][REGION].connections.get(
        connection_id)
    text, decoder, messages = (connection.data.decode() if connection else ""), \
        json.JSONDecoder(), []
    while text:
        message, end = decoder.raw_decode(text)
        messages.append(message)
        text = text[end:]
    return messages


@pytest.fixture
def management(cloud: LocalCloud) -> Any:
    return boto3.client("apigatewaymanagementapi", region_name=REGION, endpoint_url=ENDPOINT)


def service_with(cloud: LocalCloud, management: Any) -> StreamService:
    return StreamService(cloud.repository,
                         ProgressService(cloud.repository, WorkflowRepository()),
                         StreamConnectionRepository(), management)


@pytest.fixture
def streams(cloud: LocalCloud, management: Any) -> Iterator[StreamService]:
    for execution_id in ("e1", "e2"):
        cloud.repository.create_execution(
            Execution(execution_id, "wf", "RUNNING", "2026-01-01T00:00:00.000Z"))
    yield service_with(cloud, management)


def append(cloud: LocalCloud, execution_id: str, event_type: str,
           node: str | None = None) -> dict[str, Any]:
    """Append a progress event and return it as stored (what the table's stream carries)."""
    repo = cloud.repository
    before = {e["seq"] for e in repo.progress_events(execution_id, limit=1000)}
    repo.append_progress(execution_id, event_type, node=node,
                         status="success" if node else None)
    [event] = [e for e in repo.progress_events(execution_id, limit=1000)
               if e["seq"] not in before]
    return {"executionId": execution_id, **event}


def test_connect_records_the_connection(streams: StreamService) -> None:
    streams.connect("e1", "c1")
    streams.connect("e1", "c2")
    assert sorted(c.connection_id for c in streams.connections.connections_of("e1")) == \
        ["c1", "c2"]
    assert streams.connections.connections_of("e2") == []


def test_connect_to_an_unknown_execution_is_refused(streams: StreamService) -> None:
    with pytest.raises(ExecutionNotFound):
        streams.connect("nope", "c1")
    assert streams.connections.connections_of("nope") == []


def test_disconnect_finds_the_execution_by_connection(streams: StreamService) -> None:
    streams.connect("e1", "c1")
    streams.connect("e1", "c2")
    streams.disconnect("c1")  # what $disconnect knows
    streams.disconnect("c2", "e1")
    streams.disconnect("never-connected")
    assert streams.connections.connections_of("e1") == []


def test_publish_reaches_every_connection_of_its_execution_only(
        cloud: LocalCloud, streams: StreamService) -> None:
    streams.connect("e1", "c1")
    streams.connect("e1", "c2")
    streams.connect("e2", "c3")
    events = [append(cloud, "e1", "nodeStarted", "A"), append(cloud, "e1", "nodeFinished", "A")]
    result = streams.publish(events)
    assert (result.events, result.posts, result.gone) == (2, 4, 0)
    page = streams.progress.events("e1")  # the events API's view of the same events
    expected = [{**event, "etaSeconds": page["etaSeconds"]} for event in page["items"]]
    assert [m["type"] for m in expected] == ["nodeStarted", "nodeFinished"]
    assert posted("c1") == expected
    assert posted("c2") == expected
    assert posted("c3") == []


def test_publish_without_watchers_posts_nothing(cloud: LocalCloud,
                                                streams: StreamService) -> None:
    result = streams.publish([append(cloud, "e2", "nodeStarted", "A")])
    assert (result.events, result.posts) == (0, 0)


def test_a_gone_connection_is_forgotten(cloud: LocalCloud, management: Any,
                                        streams: StreamService) -> None:
    streams.connect("e1", "c1")
    streams.connect("e1", "gone")
    service = service_with(cloud, FailingFor(management, {"gone"}))
    result = service.publish([append(cloud, "e1", "nodeStarted", "A")])
    assert (result.posts, result.gone) == (1, 1)
    assert [c.connection_id for c in service.connections.connections_of("e1")] == ["c1"]
    assert [m["node"] for m in posted("c1")] == ["A"]


def test_another_post_failure_fails_the_publish_and_keeps_the_connection(
        cloud: LocalCloud, management: Any, streams: StreamService) -> None:
    streams.connect("e1", "c1")
    service = service_with(cloud, FailingFor(management, {"c1"}, "LimitExceededException"))
    with pytest.raises(PublishFailed, match="LimitExceededException"):
        service.publish([append(cloud, "e1", "nodeStarted", "A")])
    assert [c.connection_id for c in service.connections.connections_of("e1")] == ["c1"]


def test_the_end_of_the_execution_closes_its_connections(
        cloud: LocalCloud, streams: StreamService) -> None:
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    streams.connect("e1", "c1")
    streams.publish([append(cloud, "e1", "nodeStarted", "A")])
    assert "c1" in apigatewaymanagementapi_backends[ACCOUNT][REGION].connections
    streams.publish([append(cloud, "e1", "executionFinished")])
    assert "c1" not in apigatewaymanagementapi_backends[ACCOUNT][REGION].connections
    assert streams.connections.connections_of("e1") == []
