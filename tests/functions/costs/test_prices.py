"""The price table: every region the brief names, with its date and sources."""

from __future__ import annotations

from dataclasses import fields

from functions.config import Config
from functions.costs.prices import (
    DEFAULT_REGION,
    PRICES,
    READ_ON,
    UNCONFIRMED,
    Prices,
    describe,
    prices_for,
)


def test_the_regions_and_the_stacks_default_are_priced() -> None:
    assert {"us-east-1", "eu-west-1", "eu-central-1"} <= PRICES.keys()
    assert Config().region == DEFAULT_REGION in PRICES


def test_every_price_is_a_positive_per_unit_figure() -> None:
    for prices in PRICES.values():
        for field in fields(Prices):
            assert 0 < getattr(prices, field.name) < 0.001, field.name


def test_unconfirmed_figures_name_real_regions_and_fields() -> None:
    names = {field.name for field in fields(Prices)}
    assert all(region in PRICES and name in names for region, name in UNCONFIRMED)


def test_a_region_not_in_the_table_is_priced_as_the_default_and_says_so() -> None:
    region, prices = prices_for("ap-south-2")
    assert (region, prices) == (DEFAULT_REGION, PRICES[DEFAULT_REGION])
    shown = describe("ap-south-2")
    assert shown["region"] == DEFAULT_REGION and shown["readOn"] == READ_ON
    assert "s3_put" in shown["unconfirmed"]
