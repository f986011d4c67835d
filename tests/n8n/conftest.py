"""One embedded cloud per test module (per xdist worker): starting one costs seconds, a
conformance run a fraction of one. Workflows of the same name update one state machine,
as a redeploy would; each run reads only its own execution's run data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local import moto_patches
from local.cloud import LocalCloud
from tests.conftest import TIME_SCALE


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(time_scale=TIME_SCALE) as local_cloud:
        yield local_cloud


@pytest.fixture(autouse=True)
def scaled_clock(request: pytest.FixtureRequest) -> None:
    if "cloud" in request.fixturenames:
        moto_patches.set_time_scale(TIME_SCALE)  # other modules' tests may have changed it
