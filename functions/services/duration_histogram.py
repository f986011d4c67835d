"""Execution durations as a fixed log-scale histogram, so percentiles can be kept
incrementally in DynamoDB (one counter per bucket) and merged across days by adding.

Bucket ``i`` holds durations in ``(GROWTH**(i-1), GROWTH**i]`` milliseconds, bucket 0 those
of at most 1 ms; ``GROWTH`` is 2**(1/8), eight buckets per doubling. The buckets are the
same for every workflow and day, so two histograms merge exactly (``merge``) and a day
range needs no raw durations. A year-long Standard execution lands in bucket ~280; a
histogram stores only the buckets it has seen.

A percentile is read by nearest rank (the smallest duration with at least p% of the
executions at or below it) and reported as the upper bound of the bucket holding it,
rounded up to a whole millisecond and capped by the exact maximum. The error is one-sided
and bounded: the reported value is never below the true one and at most
``GROWTH - 1`` (9.05 %) plus 1 ms above it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

GROWTH = 2 ** (1 / 8)
BUCKETS_PER_DOUBLING = 8
RELATIVE_ERROR = GROWTH - 1  # ~0.0905: the most a reported percentile exceeds the true one


def upper_bound(index: int) -> float:
    """The largest duration (ms) bucket ``index`` holds."""
    return float(GROWTH ** index)


def bucket_of(duration_ms: float) -> int:
    """The bucket holding ``duration_ms`` (negative durations, clock skew, count as 0)."""
    if duration_ms <= 1:
        return 0
    index = math.ceil(BUCKETS_PER_DOUBLING * math.log2(duration_ms))
    while upper_bound(index) < duration_ms:  # float rounding at an exact bound
        index += 1
    while index > 0 and upper_bound(index - 1) >= duration_ms:
        index -= 1
    return index


def merge(histograms: Iterable[Mapping[int, int]]) -> dict[int, int]:
    """The histogram of the union of the samples: counts added bucket by bucket."""
    merged: dict[int, int] = {}
    for histogram in histograms:
        for index, count in histogram.items():
            merged[index] = merged.get(index, 0) + int(count)
    return merged


def percentile(histogram: Mapping[int, int], fraction: float,
               maximum: float | None = None) -> int | None:
    """The ``fraction`` (0 < fraction <= 1) percentile in ms, None for no samples; see the
    module's note for its error. ``maximum`` (exact) caps the bucket's bound."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for index in sorted(histogram):
        seen += histogram[index]
        if seen >= rank:
            value = math.ceil(upper_bound(index) - 1e-9)  # 2**(8/8) is 2.0000000000000004
            return value if maximum is None else min(value, math.ceil(maximum))
    raise AssertionError("unreachable: the rank is at most the total")
