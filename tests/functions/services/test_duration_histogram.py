"""The log-scale duration histogram: buckets, merging, and percentiles within the
documented error of the exact nearest-rank percentile (``duration_histogram``)."""

from __future__ import annotations

import math
import random

import pytest

from functions.services import duration_histogram as h


def exact(samples: list[int], fraction: float) -> int:
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def histogram(samples: list[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for sample in samples:
        counts[h.bucket_of(sample)] = counts.get(h.bucket_of(sample), 0) + 1
    return counts


@pytest.mark.parametrize("duration", [0, 1, 2, 3, 7, 8, 9, 100, 1000, 4096, 65_535,
                                      86_400_000, 31_536_000_000])
def test_a_duration_lies_in_its_bucket(duration: int) -> None:
    index = h.bucket_of(duration)
    assert duration <= h.upper_bound(index)
    assert index == 0 or h.upper_bound(index - 1) < duration


def test_bucket_bounds_grow_by_the_documented_factor() -> None:
    assert h.bucket_of(2) == 8 and h.bucket_of(1024) == 80  # eight buckets per doubling
    assert h.upper_bound(1) / h.upper_bound(0) == pytest.approx(1 + h.RELATIVE_ERROR)
    assert h.bucket_of(-5) == 0  # clock skew counts as no time


def test_no_samples_have_no_percentile() -> None:
    assert h.percentile({}, 0.5) is None


def test_percentiles_are_never_below_and_at_most_the_error_above_the_true_value() -> None:
    rng = random.Random(13)
    for _ in range(200):
        samples = [int(rng.lognormvariate(6, 2)) for _ in range(rng.randint(1, 300))]
        counts, maximum = histogram(samples), max(samples)
        for fraction in (0.5, 0.95, 0.99, 1.0):
            true = exact(samples, fraction)
            reported = h.percentile(counts, fraction, maximum)
            assert reported is not None
            assert true <= reported <= true * (1 + h.RELATIVE_ERROR) + 1, (fraction, samples)
        assert h.percentile(counts, 1.0, maximum) == maximum  # the maximum caps the bound


def test_merged_histograms_read_as_one_of_all_samples() -> None:
    first, second = [5, 50, 500, 5000], [7, 70, 700]
    merged = h.merge([histogram(first), histogram(second)])
    assert merged == histogram(first + second)
    assert h.percentile(merged, 0.5) == h.percentile(histogram(first + second), 0.5)
