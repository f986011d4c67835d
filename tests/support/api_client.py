"""The REST API over loopback, with its key, as a user's client calls it (the tests of
``sfnflow serve``'s platform subclass it with the waits they need)."""

from __future__ import annotations

from typing import Any

import requests


class ApiClient:
    key = "test-key"

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.headers["x-api-key"] = self.key

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.url + path, timeout=30, **kwargs)
