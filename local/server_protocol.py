"""uvicorn's HTTP/1.1 protocol (h11) with the local gateway's answers to broken requests.

uvicorn answers a request h11 cannot parse (``Content-Length: abc``, a header block over
its buffer, a request line that is not HTTP) with a plain-text 400. API Gateway answers
in JSON, with the status the problem deserves; so does this protocol: h11's
``error_status_hint`` (431 for headers too large — 414 when it is the request line that
is too long — else 400) and the API's error shape, then the connection is closed.
Malformed requests are answered, not logged.

It also bounds the time a client may take to send a request's head: uvicorn waits for
it forever on a new connection (its keep-alive timer only runs between requests), so a
client trickling header bytes would hold its connection for good. After ``head_timeout``
seconds without a complete head, the connection gets a 408 (if it sent anything) and is
closed. The body's own time limit is the application's (``local.server``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from h11._connection import DEFAULT_MAX_INCOMPLETE_EVENT_SIZE
from uvicorn.protocols.http.h11_impl import STATUS_PHRASES, H11Protocol

from local.server_errors import TYPES, error_body, error_headers

HEAD_TIMEOUT_SECONDS = 10.0
MAX_LINE_BYTES = 10_240 + 64  # a URL at API Gateway's quota, with method and version
_quiet = logging.getLogger(__name__)
_quiet.setLevel(logging.ERROR)  # a hostile client's bad requests are not server news


class _Connection(h11.Connection):
    """Remembers the parse error h11 raised: uvicorn catches it and keeps only a text."""

    refusal: h11.RemoteProtocolError | None = None

    def next_event(self) -> Any:
        try:
            return super().next_event()
        except h11.RemoteProtocolError as exc:
            self.refusal = exc
            raise


class GatewayProtocol(H11Protocol):
    head_timeout = HEAD_TIMEOUT_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.logger = _quiet
        self._parser = _Connection(h11.SERVER, self.config.h11_max_incomplete_event_size
                                   or DEFAULT_MAX_INCOMPLETE_EVENT_SIZE)
        self.conn = self._parser
        self._head_timer: asyncio.TimerHandle | None = None
        self._bytes_since_response = 0
        self._line_bytes: int | None = 0  # of the request line so far; None once whole

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._bytes_since_response += len(data)
        if self._line_bytes is not None:
            end = data.find(b"\n")
            self._line_bytes += len(data) if end < 0 else end
            if end >= 0 and self._line_bytes <= MAX_LINE_BYTES:
                self._line_bytes = None
        super().data_received(data)

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and not self.cycle.response_complete:
            self._stop_head_timer()  # a request is in: its body is the app's to time

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._bytes_since_response = 0
            self._line_bytes = 0
            self._await_head()

    def send_400_response(self, msg: str) -> None:
        if self.cycle is not None and self.cycle.response_started \
                and not self.cycle.response_complete:
            self.transport.close()  # mid-answer: a second status line would garble it
            return
        refusal = self._parser.refusal
        status = refusal.error_status_hint if refusal is not None else 400
        if status == 431 and self._line_bytes is not None:
            status = 414  # it is the request line (the URL) that overflowed h11's buffer
        detail = str(refusal) if refusal is not None and str(refusal) else msg
        self._refuse(status, f"malformed HTTP request: {detail}")

    # ------------------------------------------------------------------ the head's deadline

    def _await_head(self) -> None:
        self._stop_head_timer()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being served
        if self._bytes_since_response:
            self._refuse(408, f"the request's head did not arrive within "
                              f"{self.head_timeout:g} s")
        else:
            self.transport.close()  # an idle connection: nothing to answer

    def _refuse(self, status: int, message: str) -> None:
        """Answer ``status`` in JSON and close, whatever state h11 is in."""
        body = error_body(TYPES.get(status, "BadRequest"), message)
        headers = error_headers() | {"Content-Length": str(len(body)), "Connection": "close"}
        head = (f"HTTP/1.1 {status} ".encode() + STATUS_PHRASES.get(status, b"") + b"\r\n"
                + "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode("latin-1")
                + b"\r\n")
        self.transport.write(head + body)
        self.transport.close()
