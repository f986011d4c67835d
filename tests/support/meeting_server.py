"""A loopback HTTP server whose answers prove that requests were in flight together, with
no sleeps: ``GET /together/{n}?i=I`` waits at a barrier of ``n`` requests and answers
``{"i": I}`` once ``n`` are waiting (the n-th arrival releases them all), or 504 after
``TOGETHER_SECONDS`` if they never are (requests sent one at a time). ``/fail?i=I``
answers 500.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

from tests.support.loopback import JsonHandler, serving

TOGETHER_SECONDS = 1.0


class _Meeting(JsonHandler):
    barriers: dict[int, threading.Barrier] = {}
    lock = threading.Lock()

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        url = urlsplit(self.path)
        index = parse_qs(url.query).get("i", ["?"])[0]
        status = 200
        if url.path.startswith("/together/"):
            size = int(url.path.rsplit("/", 1)[1])
            with self.lock:
                barrier = self.barriers.setdefault(
                    size, threading.Barrier(size, timeout=TOGETHER_SECONDS))
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                barrier.reset()
                status = 504
        elif url.path == "/fail":
            status = 500
        self.reply(status, {"i": int(index) if index.isdigit() else index})


@contextmanager
def meeting_server() -> Iterator[str]:
    """The server's base URL while the block runs."""
    with serving(_Meeting) as base:
        yield base
