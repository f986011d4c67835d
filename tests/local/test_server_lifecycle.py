"""The local HTTP server starts and stops fast and leaves nothing behind (tests start many),
and a platform that fails to deploy its folder frees the port it bound (issue 11)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from compiler.errors import WorkflowInvalid
from local.serve import LocalPlatform
from local.server import ApiGateway, LocalServer


def _answer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "body": "{}"}


def _settled(before: set[threading.Thread], seconds: float = 2) -> set[str]:
    deadline = time.monotonic() + seconds
    while True:
        left = {t.name for t in threading.enumerate() if t not in before}
        if not left or time.monotonic() > deadline:
            return left


def test_servers_start_and_stop_fast_and_leave_no_thread_or_port() -> None:
    before = set(threading.enumerate())
    started = time.monotonic()
    for _ in range(5):
        with LocalServer(ApiGateway(_answer, _answer, None)) as server:
            assert requests.get(server.url + "/workflows", timeout=5).status_code == 200
            address = server.socket.getsockname()
            # An idle keep-alive connection and a stalled upload do not hold the stop.
            idle = socket.create_connection(address)
            stalled = socket.create_connection(address)
            stalled.sendall(b"POST /webhook/x HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n")
        idle.close()
        stalled.close()
        with pytest.raises(OSError):
            socket.create_connection(address, timeout=1).close()
    assert time.monotonic() - started < 5 * 0.6
    assert _settled(before) == set()


def test_a_platform_that_fails_to_deploy_frees_its_port(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"name": "broken", "nodes": [{"name": "A", '
                                          '"type": "noSuchType"}], "connections": []}')
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    platform = LocalPlatform(port=port, workflows=tmp_path)
    with pytest.raises(WorkflowInvalid):
        platform.__enter__()
    with socket.create_server(("127.0.0.1", port)):
        pass  # bindable again
