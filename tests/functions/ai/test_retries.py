from datetime import UTC, datetime

import pytest

from functions.ai.retries import retry_after


@pytest.mark.parametrize(("headers", "expected"), [
    ({"retry-after": "3"}, 3.0),
    ({"retry-after": "0.5"}, 0.5),
    ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
    ({"retry-after": "Thu, 03 Dec 2026 20:00:07 GMT"}, 7.0),
    ({"retry-after": "Thu, 03 Dec 2026 19:59:00 GMT"}, 0.0),  # in the past: at once
    ({"retry-after": "soon"}, None),
    ({}, None),
])
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    now = datetime(2026, 12, 3, 20, 0, 0, tzinfo=UTC)
    assert retry_after(headers, now) == expected
