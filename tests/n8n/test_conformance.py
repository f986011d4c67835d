"""n8n's own node-test workflows on the embedded cloud, one test each, judged as n8n does.

A workflow listed in ``expected_failures.json`` xfails with its reason while it fails and is
an error once it passes, so the list (and the docs table checked against it) stays true.
"""

from __future__ import annotations

from typing import Any

import pytest

from local.cloud import LocalCloud
from tests.n8n.corpus_index import offline_entries, path_of, short_name
from tests.n8n.expectations import NOW_PASSES, expected_failures
from tests.n8n.harness import run_file

ENTRIES = offline_entries()
EXPECTED = expected_failures()


def test_expected_failures_name_offline_workflows() -> None:
    assert set(EXPECTED) <= {short_name(entry) for entry in ENTRIES}


@pytest.mark.parametrize("entry", ENTRIES, ids=[short_name(e) for e in ENTRIES])
def test_workflow_as_n8n_judges_it(cloud: LocalCloud, entry: dict[str, Any]) -> None:
    name = short_name(entry)
    verdict = run_file(cloud, path_of(entry))
    if name in EXPECTED:
        if verdict.passed:
            pytest.fail(f"{name} {NOW_PASSES}")
        pytest.xfail(f"{EXPECTED[name]} [now: {verdict.describe()}]")
    assert verdict.passed, verdict.describe()
