"""The agent's model tokens: kept on the run, counted per node, priced in the bill
(``functions.costs.prices.MODEL_PRICES``); an unknown model is counted and priced 0."""

from __future__ import annotations

import pytest

from functions.costs.bill import price
from functions.costs.prices import MODEL_PRICES, model_cost, model_key
from functions.costs.usage import Usage, count_runs
from functions.store.repository import NodeRun


def run(node: str, usage: dict[str, dict[str, int]] | None) -> NodeRun:
    return NodeRun(execution_id="e1", node=node, node_type="agent", status="success",
                   started_at="2026-12-03T00:00:00Z", finished_at="2026-12-03T00:00:01Z",
                   duration_ms=1000, model_usage=usage)


def tokens(inputs: int, outputs: int, calls: int = 1) -> dict[str, int]:
    return {"inputTokens": inputs, "outputTokens": outputs, "totalTokens": inputs + outputs,
            "modelCalls": calls}


@pytest.mark.parametrize(("model", "key"), [
    ("openai:gpt-4o-mini", "gpt-4o-mini"),
    ("openai:gpt-4o-2024-08-06", "gpt-4o"),
    ("bedrock:us.anthropic.claude-3-5-haiku-20241022-v1:0", "anthropic.claude-3-5-haiku"),
    ("bedrock:amazon.nova-lite-v1:0", "amazon.nova-lite"),
    ("openai:gpt-test", None),
])
def test_a_model_is_priced_by_its_longest_known_prefix(model: str, key: str | None) -> None:
    assert model_key(model) == key


def test_tokens_cost_their_price_per_million() -> None:
    per_input, per_output = MODEL_PRICES["gpt-4o-mini"]
    assert model_cost("openai:gpt-4o-mini", 2_000_000, 1_000_000) == pytest.approx(
        2 * per_input + per_output)
    assert model_cost("openai:gpt-test", 10, 10) is None


def test_the_bill_has_a_model_component_by_node() -> None:
    usage = Usage()
    count_runs([run("Ask", {"openai:gpt-4o-mini": tokens(1000, 500)}),
                run("Ask", {"openai:gpt-4o-mini": tokens(3000, 500, 2)}),
                run("Plain", None)], set(), usage)
    cost = price(usage, "us-east-1")
    per_input, per_output = MODEL_PRICES["gpt-4o-mini"]
    expected = (4000 * per_input + 1000 * per_output) / 1_000_000
    assert cost["components"]["model"] == pytest.approx(expected)
    assert cost["nodes"]["Ask"]["modelTokens"]["openai:gpt-4o-mini"] == tokens(4000, 1000, 3) | {
        "cost": pytest.approx(expected)}
    assert "modelTokens" not in cost["nodes"]["Plain"]
    assert cost["total"] == pytest.approx(sum(cost["components"].values()), rel=1e-6)
    assert sum(node["cost"] for node in cost["nodes"].values()) < cost["total"]
    assert any("gpt-4o-mini" in note and "not confirmed" in note for note in cost["notes"])


def test_an_unknown_model_is_counted_in_tokens_and_priced_zero_with_a_note() -> None:
    usage = Usage()
    count_runs([run("Ask", {"openai:gpt-test": tokens(70, 30)})], set(), usage)
    cost = price(usage, "us-east-1")
    assert cost["components"]["model"] == 0
    assert cost["usage"]["modelTokens"] == {"openai:gpt-test": tokens(70, 30)}
    assert cost["nodes"]["Ask"]["modelTokens"]["openai:gpt-test"]["cost"] == 0
    assert cost["notes"] == ["model openai:gpt-test: no price known; its tokens are "
                             "counted and priced 0"]
