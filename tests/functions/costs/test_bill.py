"""Pricing a usage: components, nodes and the Express alternative add up."""

from __future__ import annotations

import pytest

from functions.costs.bill import EXPRESS_MEMORY_GB, express_seconds, price
from functions.costs.prices import PRICES
from functions.costs.usage import NodeUsage, Usage

P = PRICES["us-east-1"]


def usage(seconds: float = 0.25, waits: bool = False) -> Usage:
    return Usage(nodes={
        "A": NodeUsage(transitions=2, lambda_requests=1, lambda_gb_seconds=0.5,
                       write_units=3),
        "B": NodeUsage(transitions=1, write_units=2, s3_puts=1, s3_gets=1),
    }, execution_write_units=7, seconds=seconds, has_waits=waits)


def test_components_are_usage_times_prices_and_nodes_add_up_to_the_total() -> None:
    cost = price(usage(), "us-east-1")
    assert cost["components"]["stepFunctions"] == pytest.approx(3 * P.state_transition)
    assert cost["components"]["lambda"] == pytest.approx(
        P.lambda_request + 0.5 * P.lambda_gb_second)
    assert cost["components"]["dynamodb"] == pytest.approx(12 * P.dynamodb_write_unit)
    assert cost["components"]["s3"] == pytest.approx(P.s3_put + P.s3_get)
    nodes = sum(node["cost"] for node in cost["nodes"].values())
    assert nodes + 7 * P.dynamodb_write_unit == pytest.approx(cost["total"])
    assert cost["usage"]["stateTransitions"] == 3 and cost["prices"]["region"] == "us-east-1"


def test_express_rounds_the_duration_up_to_100_ms_and_refuses_runs_that_wait() -> None:
    assert express_seconds(0.25) == pytest.approx(0.3)
    assert express_seconds(0.3) == pytest.approx(0.3)
    cost = price(usage(0.25), "us-east-1")
    assert cost["express"]["stepFunctions"] == pytest.approx(
        P.express_request + 0.3 * EXPRESS_MEMORY_GB * P.express_gb_second)
    assert cost["express"]["possible"]
    assert not price(usage(waits=True), "us-east-1")["express"]["possible"]
    assert not price(usage(seconds=301), "us-east-1")["express"]["possible"]


def test_regional_prices_apply() -> None:
    frankfurt = price(usage(), "eu-central-1")
    assert frankfurt["components"]["s3"] == pytest.approx(
        PRICES["eu-central-1"].s3_put + PRICES["eu-central-1"].s3_get)
    assert frankfurt["components"]["s3"] != price(usage(), "us-east-1")["components"]["s3"]
