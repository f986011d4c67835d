"""Live progress in AWS: the WebSocket API's connections and what is posted to them.

A client opens the stage's wss URL with ``?executionId=``; ``connect`` records the
connection (refusing an execution that does not exist) and ``disconnect`` forgets it. Every
progress event the run data appends reaches ``publish`` through the progress table's
DynamoDB stream and is posted to each connection of its execution, shaped exactly as the
events API and the local SSE stream show it (``ProgressService.live``). A connection that
API Gateway reports gone is forgotten; after ``executionFinished`` the server closes the
execution's connections, as the SSE stream ends there.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from compiler.errors import SfnflowError
from functions.services.execution_control import ExecutionNotFound
from functions.services.progress import ProgressService
from functions.store.repository import RunRepository
from functions.store.streams import StreamConnection, StreamConnectionRepository

GONE = "GoneException"
FINISHED = "executionFinished"
TOKEN_TTL_SECONDS = 300  # long enough to open a socket; a reconnect asks for a new token
MAC_ALGORITHM = "HMAC_SHA_256"
# A token we issue is under 300 characters (an 80-character execution id at most); a longer
# one is not ours, and KMS's VerifyMac refuses a message over 4,096 bytes with an error.
TOKEN_MAX_CHARS = 1_024


class TokenInvalid(SfnflowError):
    """A stream token that is malformed, forged, expired or for another execution."""


@dataclass(frozen=True)
class StreamToken:
    token: str
    execution_id: str
    expires_at: int  # epoch seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class StreamTokens:
    """Short-lived tokens that let a browser open the WebSocket (it cannot send the
    ``x-api-key`` header): ``POST /stream-tokens`` (API key required) issues one for one
    execution, ``$connect?token=`` verifies it. A token is ``<claims>.<mac>``, claims
    ``{"e": executionId, "x": expiry}`` (base64url JSON) and the MAC from a KMS HMAC key:
    the key never leaves KMS; the API may only GenerateMac, the connect handler only
    VerifyMac. Safe in a URL (base64url, no padding)."""

    def __init__(self, kms: Any, key_id: str, ttl_seconds: int = TOKEN_TTL_SECONDS) -> None:
        self.kms = kms
        self.key_id = key_id
        self.ttl_seconds = ttl_seconds

    def issue(self, execution_id: str, now: float | None = None) -> StreamToken:
        expires = int(now if now is not None else time.time()) + self.ttl_seconds
        claims = _b64(json.dumps({"e": execution_id, "x": expires},
                                 separators=(",", ":")).encode())
        mac = self.kms.generate_mac(KeyId=self.key_id, Message=claims.encode(),
                                    MacAlgorithm=MAC_ALGORITHM)["Mac"]
        return StreamToken(f"{claims}.{_b64(mac)}", execution_id, expires)

    def verify(self, token: str, now: float | None = None) -> str:
        """The execution the token lets its holder watch; raises ``TokenInvalid``."""
        if len(token) > TOKEN_MAX_CHARS:
            raise TokenInvalid("the stream token is malformed")
        try:
            claims_text, mac_text = token.split(".")
            claims = json.loads(_unb64(claims_text))
            execution_id, expires = str(claims["e"]), int(claims["x"])
            mac = _unb64(mac_text)
        except (ValueError, KeyError, TypeError, RecursionError, binascii.Error) as exc:
            raise TokenInvalid("the stream token is malformed") from exc
        if expires < (now if now is not None else time.time()):
            raise TokenInvalid("the stream token has expired: ask POST /stream-tokens "
                               "for a new one")
        try:
            valid = self.kms.verify_mac(KeyId=self.key_id, Message=claims_text.encode(),
                                        MacAlgorithm=MAC_ALGORITHM, Mac=mac)["MacValid"]
        except ClientError as exc:
            if _error_code(exc) != "KMSInvalidMacException":
                raise
            valid = False
        if not valid:
            raise TokenInvalid("the stream token's signature is not valid")
        return execution_id


class PublishFailed(SfnflowError):
    """Posting to a live connection failed for another reason than it being gone: the
    stream record is reported failed and delivered again (clients skip seqs they saw)."""


@dataclass(frozen=True)
class Published:
    events: int = 0  # events posted to at least one connection
    posts: int = 0
    gone: int = 0  # connections found gone and forgotten


class StreamService:
    """``management`` is an ``apigatewaymanagementapi`` client on the stage's callback URL;
    the ``$connect``/``$disconnect`` handler, which never posts, may leave it out."""

    def __init__(self, runs: RunRepository, progress: ProgressService,
                 connections: StreamConnectionRepository, management: Any = None) -> None:
        self.runs = runs
        self.progress = progress
        self.connections = connections
        self.management = management

    def connect(self, execution_id: str, connection_id: str) -> None:
        if self.runs.get_execution(execution_id) is None:
            raise ExecutionNotFound(f"execution {execution_id!r} does not exist")
        self.connections.save(StreamConnection(execution_id, connection_id))

    def disconnect(self, connection_id: str, execution_id: str | None = None) -> None:
        """Forget a connection. ``$disconnect`` carries no query string, so without
        ``execution_id`` the connection's record is found through its index."""
        watched = [execution_id] if execution_id else \
            self.connections.executions_watched_by(connection_id)
        for execution in watched:
            self.connections.delete(execution, connection_id)

    def publish(self, events: Iterable[Mapping[str, Any]]) -> Published:
        """Post progress events (items as stored: ``executionId`` and ``seq`` name them) to
        the connections watching their executions, oldest first."""
        by_execution: dict[str, list[str]] = defaultdict(list)
        for event in events:
            by_execution[str(event["executionId"])].append(str(event["seq"]))
        total = Published()
        for execution_id, seqs in by_execution.items():
            result = self._publish(execution_id, seqs)
            total = Published(total.events + result.events, total.posts + result.posts,
                              total.gone + result.gone)
        return total

    def _publish(self, execution_id: str, seqs: list[str]) -> Published:
        watchers = self.connections.connections_of(execution_id)
        if not watchers:
            return Published()  # the common case: nobody is watching, nothing to read
        try:
            messages = self.progress.live(execution_id, seqs)
        except LookupError:
            return Published()  # the execution's record is gone (retention): nothing to show
        finished = any(message["type"] == FINISHED for message in messages)
        posts = gone = 0
        failures: set[str] = set()
        for connection in watchers:
            posted, error = self._deliver(connection, messages)
            posts += posted
            if error == GONE:
                self.connections.delete(connection.execution_id, connection.connection_id)
                gone += 1
            elif error is not None:
                failures.add(error)
            elif finished:
                self._close(connection)
        if failures:
            raise PublishFailed(f"posting progress of execution {execution_id!r} failed: "
                                f"{', '.join(sorted(failures))}")
        return Published(len(messages), posts, gone)

    def _deliver(self, connection: StreamConnection,
                 messages: list[dict[str, Any]]) -> tuple[int, str | None]:
        """Post the messages in order, stopping at the first failure: how many were
        posted, and the failure's error code (None when all were)."""
        for posted, message in enumerate(messages):
            try:
                self.management.post_to_connection(
                    ConnectionId=connection.connection_id,
                    Data=json.dumps(message, default=str).encode())
            except ClientError as exc:
                return posted, _error_code(exc)
        return len(messages), None

    def _close(self, connection: StreamConnection) -> None:
        """The execution ended: close the socket (its ``$disconnect`` then finds nothing).
        Best effort: a socket that stays open is closed by API Gateway's idle timeout, and
        its record by TTL."""
        try:
            self.management.delete_connection(ConnectionId=connection.connection_id)
        except ClientError as exc:
            if _error_code(exc) != GONE:
                return
        self.connections.delete(connection.execution_id, connection.connection_id)


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code") or "ClientError")
