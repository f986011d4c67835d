"""Fixtures of the functions' tests: the metric values a test's code records."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from functions import metrics


class Collected:
    """A metrics sink that keeps ``(name, value, dimensions)`` of every value recorded."""

    def __init__(self) -> None:
        self.values: list[tuple[str, float, dict[str, str]]] = []

    def emit(self, metric: Any, value: float, dimensions: Any) -> None:
        self.values.append((metric.name, value, dict(dimensions)))

    @property
    def names(self) -> list[tuple[str, dict[str, str]]]:
        """``(name, dimensions)`` of every value, in order."""
        return [(name, dimensions) for name, _value, dimensions in self.values]


@pytest.fixture
def collected() -> Iterator[Collected]:
    sink = Collected()
    previous = metrics.use_sink(sink)
    yield sink
    metrics.use_sink(previous)
