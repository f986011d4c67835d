"""WebSocket connections watching executions: the only code touching
``StreamConnectionModel``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from functions.store.models import StreamConnectionModel
from functions.store.repository import utc_now

# API Gateway closes a WebSocket connection after two hours; a record outliving that (its
# $disconnect was lost) is removed by DynamoDB TTL, or by the first post that finds it gone.
MAX_CONNECTION_SECONDS = 2 * 3600


@dataclass(frozen=True)
class StreamConnection:
    execution_id: str
    connection_id: str
    connected_at: str = field(default_factory=utc_now)


def _connection(model: StreamConnectionModel) -> StreamConnection:
    return StreamConnection(execution_id=model.executionId, connection_id=model.connectionId,
                            connected_at=model.connectedAt)


class StreamConnectionRepository:
    """Tables are bound by ``RunRepository`` (``bind_tables``); build one of those first."""

    def save(self, connection: StreamConnection) -> None:
        StreamConnectionModel(
            executionId=connection.execution_id, connectionId=connection.connection_id,
            connectedAt=connection.connected_at,
            expiresAt=int(time.time()) + MAX_CONNECTION_SECONDS,
        ).save()

    def connections_of(self, execution_id: str) -> list[StreamConnection]:
        return [_connection(model) for model in StreamConnectionModel.query(execution_id)]

    def executions_watched_by(self, connection_id: str) -> list[str]:
        """The execution a connection watches (a list: the index is eventually consistent
        and API Gateway never reuses a connection id, so it holds one entry at most)."""
        return [model.executionId
                for model in StreamConnectionModel.by_connection.query(connection_id)]

    def delete(self, execution_id: str, connection_id: str) -> None:
        """Forget a connection; deleting one already gone is not an error."""
        StreamConnectionModel(execution_id, connection_id).delete()
