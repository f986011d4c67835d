"""The n8n example (n8n's exported JSON, unchanged) runs end to end on the embedded cloud."""

from __future__ import annotations

import pytest

from compiler import compile_workflow, load_file
from local.cloud import LocalCloud
from tests.examples.test_examples import EXAMPLES, run_example

N8N_EXAMPLES = sorted(path.name for path in EXAMPLES.glob("*.json"))


def test_n8n_orders_routes_sorts_and_reads_lineage(cloud: LocalCloud) -> None:
    report = run_example(cloud, "n8n-orders.json")
    assert report["status"] == "SUCCEEDED", report["error"]
    largest = [item["json"] for item in report["output"]["Largest first"]]
    assert largest == [
        {"customer": "ada", "total": 250, "note": "order of ADA ships today", "orderedAs": "ada"},
        {"customer": "cy", "total": 180, "note": "order of CY ships today", "orderedAs": "cy"}]
    assert [item["json"]["customer"] for item in report["output"]["Standard"]] == ["bob", "di"]


@pytest.mark.parametrize("example", N8N_EXAMPLES)
def test_n8n_examples_compile_to_valid_asl(example: str) -> None:
    from tests.support.asl_validator import assert_valid_asl

    assert_valid_asl(compile_workflow(load_file(EXAMPLES / example)))
